"""The fund-use detector on hand-built statements: what it flags, what it nets off, the evidence."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest

from puhui.decision.triggers import load_shipped_triggers
from puhui.market import schema as market_schema
from puhui.risk.fund_use import (
    COUNTERPARTY_TYPES,
    DEFAULT_THRESHOLDS,
    REASON_FUND_USE_DIVERTED,
    FundUseInputInvalid,
    FundUseThresholds,
    diverted_share_by_enterprise,
    fund_use_evidence,
)

DRAW_FEN = 100_000_000  # RMB 1,000,000


def statement(
    app: str,
    *,
    uscc: str = "91350100M000100Y43",
    draw_fen: int = DRAW_FEN,
    usual: dict[str, int] | None = None,
    extra: dict[tuple[int, str], int] | None = None,
    periods: range = range(-30, 60, 10),
) -> list[dict[str, Any]]:
    """Rows of one draw: the usual debits per 10-day period plus ``extra`` at (day, type)."""
    usual = usual or {"suppliers": 3_000_000, "wages_tax": 1_000_000, "related_owner": 200_000}
    extra = extra or {}
    return [
        {
            "application_id": app,
            "uscc": uscc,
            "draw_date": date(2025, 3, 10),
            "draw_amount_fen": draw_fen,
            "days_from_draw": day,
            "counterparty_type": kind,
            "amount_fen": usual.get(kind, 0) + extra.get((day, kind), 0),
        }
        for day in periods
        for kind in COUNTERPARTY_TYPES
    ]


def evidence(
    *draws: list[dict[str, Any]], t: FundUseThresholds = DEFAULT_THRESHOLDS
) -> pl.DataFrame:
    rows = [row for draw in draws for row in draw]
    return fund_use_evidence(pl.DataFrame(rows), t)


def spent_on(kind: str, total: int, days: tuple[int, ...] = (0, 10)) -> dict[tuple[int, str], int]:
    return {(day, kind): total // len(days) for day in days}


def test_a_draw_spent_on_suppliers_and_wages_is_not_flagged() -> None:
    clean = statement(
        "A1",
        extra={
            **spent_on("suppliers", 80_000_000, (0, 10, 20, 30)),
            **spent_on("wages_tax", 20_000_000),
        },
    )
    row = evidence(clean).row(0, named=True)
    assert row["flagged"] is False
    assert row["reason_code"] is None
    assert row["diverted_fen"] == 0
    assert row["window_complete"] is True


def test_a_draw_passed_to_the_owner_within_30_days_is_flagged_with_evidence() -> None:
    diverted = statement("A2", extra=spent_on("related_owner", 70_000_000))
    row = evidence(diverted).row(0, named=True)
    assert row["flagged"] is True
    assert row["reason_code"] == REASON_FUND_USE_DIVERTED
    assert row["dominant_destination"] == "related_owner"
    # Window: 3 periods x 200,000 usual + 70,000,000; the usual 600,000 is netted off.
    assert row["related_owner_window_fen"] == 70_600_000
    assert row["related_owner_baseline_fen"] == 600_000
    assert row["related_owner_excess_fen"] == 70_000_000
    assert row["diverted_share"] == pytest.approx(0.7)


@pytest.mark.parametrize("kind", ["securities_real_estate", "other_lenders"])
def test_each_destination_is_named_when_it_dominates(kind: str) -> None:
    extra = {**spent_on(kind, 40_000_000), **spent_on("related_owner", 10_000_000)}
    row = evidence(statement("A3", extra=extra)).row(0, named=True)
    assert row["dominant_destination"] == kind
    assert row["diverted_fen"] == 50_000_000
    assert row["flagged"] is True


def test_money_diverted_after_30_days_does_not_count() -> None:
    late = statement("A4", extra=spent_on("securities_real_estate", 90_000_000, (30, 40)))
    row = evidence(late).row(0, named=True)
    assert row["diverted_fen"] == 0
    assert row["flagged"] is False


def test_an_owner_paid_a_lot_every_month_is_judged_on_the_excess_only() -> None:
    """Usual related-party debits are netted off, but excuse at most the capped share."""
    usual = {"suppliers": 3_000_000, "related_owner": 5_000_000}
    same_as_ever = statement("B1", usual=usual)
    more_than_ever = statement("B2", usual=usual, extra=spent_on("related_owner", 30_000_000))
    out = evidence(same_as_ever, more_than_ever)
    assert out["flagged"].to_list() == [False, True]
    assert out["related_owner_baseline_fen"].to_list() == [15_000_000, 15_000_000]
    # A tiny draw cannot hide behind a big usual pattern: the baseline is capped at 25 %.
    small = statement("B3", draw_fen=10_000_000, usual=usual)
    row = evidence(small).row(0, named=True)
    assert row["related_owner_baseline_fen"] == 2_500_000
    assert row["flagged"] is True


def test_gross_mode_counts_every_debit_to_the_destinations() -> None:
    usual = {"suppliers": 3_000_000, "related_owner": 5_000_000}
    gross = FundUseThresholds(baseline_weight=0.0)
    row = evidence(statement("C1", usual=usual), t=gross).row(0, named=True)
    assert row["related_owner_baseline_fen"] == 0
    assert row["diverted_fen"] == 15_000_000
    assert row["flagged"] is False  # 15 % of the draw, under the 20 % threshold


def test_the_threshold_is_inclusive_and_a_parameter() -> None:
    at = statement("D1", usual={"suppliers": 1}, extra=spent_on("other_lenders", 20_000_000))
    assert evidence(at)["flagged"].to_list() == [True]
    strict = FundUseThresholds(diverted_share_min=0.5)
    assert evidence(at, t=strict)["flagged"].to_list() == [False]


def test_missing_periods_are_reported_and_the_baseline_is_scaled() -> None:
    # A draw early in the data: one baseline period; a draw late: two window periods.
    early = statement("E1", periods=range(-10, 60, 10))
    late = statement("E2", periods=range(-30, 20, 10))
    out = evidence(early, late)
    assert out["window_complete"].to_list() == [True, False]
    assert out["related_owner_baseline_fen"].to_list() == [600_000, 600_000]


def test_evidence_is_one_row_per_draw_sorted_and_keeps_the_enterprise() -> None:
    out = evidence(
        statement("Z9", uscc="U2", extra=spent_on("related_owner", 30_000_000)),
        statement("A0", uscc="U1"),
        statement("M5", uscc="U2"),
    )
    assert out["application_id"].to_list() == ["A0", "M5", "Z9"]
    per_firm = diverted_share_by_enterprise(out)
    assert per_firm["uscc"].to_list() == ["U1", "U2"]
    assert per_firm["fund_use_diverted_share"].to_list() == pytest.approx([0.0, 0.3])


def test_a_statement_without_a_needed_column_is_refused() -> None:
    frame = pl.DataFrame(statement("F1")).drop("draw_amount_fen")
    with pytest.raises(FundUseInputInvalid) as caught:
        fund_use_evidence(frame)
    assert "draw_amount_fen" in str(caught.value)


@pytest.mark.parametrize(
    "bad",
    [
        {"window_days": 25},
        {"baseline_days": 0},
        {"baseline_weight": 1.5},
        {"diverted_share_min": 0.0},
    ],
)
def test_out_of_range_parameters_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(FundUseInputInvalid):
        FundUseThresholds(**bad)


def test_the_trigger_rule_fires_at_the_detector_threshold() -> None:
    triggers = load_shipped_triggers()
    threshold = DEFAULT_THRESHOLDS.diverted_share_min
    fired = [s.code for s in triggers.evaluate({"fund_use_diverted_share": threshold})]
    assert fired == [REASON_FUND_USE_DIVERTED]
    assert triggers.evaluate({"fund_use_diverted_share": threshold - 0.001}) == []


def test_the_detector_knows_the_same_counterparty_types_as_the_market() -> None:
    # The risk layer may not import the market: the two lists are kept equal by this test.
    assert COUNTERPARTY_TYPES == market_schema.COUNTERPARTY_TYPES
