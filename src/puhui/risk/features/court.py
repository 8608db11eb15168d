"""Court features: cases as defendant, new filings, executed and dishonest listings."""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.risk.features.tables import COURT_CASES, MarketTables
from puhui.risk.features.windows import HISTORY_MONTHS, known


def court_features(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    events = known(tables[COURT_CASES], as_of)
    return events.group_by("uscc").agg(
        pl.col("case_id")
        .filter(
            (pl.col("role") == "defendant") & (pl.col("event") == "filed") & (pl.col("lag") <= 24)
        )
        .n_unique()
        .cast(pl.Float64)
        .alias("court_defendant_cases_24m"),
        (pl.col("event") == "executed_listed")
        .any()
        .cast(pl.Float64)
        .alias("court_executed_listed"),
        (pl.col("event") == "dishonest_listed")
        .any()
        .cast(pl.Float64)
        .alias("court_dishonest_listed"),
        pl.col("case_id")
        .filter((pl.col("event") == "filed") & (pl.col("lag") <= 6))
        .n_unique()
        .cast(pl.Float64)
        .alias("court_cases_filed_6m"),
        pl.col("case_id")
        .filter((pl.col("event") == "filed") & (pl.col("lag") <= HISTORY_MONTHS))
        .n_unique()
        .cast(pl.Float64)
        .alias("court_cases_filed_36m"),
    )
