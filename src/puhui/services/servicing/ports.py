"""Ports of servicing: the repositories a servicing unit of work offers, as Protocols."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

from puhui.domain.clock import Clock
from puhui.domain.ids import CreditLineId, ProductId
from puhui.domain.ledger import JournalEntry, TrialBalance
from puhui.domain.lending.account import LoanAccount
from puhui.domain.lending.reconciliation import PostedRepayment, ReconciliationRun
from puhui.domain.lending.schedule import ScheduledInstalment
from puhui.domain.lending.suspense import SuspenseItem, SuspenseStatus
from puhui.services.ports import UnitOfWork

if TYPE_CHECKING:
    from puhui.services.servicing.statements import DailyAccrual, PostedEvent
from puhui.services.servicing.records import CreditLineRecord, LineStatus, ProductRecord


@dataclass(frozen=True, slots=True)
class StoredRequest:
    """A money request already served: replaying its key returns ``result_json`` as it was."""

    idempotency_key: str
    operation: str
    request_digest: str
    result_json: str
    undo_json: str | None = None
    """The loan before the request (JSON), for a same-day correction; None if not undoable."""


class ProductRepository(Protocol):
    def add(self, record: ProductRecord) -> None: ...

    def get(self, product_id: ProductId) -> ProductRecord | None: ...

    def get_by_code(self, code: str) -> ProductRecord | None: ...


class CreditLineRepository(Protocol):
    def add(self, record: CreditLineRecord) -> None: ...

    def get(self, line_id: CreditLineId, *, for_update: bool = False) -> CreditLineRecord | None:
        """``for_update`` locks the row until the transaction ends (serialises writers)."""
        ...

    def save(self, record: CreditLineRecord) -> None:
        """Write the record back; the stored version must be ``record.version - 1``."""
        ...

    def page(
        self,
        *,
        line_id: str | None = None,
        enterprise_id: str | None = None,
        status: LineStatus | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[CreditLineRecord]:
        """Lines newest first, narrowed by line id, enterprise or status (staff lists)."""
        ...


class LoanRepository(Protocol):
    def add(self, record: LoanAccount) -> None: ...

    def get(self, loan_id: str, *, for_update: bool = False) -> LoanAccount | None: ...

    def save(self, record: LoanAccount) -> None: ...

    def of_line(
        self, line_id: CreditLineId, *, limit: int | None = None, offset: int = 0
    ) -> list[LoanAccount]:
        """The line's receipts, oldest draw first (then by id)."""
        ...

    def of_enterprise(self, enterprise_id: str, *, limit: int | None = None) -> list[LoanAccount]:
        """The enterprise's active loans, receipts and term loans, oldest first (then by id)."""
        ...


class InstalmentRepository(Protocol):
    def schedule(self, loan_id: str) -> list[ScheduledInstalment]: ...

    def replace_from(
        self, loan_id: str, first_period: int, instalments: Sequence[ScheduledInstalment]
    ) -> None:
        """Replace the instalments from ``first_period`` on (re-amortisation)."""
        ...


class LedgerRepository(Protocol):
    def post(self, entry: JournalEntry) -> str:
        """Append an entry (in the caller's transaction); returns its entry id."""
        ...

    def get(self, idempotency_key: str) -> JournalEntry | None: ...

    def trial_balance(self, as_of: date) -> TrialBalance: ...

    def receipt_events(self, receipt_ids: Sequence[str], *, through: date) -> list[PostedEvent]:
        """Money events of these receipts posted on or before ``through`` (statements)."""
        ...

    def receipt_accruals(
        self, receipt_ids: Sequence[str], *, since: date, daily_from: date, through: date
    ) -> list[DailyAccrual]:
        """The receipts' accruals from the sub-ledger (statements)."""
        ...

    def repayments_on(self, value_date: date) -> list[PostedRepayment]:
        """The repayments valued ``value_date`` that stand (reversed ones left out): their
        idempotency keys, loans and amounts (reconciliation with the channel). A repayment
        applied from suspense is left out: the channel collected its money on another day."""
        ...

    def standing_repayment_of(self, order_id: str) -> PostedRepayment | None:
        """A repayment that stands under this channel order id, on any day: its key taken as
        the caller sent it, or under a caller's scope (``usr_…:<order id>``)."""
        ...


