"""Fixtures of the demo stages' tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from puhui.bootstrap import Platform, Settings, build_platform
from puhui.domain.clock import FixedClock


@pytest.fixture
def book_platform(database_url: str) -> Iterator[tuple[Platform, FixedClock]]:
    """A migrated platform (the shipped strategy active as version 1) on a clock at 2 January
    2026, 02:00 UTC, which the test moves day by day."""
    clock = FixedClock(datetime(2026, 1, 2, 2, 0, tzinfo=UTC))
    built = build_platform(
        Settings(database_url=database_url, environment="test", _env_file=None),  # type: ignore[call-arg]
        clock=clock,
    )
    built.migrate()
    try:
        yield built, clock
    finally:
        built.close()
