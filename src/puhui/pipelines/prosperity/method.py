"""The index method: year-on-year diffusion of enterprise indicators, Spring Festival pooled.

For every enterprise, indicator and month, the value is compared with the same month a year
earlier; the enterprise scores 1 if the indicator improved, 0.5 if it is unchanged and 0 if it
worsened (the PMI convention). A cell's diffusion index is 100 x the mean score of its
enterprises: 50 means as many improved as worsened. The composite scores each enterprise by
the mean of its indicator scores first, so a firm with five indicators weighs as much as one
with two.

The Spring Festival (春节) falls in January or February and depresses or lifts that month and
the next, so even a year-on-year comparison of January (or February, or March) compares a
festival month with a normal one. January to March (``SPRING_FESTIVAL_WINDOW``) is compared as
one total, which holds the festival month and the month after in every year, and the three
months share that comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

SPRING_FESTIVAL_WINDOW: tuple[int, ...] = (1, 2, 3)
"""Calendar months compared as one total: the festival falls between 21 January and
20 February, so the window holds the festival month and the month after it every year."""
COMPOSITE = "composite"
OVERALL = "overall"
DIMENSIONS: tuple[str, ...] = (OVERALL, "industry", "region")
DEFAULT_MIN_CELL = 10


@dataclass(frozen=True, slots=True)
class Component:
    """One indicator: whether a rise is good news, and how a window's months add up."""

    name: str
    rise_is_good: bool
    window_total: str  # "sum" for flows, "max" for a worst-state measure


COMPONENTS: tuple[Component, ...] = (
    Component("sales", rise_is_good=True, window_total="sum"),
    Component("invoices", rise_is_good=True, window_total="sum"),
    Component("electricity", rise_is_good=True, window_total="sum"),
    Component("receipts", rise_is_good=True, window_total="sum"),
    Component("delinquency", rise_is_good=False, window_total="max"),
)
COMPONENT_NAMES: tuple[str, ...] = tuple(c.name for c in COMPONENTS)

SCORE_UNITS = 2 * math.lcm(*range(1, len(COMPONENTS) + 1))
"""Every score is a whole number of these units: an indicator scores in halves and the
composite averages at most one score per component. A cell's index sums the scores as whole
units, so it is exact and the same whatever order the rows arrive in (a float mean is not:
summing 1/3s in another order can move the last bit, and a rounded figure with it)."""

_YEAR_AGO = "-12mo"
_NEXT_YEAR = "12mo"


def _in_window(month: pl.Expr) -> pl.Expr:
    return month.dt.month().is_in(SPRING_FESTIVAL_WINDOW)


def comparable_values(panel: pl.LazyFrame) -> pl.LazyFrame:
    """``uscc, month, component, value`` -> the value each month is compared by: its own, or in
    the festival window the window's total of that year (the enterprise must report all its
    months, else the window months are left out)."""
    worst = [c.name for c in COMPONENTS if c.window_total == "max"]
    windows = (
        panel.filter(_in_window(pl.col("month")))
        .group_by("uscc", "component", pl.col("month").dt.year().alias("year"))
        .agg(
            pl.col("value").sum().alias("window_sum"),
            pl.col("value").max().alias("window_max"),
            pl.len().alias("window_months"),
        )
    )
    window_total = (
        pl.when(pl.col("component").is_in(worst)).then("window_max").otherwise("window_sum")
    )
    return (
        panel.with_columns(pl.col("month").dt.year().alias("year"))
        .join(windows, on=["uscc", "component", "year"], how="left")
        .with_columns(
            pl.when(~_in_window(pl.col("month")))
            .then(pl.col("value"))
            .when(pl.col("window_months") == len(SPRING_FESTIVAL_WINDOW))
            .then(window_total)
            .alias("value")
        )
        .select("uscc", "month", "component", "value")
        .drop_nulls("value")
    )


def enterprise_scores(panel: pl.LazyFrame) -> pl.LazyFrame:
    """Year-on-year scores (1 better, 0.5 same, 0 worse) per ``uscc, month, component``,
    the composite (mean of the enterprise's indicator scores) included."""
    values = comparable_values(panel)
    year_ago = values.select(
        "uscc",
        pl.col("month").dt.offset_by(_NEXT_YEAR),
        "component",
        pl.col("value").alias("value_year_ago"),
    )
    good = [c.name for c in COMPONENTS if c.rise_is_good]
    change = pl.col("value") - pl.col("value_year_ago")
    better = pl.when(pl.col("component").is_in(good)).then(change > 0).otherwise(change < 0)
    scores = values.join(year_ago, on=["uscc", "month", "component"], how="inner").select(
        "uscc",
        "month",
        "component",
        pl.when(change == 0)
        .then(pl.lit(0.5))
        .when(better)
        .then(pl.lit(1.0))
        .otherwise(pl.lit(0.0))
        .alias("score"),
    )
    composite = (
        scores.group_by("uscc", "month")
        .agg(pl.col("score").mean())
        .select("uscc", "month", pl.lit(COMPOSITE).alias("component"), "score")
    )
    return pl.concat([scores, composite])


def cell_indices(scores: pl.LazyFrame, cells: pl.LazyFrame, *, min_cell: int) -> pl.LazyFrame:
    """Diffusion indices per ``dimension, cell, month, component`` from the enterprises' scores
    and their cells (``uscc, industry, region``); a cell with fewer than ``min_cell``
    enterprises is kept with its count, ``suppressed`` and no index."""
    scored = scores.join(cells, on="uscc", how="inner").with_columns(pl.lit("all").alias(OVERALL))
    parts = [
        scored.group_by(pl.col(dimension).alias("cell"), "month", "component")
        .agg(
            pl.len().cast(pl.Int64).alias("enterprises"),
            (
                (pl.col("score") * SCORE_UNITS).round().cast(pl.Int64).sum()
                * 100.0
                / (pl.len() * SCORE_UNITS)
            ).alias("index"),
        )
        .with_columns(pl.lit(dimension).alias("dimension"))
        for dimension in DIMENSIONS
    ]
    suppressed = pl.col("enterprises") < min_cell
    return (
        pl.concat(parts)
        .with_columns(
            suppressed.alias("suppressed"),
            pl.when(suppressed).then(None).otherwise(pl.col("index")).alias("index"),
        )
        .select("dimension", "cell", "month", "component", "enterprises", "index", "suppressed")
        .sort("dimension", "cell", "component", "month")
    )
