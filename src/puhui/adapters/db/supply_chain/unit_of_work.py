"""The supply-chain unit of work: vouchers, the general ledger, the request log and
monitoring alerts on one connection, so one transaction spans them all."""

from __future__ import annotations

from sqlalchemy import Connection

from puhui.adapters.db.post_loan.repository import SqlMonitoringRepository
from puhui.adapters.db.servicing.repositories import SqlLedger
from puhui.adapters.db.supply_chain.repository import (
    SqlSupplyChainRepository,
    SqlVoucherRequests,
)
from puhui.adapters.db.unit_of_work import SqlUnitOfWork


class SupplyChainUnitOfWork(SqlUnitOfWork):
    _supply_chain: SqlSupplyChainRepository | None = None
    _ledger: SqlLedger | None = None
    _requests: SqlVoucherRequests | None = None
    _monitoring: SqlMonitoringRepository | None = None

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self._supply_chain = SqlSupplyChainRepository(connection, self.clock)
        self._ledger = SqlLedger(connection, self.clock)
        self._requests = SqlVoucherRequests(connection, self.clock)
        # No field cipher: the alerts raised here carry no sealed notes.
        self._monitoring = SqlMonitoringRepository(connection, self.clock)

    @property
    def supply_chain(self) -> SqlSupplyChainRepository:
        if self._supply_chain is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._supply_chain

    @property
    def ledger(self) -> SqlLedger:
        if self._ledger is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._ledger

    @property
    def requests(self) -> SqlVoucherRequests:
        if self._requests is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._requests

    @property
    def monitoring(self) -> SqlMonitoringRepository:
        if self._monitoring is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._monitoring

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name
