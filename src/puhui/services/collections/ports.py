"""What collections store, and the unit of work that spans them and servicing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from puhui.domain.monitoring.collection import (
    ContactChannel,
    ContactResult,
    DpdBucket,
    PromiseStatus,
    WriteOffStatus,
)
from puhui.services.servicing.ports import ServicingUnitOfWork


class CaseStatus(StrEnum):
    OPEN = "open"
    """The receipt is past due: it sits in the queue of its bucket."""
    RESOLVED = "resolved"
    """Current again, or repaid: out of the queues (reopened if it falls behind again)."""
    WRITTEN_OFF = "written_off"


@dataclass(frozen=True, slots=True)
class DelinquentLoan:
    """A past-due receipt or term loan as servicing's end of day left it."""

    receipt_id: str
    customer_id: str
    line_id: str | None
    days_past_due: int
    overdue_fen: int
    """Overdue principal and interest plus penalty and compound interest owed."""
    outstanding_fen: int
    """Principal outstanding."""


@dataclass(frozen=True, slots=True)
class CollectionCase:
    case_id: str
    receipt_id: str
    customer_id: str
    line_id: str | None
    status: CaseStatus
    bucket: DpdBucket | None
    days_past_due: int
    overdue_fen: int
    outstanding_fen: int
    assignee: str | None
    opened_on: date
    refreshed_on: date
    updated_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class StoredPromise:
    promise_id: str
    case_id: str
    receipt_id: str
    amount_fen: int
    made_on: date
    promised_on: date
    grace_days: int
    status: PromiseStatus
    paid_fen: int
    evaluated_on: date | None
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredContact:
    contact_id: str
    case_id: str
    receipt_id: str
    contacted_at: datetime
    channel: ContactChannel
    result: ContactResult
    made_by: str
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredProposal:
    proposal_id: str
    receipt_id: str
    case_id: str | None
    principal_fen: int
    interest_fen: int
    days_past_due: int
    reason: str
    proposed_by: str
    proposed_on: date
    status: WriteOffStatus
    decided_by: str | None
    decided_on: date | None
    decision_note: str | None
    entry_key: str | None
    written_off_fen: int | None
    created_at: datetime
    version: int


@dataclass(frozen=True, slots=True)
class QueueCursor:
    """Where a page of a queue ended: the next page starts after this case."""

    days_past_due: int
    overdue_fen: int
    receipt_id: str


@dataclass(frozen=True, slots=True)
class QueueFilter:
    bucket: DpdBucket
    assignee: str | None = None
    unassigned: bool = False
    customer_id: str | None = None
    after: QueueCursor | None = None
    limit: int = 50


class CollectionsRepository(Protocol):
    def delinquent_loans(self) -> list[DelinquentLoan]:
        """Every active loan account with days past due above zero."""
        ...

    def open_cases(self, customer_id: str | None = None) -> list[CollectionCase]:
        """Open cases (of one customer when given), by receipt id."""
        ...

    def case(self, case_id: str, *, for_update: bool = False) -> CollectionCase | None: ...

    def case_of_receipt(self, receipt_id: str) -> CollectionCase | None: ...

    def add_case(self, case: CollectionCase) -> None: ...

    def save_case(self, case: CollectionCase) -> None:
        """Write back; the stored version must be ``case.version - 1``."""
        ...

    def count_held(self, assignee: str) -> int:
        """Open cases ``assignee`` holds (the console's home)."""
        ...

    def queue(self, query: QueueFilter) -> list[CollectionCase]:
        """Open cases of a bucket, oldest then largest first (then by receipt id)."""
        ...

    def add_promise(self, promise: StoredPromise) -> None: ...

    def save_promise(self, promise: StoredPromise) -> None: ...

    def promises(self, case_id: str) -> list[StoredPromise]: ...

    def pending_promises(self) -> list[StoredPromise]: ...

    def add_contact(self, contact: StoredContact) -> None: ...

    def contacts(self, case_id: str) -> list[StoredContact]: ...

    def add_proposal(self, proposal: StoredProposal) -> None: ...

    def proposal(self, proposal_id: str, *, for_update: bool = False) -> StoredProposal | None: ...

    def open_proposal(self, receipt_id: str) -> StoredProposal | None: ...

    def save_proposal(self, proposal: StoredProposal) -> None: ...

    def proposals(self, status: WriteOffStatus | None, *, limit: int) -> list[StoredProposal]: ...


class CollectionsUnitOfWork(ServicingUnitOfWork, Protocol):
    @property
    def collections(self) -> CollectionsRepository: ...
