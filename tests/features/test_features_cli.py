"""``puhui features build`` and ``show`` as an operator uses them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from puhui.cli.main import app
from puhui.risk.enterprise_inputs import feature_set_version
from puhui.risk.features import MarketTables

runner = CliRunner()


@pytest.fixture
def env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PUHUI_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    return sqlite_url


def test_build_then_show_one_enterprise(env: str, market: Path, tables: MarketTables) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    built = runner.invoke(
        app,
        ["features", "build", "--market", str(market), "--as-of", "2025-05", "--chunk-size", "60"],
    )
    assert built.exit_code == 0, built.output
    assert "feature store 2025-05:" in built.stdout
    assert feature_set_version() in built.stdout
    uscc = tables["enterprises"].select("uscc").sort("uscc").head(1).collect().item()
    shown = runner.invoke(app, ["features", "show", "--uscc", uscc, "--as-of", "2025-05", "--json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert data["uscc"] == uscc
    assert data["source_month"] == "2025-04"
    assert data["feature_set_version"] == feature_set_version()
    assert isinstance(data["inputs"]["verified_monthly_sales_fen"], int)
    assert "sales_12m_log" in data["features"]
    text = runner.invoke(app, ["features", "show", "--uscc", uscc, "--as-of", "2025-05"])
    assert text.exit_code == 0
    assert "verified_monthly_sales_fen" in text.stdout


def test_errors_are_one_sentence_and_a_non_zero_exit(
    env: str, market: Path, tmp_path: Path
) -> None:
    not_migrated = runner.invoke(
        app, ["features", "build", "--market", str(market), "--as-of", "2025-05"]
    )
    assert not_migrated.exit_code != 0
    assert "puhui db upgrade" in not_migrated.output
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    cases = [
        ["features", "build", "--market", str(tmp_path / "nowhere"), "--as-of", "2025-05"],
        ["features", "build", "--market", str(market), "--as-of", "May 2025"],
        ["features", "show", "--uscc", "91110100000000000X", "--as-of", "2025-05"],
    ]
    for args in cases:
        result = runner.invoke(app, args)
        assert result.exit_code != 0, args
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith("error ["), result.output
        assert "Traceback" not in result.output
