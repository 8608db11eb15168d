"""The origination unit of work: audit trail, origination and security repositories, one tx."""

from __future__ import annotations

import threading
import weakref
from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine

from puhui.adapters.db.origination.encryption import FieldCipher
from puhui.adapters.db.origination.repositories import (
    SqlApiKeyRepository,
    SqlApplicationRepository,
    SqlConsentRepository,
    SqlContractRepository,
    SqlFraudListRepository,
    SqlIdempotencyRepository,
    SqlOfferRepository,
    SqlOtpRepository,
    SqlUserRepository,
)
from puhui.adapters.db.unit_of_work import SqlUnitOfWork
from puhui.domain.clock import Clock

_WRITER_LOCKS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def _writer_lock(engine: Engine) -> threading.Lock | None:
    """One in-process lock per SQLite engine; PostgreSQL needs none.

    SQLite admits one writer, and every transaction here begins IMMEDIATE. Threads that
    queue on a Python lock are served in turn; threads left to SQLite's busy handler sleep
    and poll, which under 32 concurrent requests turns milliseconds into seconds.
    """
    if engine.dialect.name != "sqlite":
        return None
    with _LOCKS_GUARD:
        lock = _WRITER_LOCKS.get(engine)
        if lock is None:
            lock = _WRITER_LOCKS[engine] = threading.Lock()
        return lock


class OriginationUnitOfWork(SqlUnitOfWork):
    def __init__(
        self, engine: Engine, *, clock: Clock, audit_key: bytes, cipher: FieldCipher
    ) -> None:
        super().__init__(engine, clock=clock, audit_key=audit_key)
        self._cipher = cipher
        self._lock = _writer_lock(engine)

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

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        cipher = self._cipher
        self._applications = SqlApplicationRepository(connection, cipher)
        self._consents = SqlConsentRepository(connection)
        self._offers = SqlOfferRepository(connection)
        self._contracts = SqlContractRepository(connection)
        self._fraud_lists = SqlFraudListRepository(connection, cipher, self.clock)
        self._idempotency = SqlIdempotencyRepository(connection)
        self._users = SqlUserRepository(connection, cipher)
        self._api_keys = SqlApiKeyRepository(connection)
        self._otps = SqlOtpRepository(connection, cipher)

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
    def users(self) -> SqlUserRepository:
        return self._users

    @property
    def api_keys(self) -> SqlApiKeyRepository:
        return self._api_keys

    @property
    def otps(self) -> SqlOtpRepository:
        return self._otps
