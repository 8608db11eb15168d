"""``puhui report refresh``: rebuild the latest closed date whole, earlier days' origination."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from small_book import close_day, make_book, write_book
from typer.testing import CliRunner

from puhui.adapters.db.engine import make_engine
from puhui.cli.main import app

runner = CliRunner()
DAY = date(2026, 2, 28)


@pytest.fixture
def env(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PUHUI_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    engine = make_engine(sqlite_url)
    try:
        write_book(engine, make_book(DAY))
        close_day(engine, DAY)
    finally:
        engine.dispose()
    return sqlite_url


def test_refresh_rebuilds_a_range_whole_on_its_last_closed_date(env: str) -> None:
    first = DAY - timedelta(days=2)
    result = runner.invoke(
        app,
        ["report", "refresh", "--from", first.isoformat(), "--as-of", DAY.isoformat(), "--json"],
    )
    assert result.exit_code == 0, result.output
    rebuilt = json.loads(result.output)
    assert [(r["as_of"], r["portfolio_rebuilt"]) for r in rebuilt] == [
        ((DAY - timedelta(days=2)).isoformat(), False),
        ((DAY - timedelta(days=1)).isoformat(), False),
        (DAY.isoformat(), True),
    ]
    assert rebuilt[-1]["rows"] > 0


def test_refresh_of_a_date_not_closed_exits_with_its_error_code(env: str) -> None:
    result = runner.invoke(app, ["report", "refresh", "--as-of", "2026-03-01"])
    assert result.exit_code != 0
    assert "invalid_date" in result.output
