"""Backtest: replay a stored population, compare with the current strategy, write the report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from puhui.decision import CompiledStrategy, load_strategy
from puhui.decision.backtest import backtest_file, run_backtest, write_report
from puhui.decision.population import generate_population, write_population

AS_OF = dt.date(2026, 3, 2)


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_population(tmp_path_factory.mktemp("pop") / "population.parquet", 3_000, seed=7)


def stricter(shipped_text: str) -> CompiledStrategy:
    """Version 2: grade D is declined too."""
    data = yaml.safe_load(shipped_text)
    data["version"] = 2
    data["grading"]["declined_grades"] = ["D", "E"]
    data["grading"]["table"]["rules"][3]["reason"] = "RISK_TOO_HIGH"
    return load_strategy("v2.yaml", text=yaml.safe_dump(data, allow_unicode=True))


def test_the_population_generator_is_deterministic() -> None:
    assert generate_population(50, seed=3).equals(generate_population(50, seed=3))
    assert not generate_population(50, seed=3).equals(generate_population(50, seed=4))


def test_the_backtest_reports_rates_and_the_swap_set(
    strategy: CompiledStrategy, shipped_text: str, population: Path
) -> None:
    candidate = stricter(shipped_text)
    report = backtest_file(
        candidate, population, against=strategy, as_of=AS_OF, licence_type="bank"
    )
    new, old = report.candidate.total, report.current.total  # type: ignore[union-attr]
    assert report.applicants == new.applicants == old.applicants == 3_000
    assert new.approved + new.referred + new.declined == 3_000
    # Declining grade D can only remove approvals, and the removed ones are the riskier ones.
    assert report.swaps is not None
    assert report.swaps.swap_in == 0
    assert report.swaps.swap_out == old.approved - new.approved > 0
    assert report.swaps.swap_out_bad_rate > old.expected_bad_rate > new.expected_bad_rate
    assert sum(g.approved for g in report.candidate.by_grade.values()) == new.approved
    assert sum(g.applicants for g in report.candidate.by_segment.values()) == 3_000
    assert new.expected_interest_fen > 0
    assert new.expected_loss_fen > 0
    # The shipped strategy is calibrated to the market: about a third approved, ~2% bad.
    assert 0.2 < old.approval_rate < 0.45
    assert 0.01 < old.expected_bad_rate < 0.03


def test_the_report_is_markdown_and_png(
    strategy: CompiledStrategy, shipped_text: str, population: Path, tmp_path: Path
) -> None:
    report = backtest_file(
        strategy, population, against=stricter(shipped_text), as_of=AS_OF, licence_type="bank"
    )
    markdown, chart = write_report(report, tmp_path / "out")
    text = markdown.read_text(encoding="utf-8")
    assert "# Backtest of mse-online-credit@1" in text
    assert "## Swap set: mse-online-credit@1 vs mse-online-credit@2" in text
    assert "by segment" in text
    assert "![approval and bad rate by grade](backtest.png)" in text
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_rows_with_bad_inputs_are_reported_not_hidden(strategy: CompiledStrategy) -> None:
    rows = generate_population(10, seed=1).to_dicts()
    rows[3]["tax_grade"] = "X"
    report = run_backtest(strategy, rows, as_of=dt.date(2026, 3, 2), licence_type="bank")
    assert report.applicants == 10
    assert report.candidate.total.applicants == 9
    assert len(report.skipped) == 1
    assert report.skipped[0].startswith("app_00000003: ")
