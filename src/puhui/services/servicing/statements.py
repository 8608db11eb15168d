"""Statements (对账单) of a credit line per interest cycle, read from the ledger and sub-ledger."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum
from typing import Protocol

from puhui.domain.errors import InvalidDate, InvalidInput, NotFound
from puhui.domain.ids import CreditLineId, ProductId
from puhui.domain.ledger import Account, money_paid
from puhui.domain.lending.account import LoanAccount
from puhui.domain.lending.schedule import add_months
from puhui.services.ports import UnitOfWork
from puhui.services.servicing.records import CreditLineRecord, ProductRecord

MAX_RECEIPTS_PAGE = 500
_PERIOD = re.compile(r"^([0-9]{4})-([0-9]{2})$")
_FIRST_YEAR = 1900
_LAST_YEAR = 9998


# ----------------------------------------------------------------------------------------
# What the stores hand over (the adapter builds these from rows)


class Operation(Enum):
    """The money requests of servicing whose journal entries name a receipt."""

    DRAW = "draw"
    REPAY = "repay"
    REVERSE_REPAYMENT = "reverse_repayment"
    WRITE_OFF = "write_off"
    RECOVER = "recover"


@dataclass(frozen=True, slots=True)
class PostedEvent:
    """One money event of a receipt: its stored request joined to its journal entry.

    ``amounts_fen`` are the entry's signed postings (debit > 0) per account, as posted.
    ``sequence`` orders the entries of one day as they were written.
    """

    receipt_id: str
    operation: Operation
    entry_key: str
    posted_on: date
    sequence: str
    amounts_fen: Mapping[Account, int]


@dataclass(frozen=True, slots=True)
class DailyAccrual:
    """What the end of day of ``as_of`` accrued on a receipt (on- and off-balance alike).

    ``penalty_fen`` is penalty plus compound interest (罚息复利): one receivable holds both.
    Moves between the books and the non-accrual memo are not accruals and are left out.
    """

    receipt_id: str
    as_of: date
    interest_fen: int
    penalty_fen: int
    carried: bool = False
    """The sum of every day before the statement's period (``as_of`` is the last of them)."""


class StatementLines(Protocol):
    def get(
        self, line_id: CreditLineId, *, for_update: bool = False
    ) -> CreditLineRecord | None: ...


class StatementProducts(Protocol):
    def get(self, product_id: ProductId) -> ProductRecord | None: ...


class StatementLoans(Protocol):
    def of_line(
        self, line_id: CreditLineId, *, limit: int | None = None, offset: int = 0
    ) -> list[LoanAccount]:
        """The line's receipts, oldest draw first (then by id)."""
        ...


class StatementLedger(Protocol):
    def receipt_events(self, receipt_ids: Sequence[str], *, through: date) -> list[PostedEvent]:
        """Money events of these receipts posted on or before ``through``."""
        ...

    def receipt_accruals(
        self, receipt_ids: Sequence[str], *, since: date, daily_from: date, through: date
    ) -> list[DailyAccrual]:
        """The receipts' accruals from the sub-ledger: per day from ``daily_from`` to
        ``through``, and before that one ``carried`` row per receipt (from ``since``)."""
        ...


class StatementBusinessDays(Protocol):
    def last_completed(self) -> date | None:
        """The latest business date whose end of day completed."""
        ...


class StatementUnitOfWork(UnitOfWork, Protocol):
    """The read side of servicing a statement needs (the servicing unit of work offers it)."""

    @property
    def lines(self) -> StatementLines: ...

    @property
    def products(self) -> StatementProducts: ...

    @property
    def loans(self) -> StatementLoans: ...

    @property
    def ledger(self) -> StatementLedger: ...

    @property
    def business_days(self) -> StatementBusinessDays: ...


UowFactory = Callable[[], StatementUnitOfWork]


# ----------------------------------------------------------------------------------------
# The statement


