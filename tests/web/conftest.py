"""Fixtures of API tests: the app on a migrated SQLite (or each) database."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The helpers here and in ../origination are plain modules, not packages.
sys.path.insert(0, str(Path(__file__).parent.parent / "origination"))
sys.path.insert(0, str(Path(__file__).parent))

from api_support import Api, build_api, build_servicing_api

from puhui.domain.clock import FixedClock


@pytest.fixture
def api(sqlite_url: str, clock: FixedClock) -> Iterator[Api]:
    built, engine = build_api(sqlite_url, clock)
    try:
        yield built
    finally:
        built.client.close()
        engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def api_on_each_database(database_url: str, clock: FixedClock) -> Iterator[Api]:
    built, engine = build_api(database_url, clock)
    try:
        yield built
    finally:
        built.client.close()
        engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def servicing_api(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[Api]:
    built, engine = build_servicing_api(database_url, clock, tmp_path / "models")
    try:
        yield built
    finally:
        built.client.close()
        engine.dispose()  # type: ignore[attr-defined]
