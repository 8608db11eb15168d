"""The monitoring unit of work: audit trail, monitoring repository and the notification
outbox, one transaction."""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.outbox import SqlOutbox
from puhui.adapters.db.post_loan.repository import SqlMonitoringRepository
from puhui.adapters.db.unit_of_work import SqlUnitOfWork
from puhui.domain.clock import Clock


class MonitoringUnitOfWork(SqlUnitOfWork):
    """``cipher`` seals the free-text notes; without it only empty notes can be written or
    read (a sealed note met without the key is an error, never shown sealed)."""

    _monitoring: SqlMonitoringRepository | None = None
    _outbox: SqlOutbox | None = None

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock,
        audit_key: bytes,
        cipher: FieldCipher | None = None,
        read_only: bool = False,
    ) -> None:
        super().__init__(engine, clock=clock, audit_key=audit_key, read_only=read_only)
        self._cipher = cipher

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self._monitoring = SqlMonitoringRepository(connection, self.clock, self._cipher)
        self._outbox = SqlOutbox(connection, self._cipher)

    @property
    def monitoring(self) -> SqlMonitoringRepository:
        if self._monitoring is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._monitoring

    @property
    def outbox(self) -> SqlOutbox:
        """The notification outbox, in this unit's transaction (the cipher seals recipients)."""
        if self._outbox is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._outbox