@dataclass(frozen=True, slots=True)
class StatementPeriod:
    """An interest cycle (计息周期), both ends included.

    Period ``YYYY-MM`` runs from the day after the previous month's settlement day (结息日,
    the 20th by default) to this month's settlement day: the 21st of the previous month to
    the 20th. That is the cycle a borrower of a Chinese bank sees: interest accrued in it is
    settled on its last day and collected the next day (扣息日, the 21st).
    """

    year: int
    month: int
    start: date
    end: date

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def due_date(self) -> date:
        """The day what the cycle settled is collected: the day after its settlement day."""
        return self.end + timedelta(days=1)

    @classmethod
    def interest_cycle(cls, year: int, month: int, *, settlement_day: int) -> StatementPeriod:
        if not (_FIRST_YEAR <= year <= _LAST_YEAR) or not (1 <= month <= 12):
            raise InvalidDate(
                f"statement period {year:04d}-{month:02d} is out of range",
                details={"year": year, "month": month},
            )
        if not 1 <= settlement_day <= 28:
            raise InvalidInput(f"settlement day {settlement_day} must be within 1..28")
        end = date(year, month, settlement_day)
        return cls(year, month, add_months(end, -1) + timedelta(days=1), end)


def statement_periods(
    opened_on: date, today: date, *, settlement_day: int, limit: int
) -> list[str]:
    """The interest cycles of a line opened on ``opened_on``, newest first, as ``YYYY-MM``:
    from the one ``today`` falls in (a day after the settlement day opens the next month's)
    back to the first, at most ``limit`` of them."""

    def cycle_of(day: date) -> date:
        first = date(day.year, day.month, 1)
        return add_months(first, 1) if day.day > settlement_day else first

    cursor = cycle_of(today)
    first = min(cycle_of(opened_on), cursor)  # today's cycle at least
    found: list[str] = []
    while cursor >= first and len(found) < limit:
        found.append(f"{cursor.year:04d}-{cursor.month:02d}")
        cursor = add_months(cursor, -1)
    return found


