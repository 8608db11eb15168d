"""How well the indices track the market's hidden common factors (evaluation only).

An enterprise's latent health moves with three hidden AR(1) factors: the macro factor, its
industry group's and its region's (``truth/macro``). A year-on-year diffusion index measures
the *change* in business, so it is compared with the year-on-year change of the factors the
cell's scored enterprises feel: for each enterprise, change(macro) + change(its industry) +
change(its region), averaged over the enterprises of the cell and month. Changes use the
same Spring Festival window as the index (the window's mean compared with last year's).
"""

from __future__ import annotations

import polars as pl

from puhui.pipelines.prosperity.method import (
    COMPOSITE,
    OVERALL,
    SPRING_FESTIVAL_WINDOW,
)


def factor_changes(factors: pl.LazyFrame) -> pl.LazyFrame:
    """``factor_kind, cell, month, value`` -> ``factor_kind, cell, month, change``: the
    year-on-year change, January to March as the window's mean."""
    in_window = pl.col("month").dt.month().is_in(SPRING_FESTIVAL_WINDOW)
    year = pl.col("month").dt.year()
    keyed = factors.with_columns(pl.col("cell").fill_null(""))
    level = keyed.with_columns(
        pl.when(in_window)
        .then(pl.col("value").mean().over("factor_kind", "cell", year, in_window))
        .otherwise(pl.col("value"))
        .alias("level")
    )
    year_ago = level.select(
        "factor_kind",
        "cell",
        pl.col("month").dt.offset_by("12mo"),
        pl.col("level").alias("level_year_ago"),
    )
    return level.join(year_ago, on=["factor_kind", "cell", "month"], how="inner").select(
        "factor_kind", "cell", "month", (pl.col("level") - pl.col("level_year_ago")).alias("change")
    )


def cell_truth(scores: pl.LazyFrame, cells: pl.LazyFrame, factors: pl.LazyFrame) -> pl.LazyFrame:
    """``dimension, cell, month, truth_change, macro_change``: the mean year-on-year change of
    the common factor over the cell's scored enterprises, and of the macro factor alone."""
    changes = factor_changes(factors)

    def kind(name: str, column: str) -> pl.LazyFrame:
        return changes.filter(pl.col("factor_kind") == name).select(
            pl.col("cell").alias(column), "month", pl.col("change").alias(f"{column}_change")
        )

    macro = changes.filter(pl.col("factor_kind") == "macro").select(
        "month", pl.col("change").alias("macro_change")
    )
    felt = (
        scores.filter(pl.col("component") == COMPOSITE)
        .select("uscc", "month")
        .join(cells, on="uscc", how="inner")
        .join(macro, on="month", how="inner")
        .join(kind("industry", "industry"), on=["industry", "month"], how="inner")
        .join(kind("region", "region"), on=["region", "month"], how="inner")
        .with_columns(
            (pl.col("macro_change") + pl.col("industry_change") + pl.col("region_change")).alias(
                "truth_change"
            ),
            pl.lit("all").alias(OVERALL),
        )
    )
    return pl.concat(
        [
            felt.group_by(pl.col(dimension).alias("cell"), "month").agg(
                pl.lit(dimension).alias("dimension"),
                pl.col("truth_change").mean(),
                pl.col("macro_change").first(),
            )
            for dimension in (OVERALL, "industry", "region")
        ]
    ).select("dimension", "cell", "month", "truth_change", "macro_change")


def correlations(indices: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Pearson correlation over the shown (not suppressed) months of each cell's composite
    index with its truth change (``r_truth``) and with the macro change (``r_macro``); one
    ``cell == '*'`` row per dimension pools all the dimension's shown cell-months."""
    shown = indices.filter((pl.col("component") == COMPOSITE) & ~pl.col("suppressed")).join(
        truth, on=["dimension", "cell", "month"], how="inner"
    )

    def measure(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
        return frame.group_by(keys).agg(
            pl.len().alias("months"),
            pl.corr("index", "truth_change").alias("r_truth"),
            pl.corr("index", "macro_change").alias("r_macro"),
        )

    per_cell = measure(shown, ["dimension", "cell"])
    pooled = measure(shown, ["dimension"]).with_columns(pl.lit("*").alias("cell"))
    return (
        pl.concat([per_cell, pooled.select(per_cell.columns)])
        .with_columns(pl.col("months").cast(pl.Int64))
        .sort("dimension", "cell")
    )
