"""Collections (催收) of delinquent receipts: DPD queues, promises to pay, contacts, write-offs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from puhui.domain.monitoring.errors import (
    InvalidMonitoringValue,
    PromiseRefused,
    WriteOffFourEyes,
    WriteOffRefused,
)

REMINDER_MAX_DPD = 30
COLLECTION_MAX_DPD = 90
"""1-30 days past due: reminders; 31-90: collection; beyond 90 (non-accrual, at least
substandard under the 2023 risk classification rules): legal action and recovery."""


class DpdBucket(StrEnum):
    REMINDER = "reminder"  # 1-30: 提醒
    COLLECTION = "collection"  # 31-90: 催收
    LEGAL = "legal"  # 90+: 诉讼/清收


def dpd_bucket(days_past_due: int) -> DpdBucket | None:
    """The queue of a receipt by its days past due; None when it is current."""
    if days_past_due < 0:
        raise InvalidMonitoringValue(f"days past due must not be negative: {days_past_due}")
    if days_past_due == 0:
        return None
    if days_past_due <= REMINDER_MAX_DPD:
        return DpdBucket.REMINDER
    if days_past_due <= COLLECTION_MAX_DPD:
        return DpdBucket.COLLECTION
    return DpdBucket.LEGAL


@dataclass(frozen=True, slots=True)
class DelinquentReceipt:
    """A receipt (借据) with an overdue amount, as the queues see it."""

    receipt_id: str
    customer_id: str
    days_past_due: int
    overdue_fen: int

    def __post_init__(self) -> None:
        if self.overdue_fen < 0:
            raise InvalidMonitoringValue("an overdue amount must not be negative")
        dpd_bucket(self.days_past_due)

    @property
    def bucket(self) -> DpdBucket | None:
        return dpd_bucket(self.days_past_due)


def collection_queues(
    receipts: Iterable[DelinquentReceipt],
) -> dict[DpdBucket, list[DelinquentReceipt]]:
    """Receipts by bucket, each queue worked oldest first, then largest amount first."""
    queues: dict[DpdBucket, list[DelinquentReceipt]] = {b: [] for b in DpdBucket}
    for receipt in receipts:
        bucket = receipt.bucket
        if bucket is not None:
            queues[bucket].append(receipt)
    for items in queues.values():
        items.sort(key=lambda r: (-r.days_past_due, -r.overdue_fen, r.receipt_id))
    return queues


class PromiseStatus(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    BROKEN = "broken"


@dataclass(frozen=True, slots=True)
class Repayment:
    """Money received on a receipt (from servicing)."""

    paid_on: dt.date
    amount_fen: int


@dataclass(frozen=True, slots=True)
class PromiseEvaluation:
    status: PromiseStatus
    paid_fen: int
    """Paid from the day the promise was made to the promised day (plus grace)."""


@dataclass(frozen=True, slots=True)
class PromiseToPay:
    """The borrower's promise (承诺还款) to pay ``amount_fen`` on a receipt by ``promised_on``."""

    promise_id: str
    receipt_id: str
    amount_fen: int
    made_on: dt.date
    promised_on: dt.date
    grace_days: int = 0
    """Days after the promised day a payment still counts (bank transfers take a day)."""

    def __post_init__(self) -> None:
        if self.amount_fen <= 0:
            raise PromiseRefused("a promise to pay needs a positive amount")
        if self.promised_on < self.made_on:
            raise PromiseRefused("a promise cannot fall due before it was made")
        if self.grace_days < 0:
            raise PromiseRefused("grace days must not be negative")

    @property
    def last_day(self) -> dt.date:
        return self.promised_on + dt.timedelta(days=self.grace_days)

    def evaluate(self, repayments: Iterable[Repayment], as_of: dt.date) -> PromiseEvaluation:
        """Kept once the payments in the window reach the amount; broken when the window has
        closed short of it (a part payment does not keep a promise); pending until then."""
        paid = sum(r.amount_fen for r in repayments if self.made_on <= r.paid_on <= self.last_day)
        if paid >= self.amount_fen:
            return PromiseEvaluation(PromiseStatus.KEPT, paid)
        if as_of > self.last_day:
            return PromiseEvaluation(PromiseStatus.BROKEN, paid)
        return PromiseEvaluation(PromiseStatus.PENDING, paid)


