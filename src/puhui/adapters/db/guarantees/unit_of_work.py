"""The guarantee unit of work: guarantees, the general ledger and the audit trail on one
connection, so one transaction spans them all."""

from __future__ import annotations

from sqlalchemy import Connection

from puhui.adapters.db.guarantees.repository import SqlGuaranteeRepository
from puhui.adapters.db.servicing.repositories import SqlLedger
from puhui.adapters.db.unit_of_work import SqlUnitOfWork


class GuaranteeUnitOfWork(SqlUnitOfWork):
    _guarantees: SqlGuaranteeRepository | None = None
    _ledger: SqlLedger | None = None

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self._guarantees = SqlGuaranteeRepository(connection, self.clock)
        self._ledger = SqlLedger(connection, self.clock)

    @property
    def guarantees(self) -> SqlGuaranteeRepository:
        if self._guarantees is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._guarantees

    @property
    def ledger(self) -> SqlLedger:
        if self._ledger is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._ledger
