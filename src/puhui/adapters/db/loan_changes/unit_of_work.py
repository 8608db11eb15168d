"""The loan-change unit of work: servicing's repositories plus change records, one transaction."""

from __future__ import annotations

from sqlalchemy import Connection

from puhui.adapters.db.loan_changes.repository import SqlLoanChangeRepository
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork


class LoanChangesUnitOfWork(ServicingUnitOfWork):
    _changes: SqlLoanChangeRepository | None = None

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self._changes = SqlLoanChangeRepository(connection)

    @property
    def changes(self) -> SqlLoanChangeRepository:
        if self._changes is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._changes
