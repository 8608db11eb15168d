"""Fixtures of the reporting tests: a migrated database and its reporting store."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent))

from puhui.adapters.db.reporting import SqlReportingStore
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock


@pytest.fixture
def engine(platform: Platform) -> Engine:
    return platform.database.engine


@pytest.fixture
def store(engine: Engine, clock: FixedClock) -> SqlReportingStore:
    return SqlReportingStore(engine, clock=clock)
