"""Tax features: declared sales, their growth and swings, late filings, arrears, grade."""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.risk.features.tables import TAX_MONTHLY, MarketTables
from puhui.risk.features.windows import (
    FEN_SMOOTHING,
    HISTORY_MONTHS,
    count_in,
    known,
    log_ratio,
    sum_in,
)


def tax_features(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    sales = "declared_sales_fen"
    recent = pl.col("lag").is_between(1, 12)
    return (
        known(tables[TAX_MONTHLY], as_of)
        .filter(pl.col("lag") <= HISTORY_MONTHS)
        .with_columns(pl.col(sales).cast(pl.Float64))
        .group_by("uscc")
        .agg(
            pl.when(count_in(1, 6) == 6)
            .then(log_ratio(sum_in(sales, 1, 3), sum_in(sales, 4, 6)))
            .alias("sales_growth_3m"),
            pl.when(count_in(1, 12) == 12)
            .then(log_ratio(sum_in(sales, 1, 6), sum_in(sales, 7, 12)))
            .alias("sales_growth_6m"),
            # Same three months a year earlier: growth net of the season.
            pl.when((count_in(1, 3) == 3) & (count_in(13, 15) == 3))
            .then(log_ratio(sum_in(sales, 1, 3), sum_in(sales, 13, 15)))
            .alias("sales_growth_yoy"),
            pl.when(count_in(1, 12) >= 6)
            .then(
                pl.col(sales).filter(recent).std()
                / (pl.col(sales).filter(recent).mean() + FEN_SMOOTHING)
            )
            .alias("sales_volatility_12m"),
            (sum_in(sales, 1, 12).fill_null(0.0) / 100.0).log1p().alias("sales_12m_log"),
            sum_in(sales, 1, 12).alias("_sales_12m"),
            pl.col("late_filing")
            .filter(recent)
            .sum()
            .cast(pl.Float64)
            .alias("tax_late_filings_12m"),
            (
                pl.col("arrears_fen").filter(pl.col("lag") == 1).first().cast(pl.Float64)
                / (sum_in(sales, 1, 12).fill_null(0.0) / 12.0 + FEN_SMOOTHING)
            ).alias("tax_arrears_ratio"),
            pl.col("tax_credit_grade").filter(pl.col("lag") == 1).first().alias("tax_grade"),
            # Distress shows first in the latest month: against the same month a year earlier.
            pl.when((count_in(1, 1) == 1) & (count_in(13, 13) == 1))
            .then(log_ratio(sum_in(sales, 1, 1), sum_in(sales, 13, 13)))
            .alias("sales_growth_1m_yoy"),
            # Recent year-on-year growth net of the firm's own annual trend: a decline, not a
            # slow-growing firm.
            pl.when(
                (count_in(1, 3) == 3)
                & (count_in(13, 15) == 3)
                & (count_in(1, 12) == 12)
                & (count_in(13, 24) == 12)
            )
            .then(
                log_ratio(sum_in(sales, 1, 3), sum_in(sales, 13, 15))
                - log_ratio(sum_in(sales, 1, 12), sum_in(sales, 13, 24))
            )
            .alias("sales_yoy_3m_vs_12m"),
            pl.when(count_in(1, 6) == 6)
            .then(log_ratio(6.0 * sum_in(sales, 1, 1), sum_in(sales, 1, 6)))
            .alias("sales_1m_vs_6m"),
            pl.col("late_filing")
            .filter(pl.col("lag") <= 3)
            .sum()
            .cast(pl.Float64)
            .alias("tax_late_filings_3m"),
            # The long-run share of late returns estimates the firm's usual health.
            pl.col("late_filing").cast(pl.Float64).mean().alias("tax_late_filing_rate"),
            (pl.col(sales) == 0)
            .filter(pl.col("lag") <= 3)
            .sum()
            .cast(pl.Float64)
            .alias("tax_zero_filings_3m"),
            (pl.col("arrears_fen") > 0)
            .filter(recent)
            .sum()
            .cast(pl.Float64)
            .alias("tax_arrears_months_12m"),
            pl.col("tax_credit_grade")
            .filter(pl.col("lag") == 13)
            .first()
            .alias("tax_grade_previous"),
        )
    )
