"""The repayment oracle answers consistently with the hidden truth."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from puhui.domain.errors import InvalidInput, NotFound
from puhui.market import store
from puhui.market.oracle import MarketOracle


@pytest.fixture(scope="module")
def oracle(small_market: Path) -> MarketOracle:
    return MarketOracle(small_market)


def test_a_defaulter_cannot_pay_from_its_default_month(
    oracle: MarketOracle, small_market: Path
) -> None:
    truth = store.read(small_market, "enterprises_truth").filter(
        pl.col("default_month") <= date(2024, 10, 1)
    )
    row = truth.row(0, named=True)
    month = row["default_month"]
    cap = oracle.capacity(row["uscc"], month)
    assert cap.in_default
    assert cap.cash_available_fen == 0
    assert oracle.repay(row["uscc"], month, 1_000).paid_fen == 0
    later = date(2024, 12, 1)
    assert oracle.capacity(row["uscc"], later).in_default  # closed firms stay in default


def test_a_performing_firm_pays_from_its_free_cash(
    oracle: MarketOracle, small_market: Path
) -> None:
    truth = store.read(small_market, "monthly_truth").filter(
        ~pl.col("in_default") & (pl.col("cash_available_fen") > 10_000)
    )
    row = truth.row(0, named=True)
    cap = oracle.capacity(row["uscc"], row["month"])
    assert not cap.in_default
    assert cap.cash_available_fen == row["cash_available_fen"]
    paid = oracle.repay(row["uscc"], row["month"], cap.cash_available_fen + 5)
    assert paid.paid_fen == cap.cash_available_fen
    assert paid.shortfall_fen == 5


def test_capacity_frame_agrees_with_single_queries(
    oracle: MarketOracle, small_market: Path
) -> None:
    sample = store.read(small_market, "monthly_truth").select("uscc", "month").head(300)
    frame = oracle.capacity_frame(sample)
    for row in frame.head(50).iter_rows(named=True):
        one = oracle.capacity(row["uscc"], row["month"])
        assert (one.in_default, one.cash_available_fen) == (
            row["in_default"],
            row["cash_available_fen"],
        )


def test_unknown_enterprise_and_month_outside_market_are_refused(oracle: MarketOracle) -> None:
    with pytest.raises(NotFound):
        oracle.capacity("91330100MA0000000X", date(2023, 5, 1))
    uscc = oracle._uscc[0]
    with pytest.raises(InvalidInput, match="outside the market"):
        oracle.capacity(uscc, date(2030, 1, 1))


def test_legacy_loans_go_bad_exactly_when_the_borrower_defaults(small_market: Path) -> None:
    loans = store.read(small_market, "loan_history").join(
        store.read(small_market, "enterprises_truth").select("uscc", "default_month"), on="uscc"
    )
    bad = loans.filter(pl.col("days_past_due") >= 30)
    assert bad.height > 0
    assert (bad["default_month"] <= bad["month"]).all()
    healthy = loans.filter(pl.col("default_month").is_null())
    assert (healthy["days_past_due"] < 30).all()
