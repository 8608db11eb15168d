"""The demo's post-loan cycle: the history the behavioural model learns from, task rules."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from puhui.domain.monitoring import Severity, TaskOutcome
from puhui.pipelines.post_loan import behaviour_horizon, cut_market, outcome_for


def _table(market: Path, name: str, frame: pl.DataFrame) -> None:
    folder = market / "tables" / name
    folder.mkdir(parents=True)
    frame.write_parquet(folder / "part-0.parquet")


def test_the_cut_market_holds_only_the_months_before_the_window(tmp_path: Path) -> None:
    market = tmp_path / "market"
    months = [date(2024, m, 1) for m in range(1, 13)]
    _table(
        market,
        "tax_monthly",
        pl.DataFrame({"uscc": ["A"] * 12, "month": months, "declared_sales_fen": range(12)}),
    )
    _table(
        market,
        "loan_history",
        pl.DataFrame({"uscc": ["A"] * 12, "month": months, "days_past_due": [0] * 12}),
    )
    _table(market, "enterprises", pl.DataFrame({"uscc": ["A", "B"], "size_band": ["micro"] * 2}))
    (market / "truth").mkdir()
    (market / "truth" / "secret.parquet").write_bytes(b"never copied")

    spanned = cut_market(market, date(2024, 10, 1), tmp_path / "cut")

    assert spanned == 9
    cut = tmp_path / "cut" / "tables"
    for name in ("tax_monthly", "loan_history"):
        kept = pl.read_parquet(cut / name / "*.parquet")
        assert kept.get_column("month").max() == date(2024, 9, 1)
        assert kept.height == 9
    # The registry has no months: copied whole. The truth is not there at all.
    assert pl.read_parquet(cut / "enterprises" / "*.parquet").height == 2
    assert not (tmp_path / "cut" / "truth").exists()
    # Cutting again replaces the copy.
    assert cut_market(market, date(2024, 4, 1), tmp_path / "cut") == 3


@pytest.mark.parametrize(
    ("history", "horizon"),
    [(36, 12), (30, 12), (29, 11), (24, 6), (21, 3), (20, None), (14, None)],
)
def test_the_outcome_horizon_shrinks_with_a_short_history(
    history: int, horizon: int | None
) -> None:
    # 15 months of features before the first observation month, at least 3 of those.
    assert behaviour_horizon(history) == horizon


@pytest.mark.parametrize(
    ("severity", "codes", "outcome"),
    [
        (Severity.HIGH, {"DPD_SERIOUS"}, TaskOutcome.HAND_TO_COLLECTIONS),
        (Severity.HIGH, {"DPD_SERIOUS", "SALES_COLLAPSE"}, TaskOutcome.HAND_TO_COLLECTIONS),
        (Severity.HIGH, {"BEHAVIOUR_PD_HIGH"}, TaskOutcome.FREEZE),
        (Severity.MEDIUM, {"DPD_EARLY"}, TaskOutcome.CONTACTED),
        (Severity.LOW, {"ENQUIRIES_ELSEWHERE"}, TaskOutcome.MONITOR),
    ],
)
def test_the_demo_works_a_task_by_its_alert(
    severity: Severity, codes: set[str], outcome: TaskOutcome
) -> None:
    assert outcome_for(severity, frozenset(codes)) is outcome


def test_a_customer_frozen_already_is_watched_not_frozen_again() -> None:
    high = frozenset({"BEHAVIOUR_PD_HIGH"})
    assert outcome_for(Severity.HIGH, high, frozen=True) is TaskOutcome.MONITOR
    serious = frozenset({"DPD_SERIOUS"})
    assert outcome_for(Severity.HIGH, serious, frozen=True) is TaskOutcome.HAND_TO_COLLECTIONS
    assert outcome_for(Severity.MEDIUM, frozenset({"DPD_EARLY"}), frozen=True) is (
        TaskOutcome.CONTACTED
    )


def test_a_customer_with_term_loans_only_is_visited_not_frozen() -> None:
    high = frozenset({"BEHAVIOUR_PD_HIGH"})
    assert outcome_for(Severity.HIGH, high, has_line=False) is TaskOutcome.VISITED
    serious = frozenset({"DPD_SERIOUS"})
    assert outcome_for(Severity.HIGH, serious, has_line=False) is TaskOutcome.HAND_TO_COLLECTIONS
    assert outcome_for(Severity.LOW, frozenset({"ENQUIRIES_ELSEWHERE"}), has_line=False) is (
        TaskOutcome.MONITOR
    )
