"""``puhui.bootstrap.prospects``: what ``puhui prospect run --load`` calls, on a configured
platform."""

from __future__ import annotations

from pathlib import Path

import pytest
from prospect_support import META, MONTH, row

from puhui.bootstrap import Platform, Settings
from puhui.bootstrap.prospects import dispatch, load_run
from puhui.domain.errors import ConfigurationError, InvalidInput


def test_a_run_is_loaded_into_the_configured_database_and_reported(platform: Platform) -> None:
    report = load_run(platform.settings, [row(0), row(1)], run_meta=META, month=MONTH)
    assert (report.rows_loaded, report.rows_new, report.unassigned) == (2, 2, 2)
    again = load_run(platform.settings, [row(1)], run_meta=META, month=MONTH)
    assert (again.rows_kept, again.rows_expired) == (1, 1)
    empty = load_run(platform.settings, [], run_meta=META, month=MONTH)
    assert (empty.month, empty.rows_loaded, empty.rows_expired) == (MONTH, 0, 1)
    assert dispatch(platform.settings).sent == 0


def test_rows_of_another_month_and_an_unmigrated_database_are_refused(
    platform: Platform, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput, match="2026-02"):
        load_run(platform.settings, [row(0)], run_meta=META, month=MONTH.replace(month=3))
    settings = Settings(  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'empty.db'}", environment="test", _env_file=None
    )
    with pytest.raises(ConfigurationError, match="puhui db upgrade"):
        load_run(settings, [row(0)], run_meta=META, month=MONTH)
