"""Credit bureau features: overdues, enquiries and loans at other lenders."""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.risk.features.tables import BUREAU, MarketTables
from puhui.risk.features.windows import HISTORY_MONTHS, known


def bureau_features(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    last = pl.col("lag") == 1
    six = pl.col("lag") <= 6
    return (
        known(tables[BUREAU], as_of)
        .filter(pl.col("lag") <= HISTORY_MONTHS)
        .with_columns(pl.col("other_lender_balance_fen").cast(pl.Float64))
        .group_by("uscc")
        .agg(
            pl.col("overdue_loans")
            .filter(last)
            .first()
            .cast(pl.Float64)
            .alias("bureau_overdue_loans"),
            pl.col("max_days_past_due")
            .filter(six)
            .max()
            .cast(pl.Float64)
            .alias("bureau_max_dpd_6m"),
            pl.col("hard_enquiries")
            .filter(six)
            .sum()
            .cast(pl.Float64)
            .alias("bureau_enquiries_6m"),
            pl.col("hard_enquiries")
            .filter(last)
            .sum()
            .cast(pl.Float64)
            .alias("bureau_enquiries_1m"),
            pl.col("hard_enquiries")
            .filter(pl.col("lag") <= 3)
            .sum()
            .cast(pl.Float64)
            .alias("bureau_enquiries_3m"),
            # Loans taken on recently: last month's count above the year's lowest.
            (
                pl.col("other_lender_loans").filter(last).first()
                - pl.col("other_lender_loans").filter(pl.col("lag") <= 12).min()
            )
            .cast(pl.Float64)
            .alias("bureau_new_loans_12m"),
            (pl.col("overdue_loans") > 0)
            .filter(pl.col("lag") <= 3)
            .sum()
            .cast(pl.Float64)
            .alias("bureau_overdue_months_3m"),
            (pl.col("overdue_loans") > 0).cast(pl.Float64).mean().alias("bureau_overdue_rate"),
            pl.col("other_lender_balance_fen").filter(last).first().alias("_bureau_balance"),
            pl.col("other_lender_loans")
            .filter(last)
            .first()
            .cast(pl.Float64)
            .alias("bureau_other_loans"),
        )
    )
