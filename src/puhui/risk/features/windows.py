"""Months and look-back windows: the point-in-time helpers every source builder uses."""

from __future__ import annotations

from datetime import date

import polars as pl

# Smoothing added to sums before a log-ratio: one yuan in fen, one kWh; keeps zeros finite.
FEN_SMOOTHING = 100.0
# The longest look-back: long-run rates of late filings, payments and overdues estimate a
# firm's usual health, the recent windows its departure from it.
HISTORY_MONTHS = 36


def month_index(as_of: date) -> int:
    """Months since year 0: consecutive months differ by one."""
    return as_of.year * 12 + as_of.month - 1


def _lag(as_of: date) -> pl.Expr:
    """Months between the as-of month and the row's month (1 = the month just before)."""
    return pl.lit(month_index(as_of)) - (
        pl.col("month").dt.year().cast(pl.Int32) * 12
        + pl.col("month").dt.month().cast(pl.Int32)
        - 1
    )


def known(frame: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Only complete months before the as-of date: what a lender could know on that day."""
    return frame.filter(pl.col("month") < as_of).with_columns(_lag(as_of).alias("lag"))


def sum_in(column: str, first: int, last: int) -> pl.Expr:
    return (
        pl.when(pl.col("lag").is_between(first, last)).then(pl.col(column)).otherwise(None)
    ).sum()


def count_in(first: int, last: int) -> pl.Expr:
    return pl.col("lag").is_between(first, last).sum()


def log_ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return ((numerator + FEN_SMOOTHING) / (denominator + FEN_SMOOTHING)).log()


def month_index_expr(column: pl.Expr) -> pl.Expr:
    return column.dt.year().cast(pl.Int32) * 12 + column.dt.month().cast(pl.Int32) - 1


def month_start_plus(day: date, months: int) -> date:
    """The first day of the month ``months`` on from ``day``'s month (the day itself is dropped).

    Not the lending calendar's ``add_months``, which keeps the day: features and cohorts move
    by whole months from their first day.
    """
    index = month_index(day) + months
    return date(index // 12, index % 12 + 1, 1)
