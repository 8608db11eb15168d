"""The servicing unit of work: the audit trail plus servicing repositories on one transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, Engine

from puhui.adapters.db.servicing.repositories import (
    SqlBusinessDays,
    SqlCreditLineRepository,
    SqlInstalmentRepository,
    SqlLedger,
    SqlLoanRepository,
    SqlProductRepository,
    SqlReconciliationRuns,
    SqlRequestLog,
    SqlSuspense,
)
from puhui.adapters.db.unit_of_work import SqlUnitOfWork
from puhui.domain.clock import Clock


class ServicingUnitOfWork(SqlUnitOfWork):
    _products: SqlProductRepository | None = None
    _lines: SqlCreditLineRepository | None = None
    _loans: SqlLoanRepository | None = None
    _instalments: SqlInstalmentRepository | None = None
    _ledger: SqlLedger | None = None
    _requests: SqlRequestLog | None = None
    _business_days: SqlBusinessDays | None = None
    _reconciliations: SqlReconciliationRuns | None = None
    _suspense: SqlSuspense | None = None

    def _bind(self, connection: Connection) -> None:
        super()._bind(connection)
        self._products = SqlProductRepository(connection, self.clock)
        self._lines = SqlCreditLineRepository(connection)
        self._loans = SqlLoanRepository(connection)
        self._instalments = SqlInstalmentRepository(connection)
        self._ledger = SqlLedger(connection, self.clock)
        self._requests = SqlRequestLog(connection, self.clock)
        self._business_days = SqlBusinessDays(connection)
        self._reconciliations = SqlReconciliationRuns(connection)
        self._suspense = SqlSuspense(connection)

    @property
    def products(self) -> SqlProductRepository:
        if self._products is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._products

    @property
    def lines(self) -> SqlCreditLineRepository:
        if self._lines is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._lines

    @property
    def loans(self) -> SqlLoanRepository:
        if self._loans is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._loans

    @property
    def instalments(self) -> SqlInstalmentRepository:
        if self._instalments is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._instalments

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

    @property
    def business_days(self) -> SqlBusinessDays:
        if self._business_days is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._business_days

    @property
    def reconciliations(self) -> SqlReconciliationRuns:
        if self._reconciliations is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._reconciliations

    @property
    def suspense(self) -> SqlSuspense:
        if self._suspense is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._suspense


def servicing_units(
    engine: Engine, *, clock: Clock, audit_key: bytes
) -> Callable[[], ServicingUnitOfWork]:
    """A factory of servicing units of work (what entry points hand to the use cases)."""
    return lambda: ServicingUnitOfWork(engine, clock=clock, audit_key=audit_key)
