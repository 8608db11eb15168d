"""Loan-change records in SQL (SQLAlchemy Core)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, or_, select

from puhui.adapters.db.loan_changes.tables import loan_changes
from puhui.adapters.db.post_loan.tables import monitoring_alerts
from puhui.domain.lending.account import Arrears
from puhui.domain.lending.loan_changes import ChangeKind
from puhui.domain.monitoring.alerts import AlertStatus
from puhui.services.loan_changes.ports import ChangeStatus, LoanChangeRecord

_FIELDS = (
    "change_id",
    "loan_id",
    "status",
    "in_difficulty",
    "effective_on",
    "reason",
    "requested_by",
    "requested_at",
    "periods_before",
    "original_term_months",
    "maturity_before",
    "extension_months",
    "new_term_months",
    "new_loan_id",
    "principal_fen",
    "maturity_after",
    "observation_ends_on",
    "second_in_observation",
    "approved_by",
    "approved_at",
    "rejected_by",
    "rejected_at",
    "rejection_reason",
)


def _arrears(row: Any) -> Arrears | None:
    if row.arrears_days_past_due is None:
        return None
    return Arrears(
        principal_fen=row.arrears_principal_fen,
        interest_fen=row.arrears_interest_fen,
        penalty_fen=row.arrears_penalty_fen,
        overdue_since=row.arrears_overdue_since,
        days_past_due=row.arrears_days_past_due,
    )


def _record(row: Any) -> LoanChangeRecord:
    values = {name: getattr(row, name) for name in _FIELDS}
    rate = None if row.new_annual_rate is None else Decimal(row.new_annual_rate)
    return LoanChangeRecord(
        kind=ChangeKind(row.kind), new_annual_rate=rate, arrears=_arrears(row), **values
    )


def _values(record: LoanChangeRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _FIELDS}
    values["kind"] = record.kind.value
    rate = record.new_annual_rate
    values["new_annual_rate"] = None if rate is None else str(rate)
    arrears = record.arrears
    values["arrears_principal_fen"] = None if arrears is None else arrears.principal_fen
    values["arrears_interest_fen"] = None if arrears is None else arrears.interest_fen
    values["arrears_penalty_fen"] = None if arrears is None else arrears.penalty_fen
    values["arrears_overdue_since"] = None if arrears is None else arrears.overdue_since
    values["arrears_days_past_due"] = None if arrears is None else arrears.days_past_due
    return values


class SqlLoanChangeRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, record: LoanChangeRecord) -> None:
        self._connection.execute(loan_changes.insert().values(**_values(record)))

    def get(self, change_id: str, *, for_update: bool = False) -> LoanChangeRecord | None:
        query = select(loan_changes).where(loan_changes.c.change_id == change_id)
        if for_update:
            query = query.with_for_update()
        row = self._connection.execute(query).first()
        return None if row is None else _record(row)

    def save(self, record: LoanChangeRecord) -> None:
        values = _values(record)
        del values["change_id"]
        self._connection.execute(
            loan_changes.update()
            .where(loan_changes.c.change_id == record.change_id)
            .values(**values)
        )

    def of_loan(self, loan_id: str) -> list[LoanChangeRecord]:
        rows = self._connection.execute(
            select(loan_changes)
            .where(or_(loan_changes.c.loan_id == loan_id, loan_changes.c.new_loan_id == loan_id))
            .order_by(
                loan_changes.c.effective_on, loan_changes.c.requested_at, loan_changes.c.change_id
            )
        ).all()
        return [_record(r) for r in rows]

    def open_alert_count(self, enterprise_id: str) -> int:
        """Monitoring alerts of the enterprise not yet closed (open or acknowledged): a
        renewal needs monitoring clear. Only the count is read, never the sealed notes."""
        return int(
            self._connection.execute(
                select(func.count())
                .select_from(monitoring_alerts)
                .where(
                    monitoring_alerts.c.customer_id == enterprise_id,
                    monitoring_alerts.c.status != AlertStatus.CLOSED.value,
                )
            ).scalar_one()
        )

    def count_pending(self) -> int:
        found = self._connection.execute(
            select(func.count())
            .select_from(loan_changes)
            .where(loan_changes.c.status == ChangeStatus.REQUESTED)
        ).scalar_one()
        return int(found)

    def pending(self, *, limit: int, offset: int) -> list[LoanChangeRecord]:
        rows = self._connection.execute(
            select(loan_changes)
            .where(loan_changes.c.status == ChangeStatus.REQUESTED)
            .order_by(loan_changes.c.requested_at, loan_changes.c.change_id)
            .limit(limit)
            .offset(offset)
        ).all()
        return [_record(r) for r in rows]
