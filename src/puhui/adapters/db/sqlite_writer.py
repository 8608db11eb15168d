"""One writer at a time on a SQLite file: a lock that threads and processes queue on."""

from __future__ import annotations

import os
import threading
import weakref

from sqlalchemy import Engine

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: the in-process lock alone
    fcntl = None  # type: ignore[assignment]


class SqliteWriterLock:
    """Serialises SQLite writers in turn: threads of a process, then processes on one file.

    SQLite admits one writer, and every transaction here begins IMMEDIATE. Writers that
    queue on a lock are woken the moment it is free; writers left to SQLite's busy handler
    sleep and poll with growing back-off, which under 32 concurrent requests turned
    milliseconds into seconds. ``flock`` on a file beside the database extends the queue
    to several server processes (uvicorn workers) on the same file.
    """

    def __init__(self, database_path: str | None) -> None:
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        if database_path and fcntl is not None:
            self._fd = os.open(f"{database_path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
            weakref.finalize(self, os.close, self._fd)

    def acquire(self) -> None:
        self._thread_lock.acquire()
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread_lock.release()
                raise

    def __enter__(self) -> None:
        self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, SqliteWriterLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def writer_lock(engine: Engine) -> SqliteWriterLock | None:
    """One writer lock per SQLite engine; PostgreSQL needs none (row locks serialise)."""
    if engine.dialect.name != "sqlite":
        return None
    with _LOCKS_GUARD:
        lock = _WRITER_LOCKS.get(engine)
        if lock is None:
            path = engine.url.database
            on_disk = path if path and path != ":memory:" and not path.startswith("file:") else None
            lock = _WRITER_LOCKS[engine] = SqliteWriterLock(on_disk)
        return lock
