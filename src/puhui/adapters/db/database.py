"""One handle on the platform's database: engine, units of work and migrations."""

from __future__ import annotations

from sqlalchemy import Engine

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import describe_url, make_engine
from puhui.adapters.db.unit_of_work import SqlUnitOfWork
from puhui.domain.clock import Clock


class Database:
    def __init__(self, url: str, *, clock: Clock, audit_key: bytes) -> None:
        self.engine: Engine = make_engine(url)
        self.display_url = describe_url(url)
        self._clock = clock
        self._audit_key = audit_key

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, clock=self._clock, audit_key=self._audit_key)

    def upgrade(self, revision: str = "heads") -> migrate.MigrationStatus:
        return migrate.upgrade(self.engine, revision)

    def reset(self) -> migrate.MigrationStatus:
        """Erase the platform's schema and data (every migration undone); the caller upgrades."""
        return migrate.downgrade(self.engine, "base")

    def status(self) -> migrate.MigrationStatus:
        return migrate.status(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
