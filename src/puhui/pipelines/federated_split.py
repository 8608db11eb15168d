"""Split a generated market into a bank's folder and a data owner's folder for federated learning.

The bank holds its settlement-account flows and its loan history (features) and the defaults of
the next twelve months (labels); the owner — a tax bureau with the utility's meter data — holds
VAT filings and electricity and water use. Each holds a different random part of the market's
enterprises, so the PSI has something to find. Labels come from the market's truth table: the
simulator's stand-in for the defaults the bank observes on its own book.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from puhui.market import store
from puhui.risk.federated.data import ID_COLUMN, LABEL_COLUMN, write_party

WINDOW_MONTHS = 6
HORIZON_MONTHS = 12
GRADE_RANK = {"A": 0, "B": 1, "M": 2, "C": 3, "D": 4}


@dataclass(frozen=True)
class SplitSummary:
    as_of: date
    bank_rows: int
    owner_rows: int
    shared_rows: int
    default_rate: float


def _month_plus(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _window(frame: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    start = _month_plus(as_of, -WINDOW_MONTHS)
    recent = _month_plus(as_of, -3)
    return frame.filter((pl.col("month") >= start) & (pl.col("month") < as_of)).with_columns(
        (pl.col("month") >= recent).alias("recent")
    )


def _trend(column: str) -> pl.Expr:
    """log of the last three months' total over the three before (0 when either is empty)."""
    last = pl.col(column).filter(pl.col("recent")).sum().cast(pl.Float64)
    before = pl.col(column).filter(~pl.col("recent")).sum().cast(pl.Float64)
    return (last + 1.0).log() - (before + 1.0).log()


def bank_features(market: Path, as_of: date) -> pl.DataFrame:
    settlement = (
        _window(store.scan(market, "settlement_monthly"), as_of)
        .group_by(ID_COLUMN)
        .agg(
            (pl.col("inflow_fen").mean() + 1.0).log().alias("log_inflow"),
            (pl.col("balance_fen").mean() + 1.0).log().alias("log_balance"),
            (pl.col("outflow_fen").sum() / (pl.col("inflow_fen").sum() + 1)).alias("outflow_ratio"),
            _trend("inflow_fen").alias("inflow_trend"),
            _trend("balance_fen").alias("balance_trend"),
            pl.col("counterparties").mean().alias("counterparties"),
            (pl.col("related_party_transfer_fen").sum() / (pl.col("outflow_fen").sum() + 1)).alias(
                "related_share"
            ),
        )
    )
    loans = (
        _window(store.scan(market, "loan_history"), as_of)
        .group_by(ID_COLUMN)
        .agg(
            pl.col("days_past_due").max().cast(pl.Float64).alias("max_days_past_due"),
            (pl.col("days_past_due") > 0).sum().cast(pl.Float64).alias("months_overdue"),
        )
    )
    return (
        settlement.join(loans, on=ID_COLUMN, how="left")
        .with_columns(pl.col("max_days_past_due", "months_overdue").fill_null(0.0))
        .collect()
    )


def owner_features(market: Path, as_of: date) -> pl.DataFrame:
    tax = (
        _window(store.scan(market, "tax_monthly"), as_of)
        .group_by(ID_COLUMN)
        .agg(
            (pl.col("declared_sales_fen").mean() + 1.0).log().alias("log_sales"),
            _trend("declared_sales_fen").alias("sales_trend"),
            pl.col("late_filing").mean().alias("late_filing_share"),
            (pl.col("arrears_fen").last() > 0).cast(pl.Float64).alias("in_arrears"),
            pl.col("tax_credit_grade")
            .last()
            .replace_strict(GRADE_RANK, default=2, return_dtype=pl.Float64)
            .alias("tax_grade_rank"),
        )
    )
    utilities = (
        _window(store.scan(market, "utilities_monthly"), as_of)
        .group_by(ID_COLUMN)
        .agg(
            _trend("electricity_kwh").alias("electricity_trend"),
            (pl.col("electricity_kwh").mean() + 1.0).log().alias("log_electricity"),
            pl.col("late_payment").mean().alias("utility_late_share"),
        )
    )
    return tax.join(utilities, on=ID_COLUMN, how="left").fill_null(0.0).collect()


def labels(market: Path, as_of: date) -> pl.DataFrame:
    """Enterprises not in default by ``as_of`` and whether they default within the horizon."""
    end = _month_plus(as_of, HORIZON_MONTHS)
    return (
        store.scan(market, "enterprises_truth")
        .filter(pl.col("default_month").is_null() | (pl.col("default_month") >= as_of))
        .select(
            ID_COLUMN,
            (pl.col("default_month").is_not_null() & (pl.col("default_month") < end))
            .cast(pl.Int8)
            .alias(LABEL_COLUMN),
        )
        .collect()
    )


def split_market(
    market: Path,
    bank_dir: Path,
    owner_dir: Path,
    *,
    as_of: date,
    bank_share: float = 0.8,
    owner_share: float = 0.85,
    seed: int = 0,
) -> SplitSummary:
    """Write ``bank_dir`` and ``owner_dir`` from ``market`` (features before ``as_of``)."""
    population = labels(market, as_of)
    bank = population.join(bank_features(market, as_of), on=ID_COLUMN, how="inner")
    owner = owner_features(market, as_of).join(
        population.select(ID_COLUMN), on=ID_COLUMN, how="inner"
    )
    rng = np.random.default_rng(seed)
    bank = bank.sort(ID_COLUMN).filter(pl.Series(rng.random(bank.height) < bank_share))
    owner = owner.sort(ID_COLUMN).filter(pl.Series(rng.random(owner.height) < owner_share))
    label_last = [c for c in bank.columns if c != LABEL_COLUMN] + [LABEL_COLUMN]
    write_party(bank_dir, bank.select(label_last), role="bank")
    write_party(owner_dir, owner, role="owner")
    shared = bank.join(owner.select(ID_COLUMN), on=ID_COLUMN, how="inner").height
    return SplitSummary(
        as_of=as_of,
        bank_rows=bank.height,
        owner_rows=owner.height,
        shared_rows=shared,
        default_rate=float(np.mean(bank[LABEL_COLUMN].to_numpy())) if bank.height else 0.0,
    )
