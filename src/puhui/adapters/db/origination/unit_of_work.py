"""The origination unit of work: audit trail, origination and security repositories, one tx."""

from __future__ import annotations

import os
import threading
import weakref
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.origination.decisions import SqlDecisionRecordRepository
from puhui.adapters.db.origination.repositories import (
    SqlApplicationRepository,
    SqlConsentRepository,
    SqlContractRepository,
    SqlFraudListRepository,
    SqlIdempotencyRepository,
    SqlOfferRepository,
)
from puhui.adapters.db.security.repositories import (
    SqlApiKeyRepository,
    SqlOtpRepository,
    SqlUserRepository,
)
from puhui.adapters.db.security.sessions import SqlRateLimitRepository, SqlSessionRepository
from puhui.adapters.db.unit_of_work import SqlUnitOfWork
from puhui.domain.clock import Clock

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

    def release(self) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, SqliteWriterLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> SqliteWriterLock | None:
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


class OriginationUnitOfWork(SqlUnitOfWork):
    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock,
        audit_key: bytes,
        cipher: FieldCipher,
        read_only: bool = False,
    ) -> None:
        super().__init__(engine, clock=clock, audit_key=audit_key, read_only=read_only)
        self._cipher = cipher
        # Readers take no writer lock: they read a snapshot (WAL) beside the writer.
        self._lock = None if read_only else _writer_lock(engine)

    def __enter__(self) -> Self:
        if self._lock is not None:
            self._lock.acquire()
        try:
            return super().__enter__()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            if self._lock is not None:
                self._lock.release()

    def commit(self) -> None:
        # No eager re-begin: on SQLite that would be a second BEGIN IMMEDIATE (the write
        # lock) that most units of work never use. A statement after the commit begins a
        # new transaction by itself (SQLAlchemy autobegin, through the engine's begin hook).
        self._refuse_if_read_only()
        self.connection.commit()
        self._seal_committed_events()

    def rollback(self) -> None:
        self.connection.rollback()

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        cipher = self._cipher
        self._applications = SqlApplicationRepository(connection, cipher)
        self._consents = SqlConsentRepository(connection)
        self._offers = SqlOfferRepository(connection)
        self._contracts = SqlContractRepository(connection)
        self._fraud_lists = SqlFraudListRepository(connection, cipher, self.clock)
        self._idempotency = SqlIdempotencyRepository(connection)
        self._decisions = SqlDecisionRecordRepository(connection)
        self._users = SqlUserRepository(connection, cipher)
        self._api_keys = SqlApiKeyRepository(connection)
        self._otps = SqlOtpRepository(connection, cipher)
        self._sessions = SqlSessionRepository(connection)
        self._rate_limits = SqlRateLimitRepository(connection, cipher)

    @property
    def sessions(self) -> SqlSessionRepository:
        return self._sessions

    @property
    def rate_limits(self) -> SqlRateLimitRepository:
        return self._rate_limits

    @property
    def applications(self) -> SqlApplicationRepository:
        return self._applications

    @property
    def consents(self) -> SqlConsentRepository:
        return self._consents

    @property
    def offers(self) -> SqlOfferRepository:
        return self._offers

    @property
    def contracts(self) -> SqlContractRepository:
        return self._contracts

    @property
    def fraud_lists(self) -> SqlFraudListRepository:
        return self._fraud_lists

    @property
    def idempotency(self) -> SqlIdempotencyRepository:
        return self._idempotency

    @property
    def decisions(self) -> SqlDecisionRecordRepository:
        return self._decisions

    @property
    def users(self) -> SqlUserRepository:
        return self._users

    @property
    def api_keys(self) -> SqlApiKeyRepository:
        return self._api_keys

    @property
    def otps(self) -> SqlOtpRepository:
        return self._otps


@dataclass(frozen=True)
class OriginationUnits:
    """The two kinds of unit of work origination needs, over one engine and one cipher."""

    engine: Engine
    clock: Clock
    audit_key: bytes
    cipher: FieldCipher

    def writer(self) -> OriginationUnitOfWork:
        return OriginationUnitOfWork(
            self.engine, clock=self.clock, audit_key=self.audit_key, cipher=self.cipher
        )

    def reader(self) -> OriginationUnitOfWork:
        return OriginationUnitOfWork(
            self.engine,
            clock=self.clock,
            audit_key=self.audit_key,
            cipher=self.cipher,
            read_only=True,
        )
