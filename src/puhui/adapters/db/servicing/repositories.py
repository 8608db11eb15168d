"""Servicing repositories on SQL: rows in, records out; queries live here and nowhere else."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    cast,
    false,
    func,
    literal_column,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError

from puhui.adapters.db.servicing.tables import (
    accrual_entries,
    credit_lines,
    eod_runs,
    eod_steps,
    journal_entries,
    journal_lines,
    loan_instalments,
    loan_products,
    loans,
    repayment_reconciliation_breaks,
    repayment_reconciliations,
    repayment_suspense,
    service_requests,
)
from puhui.domain.clock import Clock
from puhui.domain.daycount import DayCountBasis
from puhui.domain.errors import Conflict, IdempotencyConflict
from puhui.domain.ids import CreditLineId, LoanId, ProductId, ReceiptId, new_id
from puhui.domain.ledger import Account, JournalEntry, Posting, TrialBalance
from puhui.domain.lending.account import (
    LoanAccount,
    LoanAccountId,
    LoanKind,
    LoanStatus,
)
from puhui.domain.lending.delinquency import FiveCategory
from puhui.domain.lending.product import (
    Component,
    EarlyRepaymentMode,
    LoanProduct,
    RepaymentMethod,
)
from puhui.domain.lending.reconciliation import (
    Break,
    BreakKind,
    PostedRepayment,
    ReconciliationRun,
    order_of,
)
from puhui.domain.lending.schedule import ScheduledInstalment
from puhui.domain.lending.suspense import SuspenseItem, SuspenseStatus
from puhui.domain.money import Fen, Rounding
from puhui.services.servicing.ports import (
    EndOfDayRunRecord,
    EndOfDayStepDone,
    StoredRequest,
    SuspenseTotals,
)
from puhui.services.servicing.records import CreditLineRecord, LineStatus, ProductRecord
from puhui.services.servicing.statements import DailyAccrual, Operation, PostedEvent


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
        return _line_from_row(row._mapping)

    def page(
        self,
        *,
        line_id: str | None = None,
        enterprise_id: str | None = None,
        status: LineStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[CreditLineRecord]:
        """Lines newest first (ids are time-ordered: the primary key's order), narrowed by
        the line id (primary key), the enterprise (indexed) or the status."""
        query = select(credit_lines).order_by(credit_lines.c.line_id.desc())
        if line_id is not None:
            query = query.where(credit_lines.c.line_id == line_id)
        if enterprise_id is not None:
            query = query.where(credit_lines.c.enterprise_id == enterprise_id)
        if status is not None:
            query = query.where(credit_lines.c.status == status.value)
        rows = self._connection.execute(query.limit(limit).offset(offset)).all()
        return [_line_from_row(row._mapping) for row in rows]

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


def _line_from_row(m: Any) -> CreditLineRecord:
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


_LOAN_FIELDS = tuple(f.name for f in fields(LoanAccount))


def _loan_values(record: LoanAccount) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _LOAN_FIELDS}
    values["annual_rate"] = str(record.annual_rate)
    values["status"] = record.status.value
    values["category"] = record.category.value
    values["kind"] = record.kind.value
    values["method"] = record.method.value
    return values


def _loan_id(kind: LoanKind, text: str) -> LoanAccountId:
    return ReceiptId(text) if kind is LoanKind.RECEIPT else LoanId(text)


def loan_from_row(row: Any) -> LoanAccount:
    values = {name: row[name] for name in _LOAN_FIELDS}
    values["kind"] = LoanKind(row["kind"])
    values["loan_id"] = _loan_id(values["kind"], row["loan_id"])
    values["annual_rate"] = Decimal(row["annual_rate"])
    values["status"] = LoanStatus(row["status"])
    values["category"] = FiveCategory(row["category"])
    values["method"] = RepaymentMethod(row["method"])
    values["half_even"] = bool(row["half_even"])
    values["non_accrual"] = bool(row["non_accrual"])
    return LoanAccount(**values)


class SqlLoanRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, record: LoanAccount) -> None:
        self._connection.execute(loans.insert().values(**_loan_values(record)))

    def get(self, loan_id: str, *, for_update: bool = False) -> LoanAccount | None:
        query = select(loans).where(loans.c.loan_id == loan_id)
        if for_update:
            query = query.with_for_update()
        row = self._connection.execute(query).one_or_none()
        return None if row is None else loan_from_row(row._mapping)

    def save(self, record: LoanAccount) -> None:
        result = self._connection.execute(
            loans.update()
            .where(loans.c.loan_id == record.loan_id)
            .where(loans.c.version == record.version - 1)
            .values(**_loan_values(record))
        )
        if result.rowcount != 1:
            raise StaleRecord(f"receipt {record.loan_id} changed concurrently")

    def of_line(
        self, line_id: CreditLineId, *, limit: int | None = None, offset: int = 0
    ) -> list[LoanAccount]:
        """The line's receipts, oldest draw first (then by id); served by ``ix_loans_line_id``."""
        query = (
            select(loans)
            .where(loans.c.line_id == line_id)
            .order_by(loans.c.disbursed_on, loans.c.loan_id)
            .offset(offset)
        )
        if limit is not None:
            query = query.limit(limit)
        return [loan_from_row(row._mapping) for row in self._connection.execute(query)]

    def of_enterprise(self, enterprise_id: str, *, limit: int | None = None) -> list[LoanAccount]:
        """Served by ``ix_loans_enterprise_id``."""
        query = (
            select(loans)
            .where(loans.c.enterprise_id == enterprise_id, loans.c.status == "active")
            .order_by(loans.c.disbursed_on, loans.c.loan_id)
        )
        if limit is not None:
            query = query.limit(limit)
        return [loan_from_row(row._mapping) for row in self._connection.execute(query)]


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

    def repayments_on(self, value_date: date) -> list[PostedRepayment]:
        """Repayments are entries ``repay:<key>`` posted on their value date; a reversal names
        its repayment's entry (``reverses_key``), and the request log holds loan and amount.
        Only those whose money came through settlement: one applied from suspense debits the
        suspense account instead."""
        prefix = "repay:"
        through_settlement = (
            select(journal_lines.c.entry_id)
            .where(journal_lines.c.entry_id == journal_entries.c.entry_id)
            .where(journal_lines.c.account == Account.SETTLEMENT.code)
            .exists()
        )
        keys = list(
            self._connection.execute(
                select(journal_entries.c.idempotency_key)
                .where(journal_entries.c.posted_on == value_date)
                .where(journal_entries.c.idempotency_key.startswith(prefix, autoescape=True))
                .where(through_settlement)
            ).scalars()
        )
        reversed_keys: set[str] = set()
        for chunk in _chunks(keys):
            reversed_keys.update(
                self._connection.execute(
                    select(journal_entries.c.reverses_key).where(
                        journal_entries.c.reverses_key.in_(chunk)
                    )
                ).scalars()
            )
        standing = [k.removeprefix(prefix) for k in keys if k not in reversed_keys]
        found: list[PostedRepayment] = []
        for chunk in _chunks(standing):
            rows = self._connection.execute(
                select(service_requests.c.idempotency_key, service_requests.c.result_json)
                .where(service_requests.c.operation == Operation.REPAY.value)
                .where(service_requests.c.idempotency_key.in_(chunk))
            )
            for key, result_json in rows:
                result = json.loads(result_json)
                found.append(
                    PostedRepayment(key, str(result["receipt_id"]), int(result["amount_fen"]))
                )
        return sorted(found, key=lambda r: r.key)

    def standing_repayment_of(self, order_id: str) -> PostedRepayment | None:
        requests = service_requests.c
        rows = self._connection.execute(
            select(requests.idempotency_key, requests.result_json)
            .where(requests.operation == Operation.REPAY.value)
            .where(
                (requests.idempotency_key == order_id)
                | requests.idempotency_key.endswith(f":{order_id}", autoescape=True)
            )
            .order_by(requests.idempotency_key)
        ).all()
        for key, result_json in rows:
            if order_of(key) != order_id:
                continue  # a longer key that merely ends the same way
            reversed_by = self._connection.execute(
                select(journal_entries.c.entry_id).where(
                    journal_entries.c.reverses_key == f"repay:{key}"
                )
            ).first()
            if reversed_by is None:
                result = json.loads(result_json)
                return PostedRepayment(key, str(result["receipt_id"]), int(result["amount_fen"]))
        return None

    def receipt_events(self, receipt_ids: Sequence[str], *, through: date) -> list[PostedEvent]:
        """Money events of these receipts on or before ``through``, with their postings.

        Journal entries carry no receipt column: the stored request of each money event names
        its receipt and its entry key (both written in the entry's transaction), so the
        request log links receipts to entries.
        """
        linked: dict[str, tuple[str, Operation]] = {}
        operations = [o.value for o in Operation]
        for chunk in _chunks(receipt_ids):
            receipt = _json_text(self._connection, service_requests.c.result_json, "receipt_id")
            rows = self._connection.execute(
                select(service_requests.c.operation, service_requests.c.result_json)
                .where(service_requests.c.operation.in_(operations))
                .where(receipt.in_(chunk))
            )
            for operation, result_json in rows:
                result = json.loads(result_json)
                linked[str(result["entry_key"])] = (str(result["receipt_id"]), Operation(operation))
        heads: dict[str, tuple[date, str]] = {}
        amounts: dict[str, dict[Account, int]] = {}
        for keys in _chunks(list(linked)):
            postings = self._connection.execute(
                select(
                    journal_entries.c.idempotency_key,
                    journal_entries.c.posted_on,
                    journal_entries.c.entry_id,
                    journal_lines.c.account,
                    journal_lines.c.amount_fen,
                )
                .join(journal_lines, journal_lines.c.entry_id == journal_entries.c.entry_id)
                .where(journal_entries.c.idempotency_key.in_(keys))
                .where(journal_entries.c.posted_on <= through)
            ).all()
            for key, posted_on, entry_id, account, amount_fen in postings:
                heads[key] = (posted_on, entry_id)
                per_account = amounts.setdefault(key, {})
                account_of = Account.from_code(account)
                per_account[account_of] = per_account.get(account_of, 0) + int(amount_fen)
        events = [
            PostedEvent(
                receipt_id=linked[key][0],
                operation=linked[key][1],
                entry_key=key,
                posted_on=posted_on,
                sequence=entry_id,
                amounts_fen=amounts[key],
            )
            for key, (posted_on, entry_id) in heads.items()
        ]
        return sorted(events, key=lambda e: (e.posted_on, e.sequence))

    def receipt_accruals(
        self, receipt_ids: Sequence[str], *, since: date, daily_from: date, through: date
    ) -> list[DailyAccrual]:
        """These receipts' accruals from the sub-ledger (interest; penalty plus compound),
        on- and off-balance alike: one row per receipt and day from ``daily_from`` to
        ``through``, and before that one carried row per receipt summing ``since`` up to
        ``daily_from``. Moves into the non-accrual memo are left out.

        The days are listed, not ranged: with both key columns given as lists, the primary
        key (as_of, loan_id, kind) is probed per (day, receipt) on either database, so the
        cost follows the line's history and not the size of the book. (An index leading
        with loan_id would cost the end of day a random-order insert per receipt and day.)
        """
        days = [since + timedelta(days=n) for n in range((through - since).days + 1)]
        earlier = [d for d in days if d < daily_from]
        daily = [d for d in days if d >= daily_from]
        carried: dict[str, tuple[int, int]] = {}
        found: list[DailyAccrual] = []
        for receipts in _chunks(receipt_ids, _ACCRUAL_RECEIPTS):
            for dates in _chunks(earlier, _ACCRUAL_DAYS):
                for loan_id, interest, penalty in self._connection.execute(
                    _accruals(receipts, dates).group_by(accrual_entries.c.loan_id)
                ):
                    before = carried.get(loan_id, (0, 0))
                    carried[loan_id] = (before[0] + int(interest), before[1] + int(penalty))
            for dates in _chunks(daily, _ACCRUAL_DAYS):
                query = _accruals(receipts, dates, accrual_entries.c.as_of)
                for loan_id, as_of, interest, penalty in self._connection.execute(
                    query.group_by(accrual_entries.c.loan_id, accrual_entries.c.as_of)
                ):
                    found.append(DailyAccrual(loan_id, as_of, int(interest), int(penalty)))
        found.extend(
            DailyAccrual(loan_id, daily_from - timedelta(days=1), i, p, carried=True)
            for loan_id, (i, p) in carried.items()
        )
        return found


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


BUSINESS_DAY_LOCK = 0x70756875_69424400  # "puhuiBD": PostgreSQL advisory lock key
"""Held shared by a unit of work that checked the day is open; exclusive by end of day's start.

Without it, on PostgreSQL a reversal (or draw) could read "the day is open" while an end of
day for that day starts, and commit a change behind it (a reopened loan the end of day never
accrues). SQLite needs nothing: ``BEGIN IMMEDIATE`` admits one writer at a time."""


class SqlBusinessDays:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def last_closed(self) -> date | None:
        if self._connection.dialect.name == "postgresql":
            # Until this transaction ends, no end of day can start (see BUSINESS_DAY_LOCK).
            self._connection.execute(
                text("SELECT pg_advisory_xact_lock_shared(:key)"), {"key": BUSINESS_DAY_LOCK}
            )
        value = self._connection.execute(select(func.max(eod_runs.c.as_of))).scalar_one()
        return value if isinstance(value, date) else None

    def last_completed(self) -> date | None:
        value = self._connection.execute(
            select(func.max(eod_runs.c.as_of)).where(eod_runs.c.status == "completed")
        ).scalar_one()
        return value if isinstance(value, date) else None

    def runs(self, *, limit: int, offset: int) -> list[EndOfDayRunRecord]:
        found = self._connection.execute(
            select(eod_runs).order_by(eod_runs.c.as_of.desc()).limit(limit).offset(offset)
        ).all()
        if not found:
            return []
        steps: dict[date, list[EndOfDayStepDone]] = {}
        done = self._connection.execute(
            select(eod_steps)
            .where(eod_steps.c.as_of.in_([r.as_of for r in found]))
            .order_by(eod_steps.c.as_of, eod_steps.c.finished_at, eod_steps.c.step)
        ).all()
        for row in done:
            steps.setdefault(row.as_of, []).append(
                EndOfDayStepDone(row.step, int(row.rows_affected), row.finished_at)
            )
        return [
            EndOfDayRunRecord(
                as_of=r.as_of,
                status=r.status,
                started_at=r.started_at,
                finished_at=r.finished_at,
                steps=tuple(steps.get(r.as_of, ())),
            )
            for r in found
        ]


_CHUNK = 500
"""Bound parameters per IN list: well under SQLite's and PostgreSQL's limits."""
_ACCRUAL_RECEIPTS = 100
_ACCRUAL_DAYS = 366
"""Receipts × days probed by one accrual query: up to a year of 100 receipts."""


def _accruals(receipts: Sequence[str], days: Sequence[date], *keys: Any) -> Select[Any]:
    return (
        select(
            accrual_entries.c.loan_id,
            *keys,
            func.sum(accrual_entries.c.interest_fen),
            func.sum(accrual_entries.c.penalty_fen + accrual_entries.c.compound_fen),
        )
        .where(accrual_entries.c.as_of.in_(days))
        .where(accrual_entries.c.loan_id.in_(receipts))
        .where(accrual_entries.c.kind.in_(("accrual", "billing")))
    )


Item = TypeVar("Item")


class SqlReconciliationRuns:
    """Recorded repayment reconciliations and their breaks."""

    _COUNTS = (
        "matched",
        "matched_fen",
        "ours_count",
        "ours_fen",
        "theirs_count",
        "theirs_fen",
        "breaks_count",
    )

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, run: ReconciliationRun) -> None:
        self._connection.execute(
            repayment_reconciliations.insert().values(
                run_id=run.run_id,
                value_date=run.value_date,
                file_sha256=run.file_sha256,
                file_name=run.file_name,
                reconciled_by=run.reconciled_by,
                reconciled_at=run.reconciled_at,
                **{name: getattr(run, name) for name in self._COUNTS},
            )
        )
        rows = [
            {
                "run_id": run.run_id,
                "line_no": line_no,
                "kind": b.kind.value,
                "order_id": b.order_id,
                "loan_id": b.loan_id,
                "ours_loan_id": b.ours_loan_id,
                "ours_fen": b.ours_fen,
                "theirs_fen": b.theirs_fen,
                "channel_ref": b.channel_ref,
            }
            for line_no, b in enumerate(run.breaks or (), start=1)
        ]
        for chunk in _chunks(rows):
            self._connection.execute(repayment_reconciliation_breaks.insert(), list(chunk))

    def get(self, run_id: str) -> ReconciliationRun | None:
        row = self._connection.execute(
            select(repayment_reconciliations).where(repayment_reconciliations.c.run_id == run_id)
        ).one_or_none()
        if row is None:
            return None
        t = repayment_reconciliation_breaks
        found = self._connection.execute(
            select(t).where(t.c.run_id == run_id).order_by(t.c.line_no)
        ).all()
        breaks = tuple(
            Break(
                kind=BreakKind(b.kind),
                order_id=b.order_id,
                loan_id=b.loan_id,
                ours_fen=b.ours_fen,
                theirs_fen=b.theirs_fen,
                ours_loan_id=b.ours_loan_id,
                channel_ref=b.channel_ref,
            )
            for b in found
        )
        return self._run(row, breaks)

    def page(self, *, value_date: date | None, limit: int, offset: int) -> list[ReconciliationRun]:
        t = repayment_reconciliations
        query = select(t).order_by(t.c.reconciled_at.desc(), t.c.run_id.desc())
        if value_date is not None:
            query = query.where(t.c.value_date == value_date)
        return [
            self._run(row, None)
            for row in self._connection.execute(query.limit(limit).offset(offset))
        ]

    def latest_of_days(self, days: Sequence[date]) -> dict[date, ReconciliationRun]:
        t = repayment_reconciliations
        latest: dict[date, ReconciliationRun] = {}
        for chunk in _chunks(sorted(set(days))):
            rows = self._connection.execute(
                select(t)
                .where(t.c.value_date.in_(chunk))
                .order_by(t.c.reconciled_at.desc(), t.c.run_id.desc())
            )
            for row in rows:
                latest.setdefault(row.value_date, self._run(row, None))
        return latest

    def _run(self, row: Any, breaks: tuple[Break, ...] | None) -> ReconciliationRun:
        return ReconciliationRun(
            run_id=row.run_id,
            value_date=row.value_date,
            file_sha256=row.file_sha256,
            file_name=row.file_name,
            reconciled_by=row.reconciled_by,
            reconciled_at=row.reconciled_at,
            breaks=breaks,
            **{name: int(getattr(row, name)) for name in self._COUNTS},
        )


