"""Fixtures of origination tests: services wired to fakes, or to a migrated database."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The helpers beside this file are plain modules, not a package: make them importable
# whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).parent))

from origination_fakes import FakeUnitOfWork, Store
from origination_wiring import AUDIT_KEY, DATA_KEY, Wired, migrated_engine, wire
from sqlalchemy import Engine

from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.origination.unit_of_work import OriginationUnits
from puhui.domain.clock import FixedClock


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def fake(store: Store, clock: FixedClock) -> Wired:
    """Services over the in-memory unit of work: no I/O."""
    return wire(lambda: FakeUnitOfWork(store, clock), clock)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = migrated_engine(database_url)
    try:
        yield built
    finally:
        built.dispose()


@pytest.fixture
def db(engine: Engine, clock: FixedClock) -> Wired:
    """Services over the SQL unit of work on SQLite and PostgreSQL (wired as the API wires
    them: on PostgreSQL an assessment runs in one transaction)."""
    units = OriginationUnits(engine, clock=clock, audit_key=AUDIT_KEY, cipher=FieldCipher(DATA_KEY))
    return wire(
        units.writer,
        clock,
        reader_factory=units.reader,
        decide_in_one_transaction=engine.dialect.name == "postgresql",
    )
