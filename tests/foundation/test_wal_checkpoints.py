"""A server's WAL checkpointer keeps SQLite's log short while readers keep coming."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from puhui.adapters.db import engine as engine_module
from puhui.adapters.db.engine import checkpoint_wal, make_engine
from puhui.adapters.db.sqlite_writer import SqliteWriterLock, writer_lock

LIMIT = 256 * 1024
"""The log file's size limit in these tests (``WAL_SIZE_LIMIT``, made small)."""


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(engine_module, "WAL_SIZE_LIMIT", LIMIT)
    return tmp_path / "puhui.db"


@pytest.fixture
def engine(database: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{database}")
    with engine.begin() as c:
        c.exec_driver_sql("PRAGMA wal_autocheckpoint=0")  # as the server's connections
        c.exec_driver_sql("CREATE TABLE filler (x BLOB)")
    yield engine
    engine.dispose()


@pytest.fixture
def checkpointer(database: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(database, check_same_thread=False)
    yield connection
    connection.close()


def _write(engine: Engine, rows: int) -> None:
    with engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        for _ in range(rows):  # one transaction each, as requests commit
            c.execute(text("INSERT INTO filler VALUES (randomblob(4000))"))
            c.commit()


def _reader(database: Path) -> sqlite3.Connection:
    """A connection inside a read transaction: it holds its snapshot of the log."""
    reader = sqlite3.connect(database, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM filler").fetchone()
    return reader


def _wal(database: Path) -> int:
    return Path(f"{database}-wal").stat().st_size


def test_a_long_log_is_emptied_once_the_readers_leave_it(
    database: Path,
    engine: Engine,
    checkpointer: sqlite3.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lock = writer_lock(engine)
    assert lock is not None
    # A reader always on the log, as under steady traffic: no writer may start it again.
    reader = _reader(database)
    _write(engine, 300)
    reader.close()
    reader = _reader(database)
    _write(engine, 300)
    grown = _wal(database)
    assert grown > 2_000_000
    # While that reader stays, the restart gives up after a moment; the log is untouched.
    assert not checkpoint_wal(checkpointer, lock, restart_pages=100)
    assert not _is_taken(lock)
    _write(engine, 1)
    assert _wal(database) >= grown
    # Given longer, the restart waits for the reader, holding the writers back meanwhile.
    monkeypatch.setattr(engine_module, "RESTART_WAIT_MS", 30_000)
    restarted: list[bool] = []
    waiting = threading.Thread(
        target=lambda: restarted.append(checkpoint_wal(checkpointer, lock, restart_pages=100))
    )
    waiting.start()
    time.sleep(0.3)
    assert waiting.is_alive()
    assert _is_taken(lock)
    reader.close()
    waiting.join(timeout=30)
    assert restarted == [True]
    assert _wal(database) == 0
    # The next write begins the log anew.
    _write(engine, 1)
    assert _wal(database) <= LIMIT
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM filler")).scalar_one() == 602


def test_a_short_log_is_only_copied_back(
    database: Path, engine: Engine, checkpointer: sqlite3.Connection
) -> None:
    lock = writer_lock(engine)
    assert lock is not None
    _write(engine, 20)
    assert not checkpoint_wal(checkpointer, lock, restart_pages=100)
    # Copied into the database file all the same (20 pages of 4 KB and more).
    assert database.stat().st_size > 80_000


def _is_taken(lock: SqliteWriterLock) -> bool:
    """Whether another thread holds ``lock`` (tried from a thread that waits half a second)."""
    outcome: list[bool] = []

    def attempt() -> None:
        lock.acquire()
        lock.release()
        outcome.append(True)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout=0.5)
    return not outcome
