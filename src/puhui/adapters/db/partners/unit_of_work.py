"""The partner unit of work: partner tables and the general ledger on one connection."""

from __future__ import annotations

from sqlalchemy import Connection

from puhui.adapters.db.partners.repository import SqlPartnerRepository
from puhui.adapters.db.servicing.repositories import SqlLedger, SqlRequestLog
from puhui.adapters.db.unit_of_work import SqlUnitOfWork


class PartnerUnitOfWork(SqlUnitOfWork):
    _partners: SqlPartnerRepository | None = None
    _ledger: SqlLedger | None = None
    _requests: SqlRequestLog | None = None

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self._partners = SqlPartnerRepository(connection, self.clock)
        self._ledger = SqlLedger(connection, self.clock)
        self._requests = SqlRequestLog(connection, self.clock)

    @property
    def partners(self) -> SqlPartnerRepository:
        if self._partners is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._partners

    @property
    def ledger(self) -> SqlLedger:
        if self._ledger is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._ledger

    @property
    def requests(self) -> SqlRequestLog:
        if self._requests is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._requests
