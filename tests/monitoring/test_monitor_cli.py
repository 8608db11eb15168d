"""``puhui monitor run|alerts|tasks|rules`` on the configured database."""

from __future__ import annotations

import pytest
from book_support import AS_OF, build_book
from typer.testing import CliRunner

from puhui.bootstrap import Settings, build_platform
from puhui.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PUHUI_DATABASE_URL", database_url)
    monkeypatch.setenv("PUHUI_ENVIRONMENT", "test")
    return database_url


def test_monitor_run_reports_missing_data_then_runs_once_per_date(env: str) -> None:
    platform = build_platform(Settings(database_url=env, environment="test", _env_file=None))  # type: ignore[call-arg]
    try:
        book = build_book(platform, 3, dpd={1: 50})
        missing = runner.invoke(app, ["monitor", "run", "--as-of", AS_OF.isoformat()])
        assert missing.exit_code == 1
        assert "monitoring_data_missing" in missing.stderr
        book.close_day(AS_OF)
    finally:
        platform.close()
    done = runner.invoke(app, ["monitor", "run", "--as-of", AS_OF.isoformat()])
    assert done.exit_code == 0, done.stderr
    assert "completed with mse-post-loan@1: 3 customers, 1 hits, 1 alerts created" in done.stdout
    again = runner.invoke(app, ["monitor", "run", "--as-of", AS_OF.isoformat()])
    assert "already done" in again.stdout
    # Nobody entered a new days-past-due bucket that day (50 days late is no event).
    events = runner.invoke(app, ["monitor", "run", "--as-of", AS_OF.isoformat(), "--events"])
    assert events.exit_code == 0, events.stderr
    assert "(events) completed with mse-post-loan@1: 0 customers" in events.stdout
    alerts = runner.invoke(app, ["monitor", "alerts", "--severity", "high"])
    assert "DPD_SERIOUS" in alerts.stdout
    tasks = runner.invoke(app, ["monitor", "tasks"])
    assert "(branch queue)" in tasks.stdout
    rules = runner.invoke(app, ["monitor", "rules", "list"])
    assert "mse-post-loan@1\tactive" in rules.stdout


def test_monitor_run_refuses_a_bad_date(env: str) -> None:
    result = runner.invoke(app, ["monitor", "run", "--as-of", "2026-02-30"])
    assert result.exit_code == 2
    assert "--as-of must be a date YYYY-MM-DD" in result.stderr
