"""Servicing repositories on SQL: rows in, records out; queries live here and nowhere else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.exc import IntegrityError

from puhui.adapters.db.servicing.tables import (
    credit_lines,
    eod_runs,
    journal_entries,
    journal_lines,
    loan_instalments,
    loan_products,
    loans,
    service_requests,
)
from puhui.domain.clock import Clock
from puhui.domain.daycount import DayCountBasis
from puhui.domain.errors import Conflict, IdempotencyConflict
from puhui.domain.ids import CreditLineId, ProductId, ReceiptId, new_id
from puhui.domain.ledger import Account, JournalEntry, Posting, TrialBalance
from puhui.domain.lending.delinquency import FiveCategory
from puhui.domain.lending.product import (
    Component,
    EarlyRepaymentMode,
    LoanProduct,
    RepaymentMethod,
)
from puhui.domain.money import Fen, Rounding
from puhui.services.servicing.ports import StoredRequest
from puhui.services.servicing.records import (
    CreditLineRecord,
    LineStatus,
    LoanKind,
    LoanRecord,
    LoanStatus,
    ProductRecord,
    ScheduledInstalment,
)


class StaleRecord(Conflict):
    """Someone else changed the row since it was read (optimistic version check)."""

    code = "stale_record"


class SqlProductRepository:
    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._connection = connection
        self._clock = clock

    def add(self, record: ProductRecord) -> None:
        p = record.product
        self._connection.execute(
            loan_products.insert().values(
                product_id=record.product_id,
                code=p.code,
                name=p.name,
                method=p.method.value,
                min_annual_rate=str(p.min_annual_rate),
                max_annual_rate=str(p.max_annual_rate),
                min_term_months=p.min_term_months,
                max_term_months=p.max_term_months,
                min_amount_fen=p.min_amount_fen,
                max_amount_fen=p.max_amount_fen,
                basis=p.basis.value,
                rounding=p.rounding.value,
                penalty_uplift=str(p.penalty_uplift),
                grace_days=p.grace_days,
                waterfall=",".join(c.value for c in p.waterfall),
                settlement_day=p.settlement_day,
                early_repayment=p.early_repayment.value,
                created_at=self._clock.now(),
            )
        )

    def get(self, product_id: ProductId) -> ProductRecord | None:
        row = self._connection.execute(
            select(loan_products).where(loan_products.c.product_id == product_id)
        ).one_or_none()
        return None if row is None else _product(row._mapping)

    def get_by_code(self, code: str) -> ProductRecord | None:
        row = self._connection.execute(
            select(loan_products).where(loan_products.c.code == code)
        ).one_or_none()
        return None if row is None else _product(row._mapping)


def _product(row: Any) -> ProductRecord:
    return ProductRecord(
        product_id=ProductId(row["product_id"]),
        product=LoanProduct(
            code=row["code"],
            name=row["name"],
            method=RepaymentMethod(row["method"]),
            min_annual_rate=Decimal(row["min_annual_rate"]),
            max_annual_rate=Decimal(row["max_annual_rate"]),
            min_term_months=row["min_term_months"],
            max_term_months=row["max_term_months"],
            min_amount_fen=row["min_amount_fen"],
            max_amount_fen=row["max_amount_fen"],
            basis=DayCountBasis(row["basis"]),
            rounding=Rounding(row["rounding"]),
            penalty_uplift=Decimal(row["penalty_uplift"]),
            grace_days=row["grace_days"],
            waterfall=tuple(Component(v) for v in row["waterfall"].split(",")),
            settlement_day=row["settlement_day"],
            early_repayment=EarlyRepaymentMode(row["early_repayment"]),
        ),
    )


def _line_values(record: CreditLineRecord) -> dict[str, Any]:
    values = asdict(record)
    values["annual_rate"] = str(record.annual_rate)
    values["status"] = record.status.value
    return values


class SqlCreditLineRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, record: CreditLineRecord) -> None:
        self._connection.execute(credit_lines.insert().values(**_line_values(record)))

    def get(self, line_id: CreditLineId, *, for_update: bool = False) -> CreditLineRecord | None:
        query = select(credit_lines).where(credit_lines.c.line_id == line_id)
        if for_update:
            query = query.with_for_update()
        row = self._connection.execute(query).one_or_none()
        if row is None:
            return None
        m = row._mapping
        return CreditLineRecord(
            line_id=CreditLineId(m["line_id"]),
            enterprise_id=m["enterprise_id"],
            product_id=ProductId(m["product_id"]),
            annual_rate=Decimal(m["annual_rate"]),
            limit_fen=m["limit_fen"],
            drawn_fen=m["drawn_fen"],
            opened_on=m["opened_on"],
            expiry_date=m["expiry_date"],
            status=LineStatus(m["status"]),
            version=m["version"],
        )

    def save(self, record: CreditLineRecord) -> None:
        values = _line_values(record)
        result = self._connection.execute(
            credit_lines.update()
            .where(credit_lines.c.line_id == record.line_id)
            .where(credit_lines.c.version == record.version - 1)
            .values(**values)
        )
        if result.rowcount != 1:
            raise StaleRecord(f"credit line {record.line_id} changed concurrently")


_RECEIPT_FIELDS = tuple(f.name for f in fields(LoanRecord))


def _receipt_values(record: LoanRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _RECEIPT_FIELDS}
    values["annual_rate"] = str(record.annual_rate)
    values["status"] = record.status.value
    values["category"] = record.category.value
    values["kind"] = record.kind.value
    values["method"] = record.method.value
    return values


def loan_from_row(m: Any) -> LoanRecord:
    values = {name: m[name] for name in _RECEIPT_FIELDS}
    values["loan_id"] = ReceiptId(m["loan_id"])
    values["annual_rate"] = Decimal(m["annual_rate"])
    values["status"] = LoanStatus(m["status"])
    values["category"] = FiveCategory(m["category"])
    values["kind"] = LoanKind(m["kind"])
    values["method"] = RepaymentMethod(m["method"])
    values["half_even"] = bool(m["half_even"])
    values["non_accrual"] = bool(m["non_accrual"])
    return LoanRecord(**values)


class SqlLoanRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, record: LoanRecord) -> None:
        self._connection.execute(loans.insert().values(**_receipt_values(record)))

    def get(self, loan_id: str, *, for_update: bool = False) -> LoanRecord | None:
        query = select(loans).where(loans.c.loan_id == loan_id)
        if for_update:
            query = query.with_for_update()
        row = self._connection.execute(query).one_or_none()
        return None if row is None else loan_from_row(row._mapping)

    def save(self, record: LoanRecord) -> None:
        result = self._connection.execute(
            loans.update()
            .where(loans.c.loan_id == record.loan_id)
            .where(loans.c.version == record.version - 1)
            .values(**_receipt_values(record))
        )
        if result.rowcount != 1:
            raise StaleRecord(f"receipt {record.loan_id} changed concurrently")


class SqlInstalmentRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def schedule(self, loan_id: str) -> list[ScheduledInstalment]:
        rows = self._connection.execute(
            select(loan_instalments)
            .where(loan_instalments.c.loan_id == loan_id)
            .order_by(loan_instalments.c.period)
        ).all()
        return [
            ScheduledInstalment(
                period=r.period,
                due_date=r.due_date,
                period_days=r.period_days,
                principal_fen=r.principal_fen,
                interest_fen=r.interest_fen,
            )
            for r in rows
        ]

    def replace_from(
        self, loan_id: str, first_period: int, instalments: Sequence[ScheduledInstalment]
    ) -> None:
        self._connection.execute(
            loan_instalments.delete()
            .where(loan_instalments.c.loan_id == loan_id)
            .where(loan_instalments.c.period >= first_period)
        )
        if instalments:
            self._connection.execute(
                loan_instalments.insert(),
                [
                    {
                        "loan_id": loan_id,
                        "period": i.period,
                        "due_date": i.due_date,
                        "period_days": i.period_days,
                        "principal_fen": i.principal_fen,
                        "interest_fen": i.interest_fen,
                    }
                    for i in instalments
                ],
            )


class SqlLedger:
    """The general ledger: entries and their lines are only ever inserted."""

    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._connection = connection
        self._clock = clock

    def post(self, entry: JournalEntry) -> str:
        entry_id = new_id("je")
        self._connection.execute(
            journal_entries.insert().values(
                entry_id=entry_id,
                idempotency_key=entry.idempotency_key,
                posted_on=entry.posted_on,
                description=entry.description[:400],
                reverses_key=entry.reverses_key,
                created_at=self._clock.now(),
            )
        )
        self._connection.execute(
            journal_lines.insert(),
            [
                {
                    "entry_id": entry_id,
                    "line_no": number,
                    "account": posting.account.code,
                    "amount_fen": posting.amount_fen,
                }
                for number, posting in enumerate(entry.postings, start=1)
            ],
        )
        return entry_id

    def get(self, idempotency_key: str) -> JournalEntry | None:
        head = self._connection.execute(
            select(journal_entries).where(journal_entries.c.idempotency_key == idempotency_key)
        ).one_or_none()
        if head is None:
            return None
        lines = self._connection.execute(
            select(journal_lines.c.account, journal_lines.c.amount_fen)
            .where(journal_lines.c.entry_id == head.entry_id)
            .order_by(journal_lines.c.line_no)
        ).all()
        return JournalEntry(
            idempotency_key=head.idempotency_key,
            posted_on=head.posted_on,
            description=head.description,
            postings=tuple(Posting(Account.from_code(a), Fen(v)) for a, v in lines),
            reverses_key=head.reverses_key,
        )

    def trial_balance(self, as_of: date) -> TrialBalance:
        rows = self._connection.execute(
            select(journal_lines.c.account, func.sum(journal_lines.c.amount_fen))
            .join(journal_entries, journal_entries.c.entry_id == journal_lines.c.entry_id)
            .where(journal_entries.c.posted_on <= as_of)
            .group_by(journal_lines.c.account)
        ).all()
        return TrialBalance(
            as_of=as_of,
            balances_fen={Account.from_code(code): int(total) for code, total in rows},
        )


class SqlRequestLog:
    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._connection = connection
        self._clock = clock

    def get(self, idempotency_key: str) -> StoredRequest | None:
        row = self._connection.execute(
            select(service_requests).where(service_requests.c.idempotency_key == idempotency_key)
        ).one_or_none()
        if row is None:
            return None
        return StoredRequest(
            idempotency_key=row.idempotency_key,
            operation=row.operation,
            request_digest=row.request_digest,
            result_json=row.result_json,
            undo_json=row.undo_json,
        )

    def add(self, request: StoredRequest) -> None:
        try:
            with self._connection.begin_nested():
                self._connection.execute(
                    service_requests.insert().values(
                        idempotency_key=request.idempotency_key,
                        operation=request.operation,
                        request_digest=request.request_digest,
                        result_json=request.result_json,
                        undo_json=request.undo_json,
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            # Two requests raced with one key on different entities; the loser is refused.
            raise IdempotencyConflict(
                f"idempotency key {request.idempotency_key!r} is being used by another request",
                details={"idempotency_key": request.idempotency_key},
            ) from None


class SqlBusinessDays:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def last_closed(self) -> date | None:
        value = self._connection.execute(select(func.max(eod_runs.c.as_of))).scalar_one()
        return value if isinstance(value, date) else None
