"""The server warms its decisioning up before the first applicant."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from puhui.domain.errors import ConfigurationError
from puhui.services.origination.assessment import StrategyAssessor
from puhui.services.origination.governance import LiveSetup


@dataclass
class CountingSetup:
    calls: int = 0
    fail: bool = False

    def current(self) -> LiveSetup:
        self.calls += 1
        if self.fail:
            raise ConfigurationError("no active strategy version")
        return LiveSetup(None, None, None)


def test_warm_up_loads_what_decides_now_once() -> None:
    source = CountingSetup()
    StrategyAssessor(live=source).warm_up()
    assert source.calls == 1


def test_a_setup_that_cannot_load_yet_does_not_stop_the_server(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = CountingSetup(fail=True)
    StrategyAssessor(live=source).warm_up()
    assert source.calls == 1
    assert "decisioning not warmed up: no active strategy version" in caplog.text


class BrokenStore:
    def current(self) -> LiveSetup:
        raise OSError("no such table: strategy_challengers")


def test_a_database_not_yet_migrated_does_not_stop_the_server(
    caplog: pytest.LogCaptureFixture,
) -> None:
    StrategyAssessor(live=BrokenStore()).warm_up()
    assert "decisioning not warmed up: OSError: no such table" in caplog.text
