"""Training labels from the market's true need events: was there a need in the horizon, and what.

The truth is read for labels (and, in evaluation, scores) only, never as a feature.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.risk.features import month_start_plus
from puhui.risk.need.calendar import NEED_HORIZON_MONTHS

NEED_EVENT_COLUMNS = ("uscc", "month", "amount_fen", "duration_months")


def need_labels(need_events: pl.LazyFrame, as_of: date) -> pl.DataFrame:
    """Per enterprise with a need in ``as_of``+1 .. ``as_of``+3: its first need in that window.

    Columns: ``uscc``, ``need_month`` (Date), ``need_amount_fen`` (Int64),
    ``need_duration_months`` (Int32), ``needs_in_horizon`` (UInt32). Enterprises without a
    need have no row (the label is "no need").
    """
    first, last = month_start_plus(as_of, 1), month_start_plus(as_of, NEED_HORIZON_MONTHS)
    return (
        need_events.select(*NEED_EVENT_COLUMNS)
        .filter(pl.col("month").is_between(first, last))
        .sort("uscc", "month", "amount_fen")
        .group_by("uscc", maintain_order=True)
        .agg(
            pl.col("month").first().alias("need_month"),
            pl.col("amount_fen").first().cast(pl.Int64).alias("need_amount_fen"),
            pl.col("duration_months").first().cast(pl.Int32).alias("need_duration_months"),
            pl.len().alias("needs_in_horizon"),
        )
        .collect()
    )
