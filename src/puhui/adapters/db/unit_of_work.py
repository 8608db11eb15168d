"""The SQL unit of work: one connection, one transaction, repositories bound to it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine, func, inspect, select, table

from puhui.adapters.db.audit_repository import SqlAuditLog
from puhui.adapters.db.audit_sealer import seal_after_commit
from puhui.adapters.db.engine import READ_ONLY_OPTION
from puhui.domain.clock import Clock


class SqlUnitOfWork:
    """Opens a transaction on enter; rolls back on exit unless ``commit()`` was called.

    Bounded contexts extend it: a subclass overrides ``_bind`` to create its repositories on
    the same connection (calling ``super()._bind``), so that one transaction can span the
    audit trail, servicing and origination.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock,
        audit_key: bytes,
        read_only: bool = False,
        one_statement: bool = False,
    ) -> None:
        if one_statement and not read_only:
            raise ValueError("a one-statement unit of work only reads")
        self._engine = engine
        self._clock = clock
        self._audit_key = audit_key
        self._read_only = read_only
        self._one_statement = one_statement
        self._connection: Connection | None = None
        self._audit: SqlAuditLog | None = None

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._connection

    @property
    def read_only(self) -> bool:
        """Reads one consistent snapshot and may not write (nor commit, nor audit)."""
        return self._read_only

    def __enter__(self) -> Self:
        connection = self._engine.connect()
        if self._one_statement and self._engine.dialect.name == "postgresql":
            # A unit that reads with one statement: that statement is one snapshot by itself.
            # In autocommit it is one round trip, where BEGIN and the ROLLBACK made it three.
            connection.execution_options(**{READ_ONLY_OPTION: True}, isolation_level="AUTOCOMMIT")
        elif self._read_only:
            connection.execution_options(
                **{READ_ONLY_OPTION: True},
                # PostgreSQL: one snapshot for every query of the unit of work (a statement
                # reads several tables and must not see a repayment land between them).
                **(
                    {"postgresql_readonly": True, "isolation_level": "REPEATABLE READ"}
                    if self._engine.dialect.name == "postgresql"
                    else {}
                ),
            )
        self._connection = connection
        connection.begin()
        self._bind(self._connection)
        return self

    def _bind(self, connection: Connection) -> None:
        """Create the repositories of this unit of work on its connection."""
        self._audit = SqlAuditLog(
            connection, clock=self._clock, key=self._audit_key, read_only=self._read_only
        )

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def audit(self) -> SqlAuditLog:
        if self._audit is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._audit

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection = self.connection
        try:
            if connection.in_transaction():
                connection.rollback()
        finally:
            connection.close()
            self._connection = None
            self._audit = None

    def commit(self) -> None:
        self._refuse_if_read_only()
        # No eager re-begin: the next statement starts a transaction by itself (autobegin),
        # so a unit of work that ends after its commit takes no second write lock on SQLite.
        self.connection.commit()
        self._seal_committed_events()

    def _seal_committed_events(self) -> None:
        """PostgreSQL: events written pending are sealed now or by the server's sealer."""
        seal_after_commit(self.connection, key=self._audit_key)

    def rollback(self) -> None:
        self.connection.rollback()

    def _refuse_if_read_only(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit: open a writing one")

    def table_counts(self) -> dict[str, int]:
        """Rows in every table of the schema (read from the database, not from imports)."""
        names = sorted(set(inspect(self.connection).get_table_names()) - {"alembic_version"})
        return {
            name: int(
                self.connection.execute(select(func.count()).select_from(table(name))).scalar_one()
            )
            for name in names
        }
