"""Utility features: electricity use and its trend, late utility payments."""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.risk.features.tables import UTILITIES_MONTHLY, MarketTables
from puhui.risk.features.windows import HISTORY_MONTHS, count_in, known, log_ratio, sum_in


def utility_features(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    kwh = "electricity_kwh"
    return (
        known(tables[UTILITIES_MONTHLY], as_of)
        .filter(pl.col("lag") <= HISTORY_MONTHS)
        .with_columns(pl.col(kwh).cast(pl.Float64))
        .group_by("uscc")
        .agg(
            pl.when(count_in(1, 6) == 6)
            .then(log_ratio(sum_in(kwh, 1, 3), sum_in(kwh, 4, 6)))
            .alias("electricity_growth_3m"),
            # Use last month against the peak of the twelve months before it.
            pl.when(count_in(2, 13) >= 6)
            .then(
                pl.col(kwh).filter(pl.col("lag") == 1).first()
                / (pl.col(kwh).filter(pl.col("lag").is_between(2, 13)).max() + 1.0)
            )
            .alias("electricity_vs_peak"),
            pl.col("late_payment")
            .filter(pl.col("lag") <= 12)
            .sum()
            .cast(pl.Float64)
            .alias("utility_late_payments_12m"),
            pl.when((count_in(1, 1) == 1) & (count_in(13, 13) == 1))
            .then(log_ratio(sum_in(kwh, 1, 1), sum_in(kwh, 13, 13)))
            .alias("electricity_growth_1m_yoy"),
            pl.when((count_in(1, 3) == 3) & (count_in(13, 15) == 3))
            .then(log_ratio(sum_in(kwh, 1, 3), sum_in(kwh, 13, 15)))
            .alias("electricity_growth_3m_yoy"),
            pl.col("late_payment")
            .filter(pl.col("lag") <= 3)
            .sum()
            .cast(pl.Float64)
            .alias("utility_late_payments_3m"),
            pl.col("late_payment").cast(pl.Float64).mean().alias("utility_late_payment_rate"),
            # Electricity follows activity more tightly than declared sales (less noise, no
            # under-reporting): the last quarter against the firm's own year.
            pl.when(count_in(1, 12) == 12)
            .then(log_ratio(4.0 * sum_in(kwh, 1, 3), sum_in(kwh, 1, 12)))
            .alias("electricity_3m_vs_12m"),
            pl.when(count_in(1, 12) == 12)
            .then(log_ratio(12.0 * sum_in(kwh, 1, 1), sum_in(kwh, 1, 12)))
            .alias("electricity_1m_vs_12m"),
            pl.when(count_in(1, 24) == 24)
            .then(log_ratio(2.0 * sum_in(kwh, 1, 12), sum_in(kwh, 1, 24)))
            .alias("electricity_12m_vs_24m"),
            sum_in(kwh, 1, 12).alias("_kwh_12m"),
        )
    )