class RequestLog(Protocol):
    def get(self, idempotency_key: str) -> StoredRequest | None: ...

    def add(self, request: StoredRequest) -> None: ...


@dataclass(frozen=True, slots=True)
class EndOfDayStepDone:
    """A step of an end-of-day run that finished: its name, rows changed and when."""

    step: str
    rows_affected: int
    finished_at: datetime


@dataclass(frozen=True, slots=True)
class EndOfDayRunRecord:
    """An end-of-day run as stored: its date, status and the steps done so far, in order."""

    as_of: date
    status: str
    started_at: datetime
    finished_at: datetime | None
    steps: tuple[EndOfDayStepDone, ...] = ()


class BusinessDays(Protocol):
    def last_closed(self) -> date | None:
        """The latest business date whose end of day has started (closed to new postings)."""
        ...

    def last_completed(self) -> date | None:
        """The latest business date whose end of day completed."""
        ...

    def runs(self, *, limit: int, offset: int) -> list[EndOfDayRunRecord]:
        """End-of-day runs, latest date first, with their finished steps."""
        ...


class ReconciliationRuns(Protocol):
    def add(self, run: ReconciliationRun) -> None:
        """Record a run and its breaks (in the caller's transaction)."""
        ...

    def get(self, run_id: str) -> ReconciliationRun | None:
        """A run with its breaks, in the order they were found."""
        ...

    def page(self, *, value_date: date | None, limit: int, offset: int) -> list[ReconciliationRun]:
        """Runs, the latest first, without their breaks (``breaks`` is None)."""
        ...

    def latest_of_days(self, days: Sequence[date]) -> dict[date, ReconciliationRun]:
        """The latest run of each of these value dates that has one, without its breaks."""
        ...


@dataclass(frozen=True, slots=True)
class SuspenseTotals:
    account_total: int
    items: int
    items_fen: int
    overdue: int
    overdue_fen: int


class SuspenseItems(Protocol):
    def add(self, item: SuspenseItem) -> None:
        """Record a new item; an order already held is refused (``Conflict``)."""
        ...

    def save(self, item: SuspenseItem) -> None:
        """Store a resolved or reopened item (its version one above the stored one)."""
        ...

    def get(self, item_id: str, *, for_update: bool = False) -> SuspenseItem | None: ...

    def of_order(self, order_id: str) -> SuspenseItem | None: ...

    def of_orders(self, order_ids: Sequence[str]) -> dict[str, SuspenseItem]:
        """The items of those of these orders that were held, by order id."""
        ...

    def applied_as(self, repayment_key: str) -> SuspenseItem | None:
        """The item a repayment applied from suspense (by its idempotency key)."""
        ...

    def valued_on(self, value_date: date) -> list[SuspenseItem]:
        """Items whose channel day is ``value_date``, whatever became of them since."""
        ...

    def page(self, *, status: SuspenseStatus | None, limit: int, offset: int) -> list[SuspenseItem]:
        """Items, the latest held first."""
        ...

    def count(self, *statuses: SuspenseStatus) -> int: ...

    def tie_out(self, *, held_through: date | None) -> SuspenseTotals:
        """In one statement (one snapshot): the sum of every line ever posted to the suspense
        account (debits positive; its balance now, as it is posted on the open business day
        only), the items in suspense (held, or with a refund waiting) and those of them held
        on or before ``held_through`` (none when it is None)."""
        ...


class ServicingUnitOfWork(UnitOfWork, Protocol):
    @property
    def products(self) -> ProductRepository: ...

    @property
    def lines(self) -> CreditLineRepository: ...

    @property
    def loans(self) -> LoanRepository: ...

    @property
    def instalments(self) -> InstalmentRepository: ...

    @property
    def ledger(self) -> LedgerRepository: ...

    @property
    def requests(self) -> RequestLog: ...

    @property
    def business_days(self) -> BusinessDays: ...

    @property
    def reconciliations(self) -> ReconciliationRuns: ...

    @property
    def suspense(self) -> SuspenseItems: ...

    @property
    def clock(self) -> Clock:
        """The platform's clock (when a record was made)."""
        ...