class ContactChannel(StrEnum):
    PHONE = "phone"
    SMS = "sms"
    VISIT = "visit"
    LETTER = "letter"


class ContactResult(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    REFUSED = "refused"
    WRONG_NUMBER = "wrong_number"
    PROMISED = "promised"


@dataclass(frozen=True, slots=True)
class ContactAttempt:
    """One line of the contact log: who tried to reach the borrower, how, when, with what."""

    receipt_id: str
    contacted_at: dt.datetime
    """Aware UTC."""
    channel: ContactChannel
    result: ContactResult
    by: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.contacted_at.tzinfo is None:
            raise InvalidMonitoringValue("a contact time must be an aware timestamp")
        if not self.by:
            raise InvalidMonitoringValue("a contact attempt names who made it")


class WriteOffStatus(StrEnum):
    PROPOSED = "proposed"
    # Approved by a second person, the ledger posting under way: no longer open to rejection;
    # approving again finishes it.
    APPROVING = "approving"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class WriteOffProposal:
    """A proposal to write a receipt off (核销); a second person approves or rejects it."""

    proposal_id: str
    receipt_id: str
    principal_fen: int
    interest_fen: int
    reason: str
    proposed_by: str
    proposed_on: dt.date
    days_past_due: int
    status: WriteOffStatus = WriteOffStatus.PROPOSED
    decided_by: str | None = None
    decided_on: dt.date | None = None

    def __post_init__(self) -> None:
        if self.principal_fen < 0 or self.interest_fen < 0:
            raise InvalidMonitoringValue("write-off amounts must not be negative")
        if self.principal_fen + self.interest_fen == 0:
            raise WriteOffRefused("nothing to write off")
        if not self.reason.strip():
            raise WriteOffRefused("a write-off proposal needs a reason")
        if dpd_bucket(self.days_past_due) is not DpdBucket.LEGAL:
            raise WriteOffRefused(
                f"only receipts more than {COLLECTION_MAX_DPD} days past due may be written "
                f"off ({self.days_past_due} days)"
            )

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen

    def _decide(self, by: str, on: dt.date, status: WriteOffStatus) -> WriteOffProposal:
        if self.status is not WriteOffStatus.PROPOSED:
            raise WriteOffRefused(f"write-off {self.proposal_id} is already {self.status}")
        if by == self.proposed_by:
            raise WriteOffFourEyes(
                f"write-off {self.proposal_id} was proposed by {by}: a second person decides"
            )
        if on < self.proposed_on:
            raise InvalidMonitoringValue("a decision cannot precede the proposal")
        return replace(self, status=status, decided_by=by, decided_on=on)

    def start_approval(self, by: str, on: dt.date) -> WriteOffProposal:
        """The second person's approval, before the write-off is posted (``approving``)."""
        return self._decide(by, on, WriteOffStatus.APPROVING)

    def complete_approval(self, by: str) -> WriteOffProposal:
        """The write-off is posted: ``approving`` becomes ``approved``; never by the proposer."""
        if self.status is not WriteOffStatus.APPROVING:
            raise WriteOffRefused(
                f"write-off {self.proposal_id} is {self.status}, not being approved"
            )
        if by == self.proposed_by:
            raise WriteOffFourEyes(
                f"write-off {self.proposal_id} was proposed by {by}: a second person decides"
            )
        return replace(self, status=WriteOffStatus.APPROVED)

    def approve(self, by: str, on: dt.date) -> WriteOffProposal:
        return self.start_approval(by, on).complete_approval(by)

    def reject(self, by: str, on: dt.date) -> WriteOffProposal:
        return self._decide(by, on, WriteOffStatus.REJECTED)
