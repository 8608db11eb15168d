"""Shared fixtures: a fresh database per test, on SQLite and (when available) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.bootstrap import Platform, Settings, build_platform
from puhui.domain.clock import FixedClock

PG_ENV = "PUHUI_TEST_DATABASE_URL"


def _postgres_admin_url() -> str:
    """The server this process tests against. ``PUHUI_TEST_DATABASE_URL`` may name several,
    separated by spaces (``.ci/run`` starts one per pytest worker): worker ``gwN`` takes the
    Nth, so no worker's transactions hold back another's audit sealing (ADR 0063)."""
    urls = os.environ.get(PG_ENV, "").split()
    if urls:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
        return urls[int(worker) % len(urls) if worker.isdigit() else 0]
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{PG_ENV} must be set in CI: the PostgreSQL tests may not be skipped there")
    pytest.skip(f"{PG_ENV} is not set: no PostgreSQL server to test against (.ci/run starts one)")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a new, empty PostgreSQL database, dropped after the test."""
    admin_url = make_url(_postgres_admin_url())
    name = f"puhui_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'puhui.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same test, once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a migrated database, once on SQLite and once on PostgreSQL."""
    built = make_engine(database_url)
    migrate.upgrade(built)
    try:
        yield built
    finally:
        built.dispose()


def _query_plan(engine: Engine, sql: str, parameters: Any) -> str:
    """The plan the database chooses for a captured statement, as one line of text (SQLite's
    ``EXPLAIN QUERY PLAN``, PostgreSQL's ``EXPLAIN`` with sequential scans discouraged: a
    test's few rows are cheapest to scan, so it asks whether an index *can* serve)."""
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as connection:
        if postgres:
            connection.execute(text("SET enable_seqscan = off"))
        explain = "EXPLAIN" if postgres else "EXPLAIN QUERY PLAN"
        rows = connection.exec_driver_sql(f"{explain} {sql}", parameters)
        return " ".join(str(row) for row in rows)


@pytest.fixture
def query_plan() -> Callable[[Engine, str, Any], str]:
    """``query_plan(engine, sql, parameters)``: the plan of a statement a test captured."""
    return _query_plan


@contextmanager
def _statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield captured
    finally:
        event.remove(engine, "before_cursor_execute", capture)


@pytest.fixture
def statements() -> Callable[[Engine], AbstractContextManager[list[tuple[str, Any]]]]:
    """``with statements(engine) as captured:``: the (SQL, parameters) the block ran."""
    return _statements


def _table_indexes(engine: Engine, table: str) -> set[str]:
    catalogue = (
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :table"
        if engine.dialect.name == "sqlite"
        else "SELECT indexname FROM pg_indexes WHERE tablename = :table"
    )
    with engine.connect() as connection:
        return set(connection.execute(text(catalogue), {"table": table}).scalars())


@pytest.fixture
def table_indexes() -> Callable[[Engine, str], set[str]]:
    """``table_indexes(engine, table)``: the names of a table's indexes, from the catalogue."""
    return _table_indexes


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 1, 30, tzinfo=UTC))


@pytest.fixture
def platform(database_url: str, clock: FixedClock) -> Iterator[Platform]:
    """A platform on a fresh, migrated database."""
    built = build_platform(
        Settings(database_url=database_url, environment="test", _env_file=None),  # type: ignore[call-arg]
        clock=clock,
    )
    built.database.upgrade()
    try:
        yield built
    finally:
        built.close()


DATABASE_FIXTURES = frozenset({"database_url", "sqlite_url", "postgres_url", "platform"})
"""A test that asks for any of these (directly or through another fixture) uses a database."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """One layout (by area), two kinds by marker: ``integration`` tests use a database,
    ``unit`` tests do not (``pytest -m unit`` runs them alone, in seconds)."""
    for item in items:
        uses_database = not DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))
        item.add_marker(pytest.mark.integration if uses_database else pytest.mark.unit)