def parse_period(text: str) -> tuple[int, int]:
    """``YYYY-MM`` → (year, month); anything else is refused with a named error."""
    match = _PERIOD.match(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidDate("a statement period is written YYYY-MM", details={"period": "YYYY-MM"})
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise InvalidDate(f"month {month} of a statement period must be 01..12")
    return year, month


@dataclass(frozen=True, slots=True)
class Balances:
    """What a borrower owes: principal, interest, and penalty plus compound (罚息复利)."""

    principal_fen: int = 0
    interest_fen: int = 0
    penalty_fen: int = 0

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.penalty_fen

    def __add__(self, other: Balances) -> Balances:
        return Balances(
            self.principal_fen + other.principal_fen,
            self.interest_fen + other.interest_fen,
            self.penalty_fen + other.penalty_fen,
        )

    def __neg__(self) -> Balances:
        return Balances(-self.principal_fen, -self.interest_fen, -self.penalty_fen)


ZERO = Balances()


class MovementKind(Enum):
    DRAW = "draw"
    REPAYMENT = "repayment"
    REPAYMENT_REVERSAL = "repayment_reversal"
    ACCRUAL = "accrual"
    WRITE_OFF = "write_off"
    RECOVERY = "recovery"

    @property
    def label_zh(self) -> str:
        return _LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _LABELS[self][1]


_LABELS: dict[MovementKind, tuple[str, str]] = {
    MovementKind.DRAW: ("放款", "draw"),
    MovementKind.REPAYMENT: ("还款", "repayment"),
    MovementKind.REPAYMENT_REVERSAL: ("还款冲正", "repayment reversed"),
    MovementKind.ACCRUAL: ("计息（利息、罚息复利）", "interest and penalty accrued"),
    MovementKind.WRITE_OFF: ("核销", "written off"),
    MovementKind.RECOVERY: ("核销后收回", "recovered after write-off"),
}
_KIND_OF: dict[Operation, MovementKind] = {
    Operation.DRAW: MovementKind.DRAW,
    Operation.REPAY: MovementKind.REPAYMENT,
    Operation.REVERSE_REPAYMENT: MovementKind.REPAYMENT_REVERSAL,
    Operation.WRITE_OFF: MovementKind.WRITE_OFF,
    Operation.RECOVER: MovementKind.RECOVERY,
}
# Within one day: draws, then payments, then write-offs and recoveries; the end of day's
# accrual of that day comes last (it runs after the day closed).
_RANK: dict[MovementKind, int] = {
    MovementKind.DRAW: 0,
    MovementKind.REPAYMENT: 1,
    MovementKind.REPAYMENT_REVERSAL: 1,
    MovementKind.WRITE_OFF: 2,
    MovementKind.RECOVERY: 3,
    MovementKind.ACCRUAL: 4,
}


@dataclass(frozen=True, slots=True)
class Movement:
    """One line of a statement. ``change`` is what it did to the balances (signed fen).

    ``amount_fen`` is the money of the event: the draw, the cash repaid (negative when a
    repayment is reversed), the claim written off, the cash recovered, or what accrued.
    Accruals are grouped per receipt over consecutive days (``from_date`` to ``on``).
    """

    on: date
    kind: MovementKind
    receipt_id: str
    amount_fen: int
    change: Balances
    entry_key: str | None = None
    from_date: date | None = None


@dataclass(frozen=True, slots=True)
class ReceiptBalances:
    receipt_id: str
    disbursed_on: date
    maturity_date: date
    opening: Balances
    closing: Balances


@dataclass(frozen=True, slots=True)
class StatementTotals:
    drawn_fen: int = 0
    repaid_fen: int = 0
    """Cash repaid net of reversals; its split is in ``repaid``."""
    repaid: Balances = ZERO
    accrued: Balances = ZERO
    written_off: Balances = ZERO
    recovered_fen: int = 0
    net_change: Balances = ZERO
    """The sum of every movement's change: opening + net_change = closing, to the fen."""


@dataclass(frozen=True, slots=True)
class AmountDue:
    """What the cycle leaves to pay on ``due_date`` (the day after settlement).

    Principal is due on receipts that matured by the end of the period; interest and
    penalty accrued are settled on the period's last day, so all of it is due.
    """

    principal_fen: int
    interest_fen: int
    penalty_fen: int
    due_date: date | None

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.penalty_fen


@dataclass(frozen=True, slots=True)
class Statement:
    line_id: str
    enterprise_id: str
    period: StatementPeriod
    closed_through: date | None
    """The last business day whose end of day completed."""
    opening: Balances
    movements: tuple[Movement, ...]
    closing: Balances
    totals: StatementTotals
    due: AmountDue
    receipts: tuple[ReceiptBalances, ...] = field(default=())

    @property
    def final(self) -> bool:
        """The end of day has run through the period's last day: nothing will change it."""
        return self.closed_through is not None and self.closed_through >= self.period.end


# ----------------------------------------------------------------------------------------
# Use cases


def line_statement(
    uow_factory: UowFactory, line_id: CreditLineId, *, year: int, month: int, today: date
) -> Statement:
    """The statement of a credit line for the interest cycle ending on the settlement day
    (结息日) of ``year``-``month`` (21st of the previous month to the 20th by default).

    Read-only, one unit of work. Amounts come only from what is stored: the journal entries
    of the receipts' money requests (draws, repayments with their allocation, reversals,
    write-offs, recoveries) and the end of day's per-receipt daily accruals. Nothing is
    re-priced, so the statement cannot drift from the ledger. A period that has begun but not
    closed is provisional (``final`` is False). A period starting after ``today`` or ending
    before the line opened is refused.
    """
    with uow_factory() as uow:
        line = uow.lines.get(line_id)
        if line is None:
            raise NotFound("no such credit line", details={"line_id": line_id})
        product = uow.products.get(line.product_id)
        if product is None:
            raise NotFound(f"no product {line.product_id}")
        period = StatementPeriod.interest_cycle(
            year, month, settlement_day=product.product.settlement_day
        )
        if period.start > today:
            raise InvalidDate(
                f"statement period {period.label} has not begun (it starts {period.start})",
                details={"period_start": period.start.isoformat()},
            )
        if period.end < line.opened_on:
            raise InvalidDate(
                f"statement period {period.label} ends before the line opened ({line.opened_on})",
                details={"opened_on": line.opened_on.isoformat()},
            )
        receipts = uow.loans.of_line(line_id)
        ids = [r.loan_id for r in receipts]
        events = uow.ledger.receipt_events(ids, through=period.end) if ids else []
        # Nothing accrues before the first draw; before the period only sums are needed.
        first_draw = min((r.disbursed_on for r in receipts), default=period.start)
        accruals = (
            uow.ledger.receipt_accruals(
                ids, since=first_draw, daily_from=period.start, through=period.end
            )
            if ids
            else []
        )
        closed_through = uow.business_days.last_completed()
    return build_statement(
        line,
        period,
        receipts=receipts,
        events=events,
        accruals=accruals,
        closed_through=closed_through,
    )


def line_receipts(
    uow_factory: UowFactory, line_id: CreditLineId, *, limit: int = 50, offset: int = 0
) -> list[LoanAccount]:
    """A page of the line's receipts (借据), oldest draw first."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_RECEIPTS_PAGE:
        raise InvalidInput(f"limit must be an integer within 1..{MAX_RECEIPTS_PAGE}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidInput("offset must be a non-negative integer")
    with uow_factory() as uow:
        if uow.lines.get(line_id) is None:
            raise NotFound("no such credit line", details={"line_id": line_id})
        return uow.loans.of_line(line_id, limit=limit, offset=offset)


# ----------------------------------------------------------------------------------------
# Pure assembly (tested without a database as well)


@dataclass
class _Item:
    on: date
    rank: int
    sequence: str
    event: PostedEvent | None = None
    accrual: DailyAccrual | None = None


def _event_change(event: PostedEvent, before: Balances) -> tuple[Balances, int]:
    """What an event did to the receipt's balances, and its money amount."""
    a = event.amounts_fen

    def amount(account: Account) -> int:
        return a.get(account, 0)

    principal = amount(Account.PRINCIPAL_RECEIVABLE)
    # A payment clears off-balance (memo) interest and penalty through income: the part of
    # interest paid is the receivable credited plus that income.
    interest = amount(Account.INTEREST_RECEIVABLE) + amount(Account.INTEREST_INCOME)
    penalty = amount(Account.PENALTY_RECEIVABLE) + amount(Account.PENALTY_INCOME)
    if event.operation is Operation.DRAW:
        return Balances(principal_fen=principal), principal
    if event.operation in (Operation.REPAY, Operation.REVERSE_REPAYMENT):
        return Balances(principal, interest, penalty), money_paid(a)
    if event.operation is Operation.WRITE_OFF:
        # The entry books the memo part of interest and penalty as one figure; the write-off
        # clears the receipt, so its split is the balance it cleared.
        return -before, before.total_fen
    return ZERO, amount(Account.SETTLEMENT)


def build_statement(
    line: CreditLineRecord,
    period: StatementPeriod,
    *,
    receipts: Iterable[LoanAccount],
    events: Iterable[PostedEvent],
    accruals: Iterable[DailyAccrual],
    closed_through: date | None,
) -> Statement:
    """Replay the stored movements in order: before the period they make the opening
    balances, inside it they are the statement's lines, and their sum gives the closing."""
    by_receipt: dict[str, list[_Item]] = {}
    for e in events:
        if e.posted_on <= period.end:
            rank = _RANK[_KIND_OF[e.operation]]
            by_receipt.setdefault(e.receipt_id, []).append(
                _Item(e.posted_on, rank, e.sequence, event=e)
            )
    for d in accruals:
        if d.as_of <= period.end and (d.interest_fen or d.penalty_fen):
            # What accrued before the period is carried in as one sum, ahead of everything:
            # only a write-off reads the running balance, and nothing accrues after one.
            on, rank = (date.min, -1) if d.carried else (d.as_of, _RANK[MovementKind.ACCRUAL])
            by_receipt.setdefault(d.receipt_id, []).append(_Item(on, rank, "", accrual=d))
    movements: list[Movement] = []
    rows: list[ReceiptBalances] = []
    for receipt in receipts:
        row = _replay_receipt(receipt, by_receipt.get(receipt.loan_id, []), period, movements)
        if row is not None:
            rows.append(row)
    movements.sort(key=lambda m: (m.on, _RANK[m.kind], m.receipt_id))
    opening = sum((r.opening for r in rows), ZERO)
    closing = sum((r.closing for r in rows), ZERO)
    principal_due = sum(r.closing.principal_fen for r in rows if r.maturity_date <= period.end)
    due_total = principal_due + closing.interest_fen + closing.penalty_fen
    return Statement(
        line_id=line.line_id,
        enterprise_id=line.enterprise_id,
        period=period,
        closed_through=closed_through,
        opening=opening,
        movements=tuple(movements),
        closing=closing,
        totals=_totals(movements),
        due=AmountDue(
            principal_fen=principal_due,
            interest_fen=closing.interest_fen,
            penalty_fen=closing.penalty_fen,
            due_date=period.due_date if due_total > 0 else None,
        ),
        receipts=tuple(rows),
    )


def _replay_receipt(
    receipt: LoanAccount, items: list[_Item], period: StatementPeriod, movements: list[Movement]
) -> ReceiptBalances | None:
    """One receipt's history in order; appends its movements in the period to ``movements``.

    None when the receipt owed nothing in the period and moved nothing in it.
    """
    items = sorted(items, key=lambda i: (i.on, i.rank, i.sequence))
    balance = ZERO
    opening: Balances | None = None
    pending: list[DailyAccrual] = []
    for item in items:
        inside = item.on >= period.start
        if opening is None and inside:
            opening = balance
        if item.accrual is not None:
            balance = balance + Balances(0, item.accrual.interest_fen, item.accrual.penalty_fen)
            if inside:
                pending.append(item.accrual)
            continue
        event = item.event
        if event is None:
            continue
        change, amount_fen = _event_change(event, balance)
        balance = balance + change
        if inside:
            movements.extend(_accrual_movement(pending))
            pending = []
            movements.append(
                Movement(
                    on=item.on,
                    kind=_KIND_OF[event.operation],
                    receipt_id=receipt.loan_id,
                    amount_fen=amount_fen,
                    change=change,
                    entry_key=event.entry_key,
                )
            )
    movements.extend(_accrual_movement(pending))
    if opening is None:
        opening = balance
    touched = any(i.on >= period.start for i in items)
    if not touched and opening == ZERO and balance == ZERO:
        return None
    return ReceiptBalances(
        receipt_id=receipt.loan_id,
        disbursed_on=receipt.disbursed_on,
        maturity_date=receipt.maturity_date,
        opening=opening,
        closing=balance,
    )


def _accrual_movement(days: list[DailyAccrual]) -> list[Movement]:
    if not days:
        return []
    change = Balances(0, sum(d.interest_fen for d in days), sum(d.penalty_fen for d in days))
    return [
        Movement(
            on=days[-1].as_of,
            kind=MovementKind.ACCRUAL,
            receipt_id=days[0].receipt_id,
            amount_fen=change.total_fen,
            change=change,
            from_date=days[0].as_of,
        )
    ]


def _totals(movements: Sequence[Movement]) -> StatementTotals:
    drawn = repaid_cash = recovered = 0
    repaid = accrued = written_off = net = ZERO
    for m in movements:
        net = net + m.change
        if m.kind is MovementKind.DRAW:
            drawn += m.amount_fen
        elif m.kind in (MovementKind.REPAYMENT, MovementKind.REPAYMENT_REVERSAL):
            repaid_cash += m.amount_fen
            repaid = repaid + -m.change
        elif m.kind is MovementKind.ACCRUAL:
            accrued = accrued + m.change
        elif m.kind is MovementKind.WRITE_OFF:
            written_off = written_off + -m.change
        else:
            recovered += m.amount_fen
    return StatementTotals(
        drawn_fen=drawn,
        repaid_fen=repaid_cash,
        repaid=repaid,
        accrued=accrued,
        written_off=written_off,
        recovered_fen=recovered,
        net_change=net,
    )
