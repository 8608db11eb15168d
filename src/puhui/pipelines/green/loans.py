"""Loans by green label and catalogue category: count and principal (exact fen).

The loans are given as (uscc, principal_fen) pairs and labelled with a screen of the month
before they were drawn (no look-ahead). Until the label is recorded on the loan at origination
(docs/green.md, not built yet), this is how the demo reports its green lending.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

NO_CATEGORY = "-"


def loans_by_green_category(screen: pl.DataFrame, loans: Iterable[tuple[str, int]]) -> pl.DataFrame:
    """One row per (label, category): loans, principal_fen (Int64), enterprises; sorted with
    the green rows first. Loans of enterprises the screen does not cover count as unscreened."""
    frame = pl.DataFrame(
        list(loans), schema={"uscc": pl.String, "principal_fen": pl.Int64}, orient="row"
    )
    joined = frame.join(screen.select("uscc", "label", "category"), on="uscc", how="left")
    return (
        joined.with_columns(
            pl.col("label").fill_null("unscreened"),
            pl.col("category").fill_null(NO_CATEGORY),
        )
        .group_by("label", "category")
        .agg(
            loans=pl.len().cast(pl.Int64),
            principal_fen=pl.col("principal_fen").sum().cast(pl.Int64),
            enterprises=pl.col("uscc").n_unique().cast(pl.Int64),
        )
        .sort(
            [pl.col("label") != "green", "label", "category"],
        )
    )
