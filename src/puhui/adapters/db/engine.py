"""Engines for SQLite (embedded default) and PostgreSQL, configured the same way everywhere."""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from puhui.domain.errors import ConfigurationError

SQLITE_BUSY_TIMEOUT_MS = 30_000
POSTGRES_POOL_SIZE = 40
"""Connections a process keeps open: as many as the server's threadpool runs handlers (40,
anyio's default), so that no handler queues for a connection while another thread holds one
idle between statements. They are opened on demand, so a CLI opens one or two."""


def make_engine(database_url: str, *, echo: bool = False) -> Engine:
    """Build an engine; for SQLite create the folder, and turn on WAL and foreign keys.

    SQLite transactions start with ``BEGIN IMMEDIATE`` so that a read-then-write unit of
    work takes the write lock up front instead of failing half-way with "database is
    locked" when another writer got there first.
    """
    try:
        url = make_url(database_url)
    except (ArgumentError, ValueError) as exc:
        raise ConfigurationError(f"PUHUI_DATABASE_URL is not a database URL: {exc}") from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        _configure_sqlite(engine)
        return engine
    if backend == "postgresql":
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        # No ping on checkout: it was a round trip per unit of work (six per application).
        # A connection the server dropped fails its first statement instead; SQLAlchemy then
        # discards the whole pool, and the next unit of work connects afresh.
        return create_engine(url, echo=echo, pool_size=POSTGRES_POOL_SIZE, max_overflow=10)
    raise ConfigurationError(f"unsupported database {backend!r}: use sqlite or postgresql")


READ_ONLY_OPTION = "puhui_read_only"
"""Execution option of a connection whose transaction only reads (see ``SqlUnitOfWork``)."""


@contextmanager
def one_statement_cursor(engine: Engine) -> Iterator[Any]:
    """A driver cursor on a pooled connection, for one read statement outside a transaction.

    One statement is one consistent snapshot by itself. On PostgreSQL the connection runs it
    in autocommit: one round trip, where the driver's implicit transaction added a ``BEGIN``
    before it and the pool a ``ROLLBACK`` when the connection went back. (SQLite's driver
    connections are in autocommit already: the engine begins its transactions itself.)
    """
    connection = engine.raw_connection()
    try:
        driver: Any = connection.driver_connection
        autocommit = engine.dialect.name == "postgresql" and not driver.autocommit
        if autocommit:
            driver.autocommit = True
        try:
            cursor = connection.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            if autocommit:
                driver.autocommit = False
    finally:
        connection.close()  # back to the pool


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front (no deadlock on a read-to-write upgrade);
        # a read-only unit of work begins deferred: in WAL mode it reads a snapshot and
        # neither waits for writers nor makes them wait.
        # Straight to the driver: the statement takes no parameters and returns nothing, and
        # SQLAlchemy's execution path cost more than SQLite's BEGIN itself.
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION)
        driver = connection.connection.driver_connection
        driver.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")


def describe_url(database_url: str) -> str:
    """The URL with any password hidden, for logs and status output."""
    return make_url(database_url).render_as_string(hide_password=True)


_CHECKPOINTERS: weakref.WeakKeyDictionary[Engine, threading.Thread] = weakref.WeakKeyDictionary()
_CHECKPOINTERS_GUARD = threading.Lock()


def checkpoint_in_background(engine: Engine, *, every_seconds: float = 1.0) -> bool:
    """Take SQLite's WAL checkpoints off the request path (a server's engine).

    By default the commit that pushes the WAL past 1,000 pages copies it back into the
    database and syncs both files: a few milliseconds added to one unlucky request, which
    was most of the p99 of a decision. Here this engine's connections do not checkpoint on
    commit; a daemon thread of this process runs a PASSIVE checkpoint every
    ``every_seconds`` instead (it never blocks readers or the writer, and SQLite releases
    the GIL while it works). Returns False (and does nothing) for other databases or when
    the thread already runs; call it in each server process (threads do not survive fork).
    """
    path = engine.url.database
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return False
    with _CHECKPOINTERS_GUARD:
        running = _CHECKPOINTERS.get(engine)
        if running is not None and running.is_alive():
            return False

        @event.listens_for(engine, "connect")
        def _no_checkpoint_on_commit(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")

        # Connections opened before keep the default: start again from an empty pool.
        engine.dispose()
        database = str(Path(path).expanduser())
        owner = weakref.ref(engine)

        def run() -> None:
            connection = sqlite3.connect(database, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
            try:
                while owner() is not None:  # ends with the engine it serves
                    time.sleep(every_seconds)
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:  # the database went away (tests, shutdown): stop quietly
                return
            finally:
                connection.close()

        thread = threading.Thread(target=run, name="sqlite-wal-checkpointer", daemon=True)
        thread.start()
        _CHECKPOINTERS[engine] = thread
        return True
