"""``puhui strategy`` as a risk officer uses it (the sub-app invoked directly)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from puhui.adapters.db.database import Database
from puhui.cli.strategy import app
from puhui.domain.clock import SystemClock

runner = CliRunner()


@pytest.fixture
def strategy_file(tmp_path: Path, shipped_text: str) -> Path:
    path = tmp_path / "mse.yaml"
    path.write_text(shipped_text, encoding="utf-8")
    return path


def test_validate_accepts_a_good_file_and_lists_problems_of_a_bad_one(
    strategy_file: Path, tmp_path: Path, shipped_text: str
) -> None:
    ok = runner.invoke(app, ["validate", str(strategy_file)])
    assert ok.exit_code == 0, ok.output
    assert "mse-online-credit@1 is valid" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(shipped_text.replace('{owner_age_years: "< 18"}', '{owner_agee: "< 18"}'))
    refused = runner.invoke(app, ["validate", str(bad)])
    assert refused.exit_code == 1
    assert "knockouts.rules[3].when.owner_agee: unknown input 'owner_agee'" in refused.output
    assert "line " in refused.output


def test_decide_prints_the_decision_with_reason_texts(strategy_file: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs.json"
    inputs.write_text(
        json.dumps(
            {"requested_amount_fen": 5_000_000, "enterprise_age_months": 3, "owner_age_years": 40}
        )
    )
    result = runner.invoke(
        app,
        [
            "decide",
            "-s",
            str(strategy_file),
            "--inputs",
            str(inputs),
            "--pd",
            "0.01",
            "--as-of",
            "2026-03-02",
            "--trace",
        ],
    )
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert decision["outcome"] == "decline"
    assert decision["reasons"] == ["ENTERPRISE_TOO_YOUNG"]
    assert decision["reason_text_en"] == [
        "The enterprise has been registered for less than 12 months"
    ]
    assert decision["trace"]


def test_backtest_writes_markdown_and_png(strategy_file: Path, tmp_path: Path) -> None:
    population = tmp_path / "population.parquet"
    assert (
        runner.invoke(app, ["population", "--out", str(population), "--size", "500"]).exit_code == 0
    )
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        [
            "backtest",
            "--strategy",
            str(strategy_file),
            "--against",
            "mse-online-credit",
            "--population",
            str(population),
            "--out",
            str(out),
            "--as-of",
            "2026-03-02",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "approval rate" in result.stdout
    assert "swap-in 0, swap-out 0" in result.stdout
    assert (out / "backtest.md").exists()
    assert (out / "backtest.png").stat().st_size > 1000


def test_jdm_export_then_import_gives_an_equivalent_strategy(
    strategy_file: Path, tmp_path: Path
) -> None:
    jdm = tmp_path / "mse.jdm.json"
    assert (
        runner.invoke(app, ["export-jdm", "-s", str(strategy_file), "--out", str(jdm)]).exit_code
        == 0
    )
    graph = json.loads(jdm.read_text())
    graph["nodes"][1]["content"]["rules"][2]["knockouts-in-enterprise_age_months"] = "< 6"
    jdm.write_text(json.dumps(graph))
    out = tmp_path / "v2.yaml"
    result = runner.invoke(
        app,
        [
            "import-jdm",
            "-s",
            str(strategy_file),
            "--jdm",
            str(jdm),
            "--out",
            str(out),
            "--version",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "mse-online-credit@2 written" in result.stdout
    assert "enterprise_age_months: < 6" in out.read_text()


def test_the_lifecycle_from_the_command_line(
    strategy_file: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUHUI_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    database = Database(sqlite_url, clock=SystemClock(), audit_key=b"k")
    database.upgrade()
    database.dispose()
    assert runner.invoke(app, ["draft", str(strategy_file), "--actor", "maker"]).exit_code == 0
    assert (
        runner.invoke(app, ["submit", "mse-online-credit", "1", "--actor", "maker"]).exit_code == 0
    )
    # Sent back with what to change, then submitted again: the reason stays on the version.
    blank = runner.invoke(
        app, ["reject", "mse-online-credit", "1", "--actor", "checker", "--reason", " "]
    )
    assert blank.exit_code == 2
    assert "return_reason_invalid" in blank.output
    back = runner.invoke(
        app,
        ["reject", "mse-online-credit", "1", "--actor", "checker", "--reason", "lower the cap"],
    )
    assert back.exit_code == 0, back.output
    assert "mse-online-credit@1\tdraft\t" in back.stdout
    assert back.stdout.rstrip().endswith(": lower the cap")
    assert "\tsent back by checker on " in back.stdout
    assert (
        runner.invoke(app, ["submit", "mse-online-credit", "1", "--actor", "maker"]).exit_code == 0
    )
    same = runner.invoke(app, ["approve", "mse-online-credit", "1", "--actor", "maker"])
    assert same.exit_code == 2
    assert "four_eyes_violation" in same.output
    assert (
        runner.invoke(app, ["approve", "mse-online-credit", "1", "--actor", "checker"]).exit_code
        == 0
    )
    assert (
        runner.invoke(app, ["activate", "mse-online-credit", "1", "--actor", "checker"]).exit_code
        == 0
    )
    listed = runner.invoke(app, ["list"])
    assert "mse-online-credit@1\tactive\tcreated by maker, approved by checker" in listed.stdout
    assert listed.stdout.rstrip().endswith(": lower the cap")  # what was asked, kept
