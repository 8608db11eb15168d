"""The monitoring unit of work: audit trail + monitoring repository, one transaction."""

from __future__ import annotations

from sqlalchemy import Connection

from puhui.adapters.db.post_loan.repository import SqlMonitoringRepository
from puhui.adapters.db.unit_of_work import SqlUnitOfWork


class MonitoringUnitOfWork(SqlUnitOfWork):
    _monitoring: SqlMonitoringRepository | None = None

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self._monitoring = SqlMonitoringRepository(connection, self.clock)

    @property
    def monitoring(self) -> SqlMonitoringRepository:
        if self._monitoring is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._monitoring
