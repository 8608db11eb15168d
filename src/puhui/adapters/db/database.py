"""One handle on the platform's database: engine, units of work and migrations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

from puhui.adapters.db import migrate
from puhui.adapters.db.encryption import FieldCipher
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

    def upgrade(
        self, revision: str = "heads", *, field_cipher: FieldCipher | None = None
    ) -> migrate.MigrationStatus:
        return migrate.upgrade(self.engine, revision, field_cipher=field_cipher)

    def reset(self) -> None:
        """Erase every table of the database, data and all; the caller migrates afresh.

        For the demo's ``--reset`` on a database it was told it may erase. Not the
        migrations' downgrades: those drop tables in an order that child rows forbid.
        """
        if self.dialect == "sqlite":
            raw = self.engine.raw_connection()
            try:
                driver: Any = raw.driver_connection
                names = [
                    row[0]
                    for row in driver.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite_%'"
                    )
                ]
                driver.execute("PRAGMA foreign_keys = OFF")
                for name in names:
                    driver.execute(f'DROP TABLE IF EXISTS "{name}"')
                driver.execute("PRAGMA foreign_keys = ON")
            finally:
                raw.close()
            return
        with self.engine.begin() as connection:
            tables = connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
            for name in list(tables):
                connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
            sequences = connection.execute(
                text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
            ).scalars()
            for name in list(sequences):  # the audit events' numbers (not owned by a table)
                connection.execute(text(f'DROP SEQUENCE IF EXISTS "{name}" CASCADE'))
            for function in ("journal_append_only()", "journal_entry_balanced()"):
                connection.execute(text(f"DROP FUNCTION IF EXISTS {function} CASCADE"))

    def status(self) -> migrate.MigrationStatus:
        return migrate.status(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()
