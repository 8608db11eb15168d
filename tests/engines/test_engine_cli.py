"""``--engine`` and ``--master`` on the batch commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from puhui.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PUHUI_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    return sqlite_url


def test_features_build_on_the_local_engine_by_name(env: str, market: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    built = runner.invoke(
        app,
        ["features", "build", "--market", str(market), "--as-of", "2024-05", "--engine", "local"],
    )
    assert built.exit_code == 0, built.output
    assert "feature store 2024-05: 300 rows" in built.stdout


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--engine", "dask"], "unknown engine 'dask': choose one of local, spark"),
        (["--master", "local[2]"], "--master is for the Spark engine"),
    ],
)
def test_a_bad_engine_option_is_a_usage_error(
    env: str, market: Path, options: list[str], message: str
) -> None:
    for command in (
        ["features", "build", "--market", str(market), "--as-of", "2024-05"],
        ["monitor", "backtest", "--market", str(market), "--from", "2024-01", "--to", "2024-02",
         "--out", str(market.parent / "alerts.csv")],
    ):  # fmt: skip
        result = runner.invoke(app, [*command, *options])
        assert result.exit_code != 0
        assert message in result.output