class SqlSuspense:
    """Repayments held in suspense (挂账), one row per channel order."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, item: SuspenseItem) -> None:
        try:
            with self._connection.begin_nested():
                self._connection.execute(repayment_suspense.insert().values(**_suspense_row(item)))
        except IntegrityError:
            raise Conflict(
                f"order {item.order_id} is already held in suspense",
                details={"order_id": item.order_id},
            ) from None

    def save(self, item: SuspenseItem) -> None:
        t = repayment_suspense
        changed = self._connection.execute(
            t.update()
            .where(t.c.item_id == item.item_id)
            .where(t.c.version == item.version - 1)
            .values(**_suspense_row(item))
        ).rowcount
        if changed != 1:
            raise StaleRecord(
                f"suspense item {item.item_id} changed meanwhile: read it again",
                details={"item_id": item.item_id},
            )

    def get(self, item_id: str, *, for_update: bool = False) -> SuspenseItem | None:
        query = select(repayment_suspense).where(repayment_suspense.c.item_id == item_id)
        if for_update:
            query = query.with_for_update()
        row = self._connection.execute(query).one_or_none()
        return None if row is None else _suspense_item(row)

    def of_order(self, order_id: str) -> SuspenseItem | None:
        return self._one(repayment_suspense.c.order_id == order_id)

    def of_orders(self, order_ids: Sequence[str]) -> dict[str, SuspenseItem]:
        found: dict[str, SuspenseItem] = {}
        for chunk in _chunks(sorted(set(order_ids))):
            rows = self._connection.execute(
                select(repayment_suspense).where(repayment_suspense.c.order_id.in_(chunk))
            )
            found.update((row.order_id, _suspense_item(row)) for row in rows)
        return found

    def applied_as(self, repayment_key: str) -> SuspenseItem | None:
        return self._one(repayment_suspense.c.repayment_key == repayment_key)

    def _one(self, condition: ColumnElement[bool]) -> SuspenseItem | None:
        row = self._connection.execute(select(repayment_suspense).where(condition)).one_or_none()
        return None if row is None else _suspense_item(row)

    def valued_on(self, value_date: date) -> list[SuspenseItem]:
        t = repayment_suspense
        rows = self._connection.execute(
            select(t).where(t.c.value_date == value_date).order_by(t.c.order_id)
        )
        return [_suspense_item(row) for row in rows]

    def page(self, *, status: SuspenseStatus | None, limit: int, offset: int) -> list[SuspenseItem]:
        t = repayment_suspense
        query = select(t).order_by(t.c.held_at.desc(), t.c.item_id.desc())
        if status is not None:
            query = query.where(t.c.status == status.value)
        return [
            _suspense_item(row)
            for row in self._connection.execute(query.limit(limit).offset(offset))
        ]

    def count(self, *statuses: SuspenseStatus) -> int:
        t = repayment_suspense
        found = self._connection.execute(
            select(func.count())
            .select_from(t)
            .where(t.c.status.in_([status.value for status in statuses]))
        ).scalar_one()
        return int(found)

    def tie_out(self, *, held_through: date | None) -> SuspenseTotals:
        t = repayment_suspense
        in_suspense = t.c.status.in_([s.value for s in SuspenseStatus if s.in_suspense])
        overdue = false() if held_through is None else in_suspense & (t.c.held_on <= held_through)
        account = (
            select(func.coalesce(func.sum(journal_lines.c.amount_fen), 0))
            .where(journal_lines.c.account == Account.REPAYMENT_SUSPENSE.code)
            .scalar_subquery()
        )

        def count(condition: ColumnElement[bool]) -> Any:
            return select(func.count()).where(condition).scalar_subquery()

        def amount(condition: ColumnElement[bool]) -> Any:
            return (
                select(func.coalesce(func.sum(t.c.amount_fen), 0))
                .where(condition)
                .scalar_subquery()
            )

        row = self._connection.execute(
            select(
                account, count(in_suspense), amount(in_suspense), count(overdue), amount(overdue)
            )
        ).one()
        return SuspenseTotals(*(int(value) for value in row))


_SUSPENSE_FIELDS = tuple(f.name for f in fields(SuspenseItem))


def _suspense_row(item: SuspenseItem) -> dict[str, Any]:
    row = {name: getattr(item, name) for name in _SUSPENSE_FIELDS}
    row["status"] = item.status.value
    return row


def _suspense_item(row: Any) -> SuspenseItem:
    values = {name: getattr(row, name) for name in _SUSPENSE_FIELDS}
    values["status"] = SuspenseStatus(row.status)
    return SuspenseItem(**values)


def _chunks(values: Sequence[Item], size: int = _CHUNK) -> list[Sequence[Item]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _json_text(connection: Connection, column: Any, key: str) -> ColumnElement[str]:
    """A top-level text field of a JSON document stored as text, on either database.

    The key is written as a literal, not bound, so that the expression is the very one of
    the index on it (migration 0008): a bound parameter would not match an expression index.
    """
    if not key.isidentifier():
        raise ValueError(f"not a JSON field name: {key!r}")
    if connection.dialect.name == "postgresql":
        return type_coerce(cast(column, JSONB).op("->>")(literal_column(f"'{key}'")), String)
    return type_coerce(func.json_extract(column, literal_column(f"'$.{key}'")), String)
