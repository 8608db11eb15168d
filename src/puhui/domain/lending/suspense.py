"""Repayments held in suspense (挂账): money the channel collected that no loan was credited with.

A reconciliation names such money as a ``not_posted`` break: the channel's file of a closed
day has an order the books do not; or as an ``amount_differs`` break in which the channel
collected more under an order than the books credited to its loan (the excess is held). The
day is closed, so the repayment can no longer be valued on it. Operations holds the money
instead: the hold is posted on the open business day (debit settlement, credit suspense) and
keeps the channel's value date, so that the channel's day reconciles (the books acknowledge
the order there, the excess added to the repayment posted under it). The item is then resolved
once, on the open business day of that moment:

- applied (入账) to a loan as a repayment funded from suspense (debit suspense, credit what
  the loan owes in waterfall order). To the channel's loan, one person applies it; to another
  loan (转入他笔贷款: the channel named the wrong one), money credited to someone else's debt,
  it takes two: one requests the transfer with its reason, a second approves it (the
  repayment is posted) or either rejects it (the item is held again). Reversing that
  repayment on its day puts the item back on hold;
- or refunded (退回) to the payer with a reason (debit suspense, credit settlement). Money
  leaving the bank takes two people: one requests the refund with its reason, a second
  approves it (the refund is posted) or either rejects it (the item is held again).

The suspense account's balance is the sum of the items on hold (held, or with a refund or a
transfer waiting for its approval).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from puhui.domain.ledger import Account, JournalEntry
from puhui.domain.lending.reconciliation import PostedRepayment

DEFAULT_MAX_DAYS = 30
"""Days an item may stay in suspense before it is overdue, unless a bank sets its own."""
MAX_DAYS_LIMIT = 366


class SuspenseStatus(StrEnum):
    HELD = "held"
    REFUND_REQUESTED = "refund_requested"
    """Held, with a refund waiting for a second person's approval."""
    TRANSFER_REQUESTED = "transfer_requested"
    """Held, with its application to another loan than the channel's waiting for a second
    person's approval."""
    APPLIED = "applied"
    REFUNDED = "refunded"

    @property
    def in_suspense(self) -> bool:
        """The money is still on the suspense account."""
        return self in (
            SuspenseStatus.HELD,
            SuspenseStatus.REFUND_REQUESTED,
            SuspenseStatus.TRANSFER_REQUESTED,
        )

    @property
    def awaits_approval(self) -> bool:
        """A second person's approval is asked for (a refund or a transfer)."""
        return self in (SuspenseStatus.REFUND_REQUESTED, SuspenseStatus.TRANSFER_REQUESTED)


@dataclass(frozen=True, slots=True)
class SuspenseItem:
    """One order held in suspense, from the ``not_posted`` break of a recorded reconciliation."""

    item_id: str
    order_id: str
    loan_id: str
    """The loan the channel named."""
    amount_fen: int
    value_date: date
    """The channel's day: the reconciliation of that day counts the item as the books' own."""
    channel_ref: str
    run_id: str
    """The reconciliation whose break it was."""
    held_on: date
    """The business day the hold was posted on."""
    held_by: str
    held_at: datetime
    posted_fen: int | None = None
    """What the books had credited under the order when it was held (an ``amount_differs``
    break): the item is the channel's excess over it. None for an order the books did not
    have."""
    status: SuspenseStatus = SuspenseStatus.HELD
    resolved_on: date | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    applied_loan_id: str | None = None
    repayment_key: str | None = None
    """The idempotency key of the repayment it was applied as (``reverse_repayment`` takes
    it)."""
    reason: str | None = None
    """Why it is (to be) refunded, or applied to another loan than the channel's."""
    refund_requested_by: str | None = None
    """Who asked for the refund: a second person approves it."""
    refund_requested_at: datetime | None = None
    transfer_loan_id: str | None = None
    """The loan, not the channel's, that a transfer asks to apply the item to."""
    transfer_requested_by: str | None = None
    """Who asked for the transfer: a second person approves it."""
    transfer_requested_at: datetime | None = None
    rejected_request: str | None = None
    """The latest request turned down (``refund`` or ``transfer``), kept so that whoever
    looks at the item next sees why; the next rejection replaces it."""
    rejected_reason: str | None = None
    rejected_by: str | None = None
    rejected_at: datetime | None = None
    version: int = 1

    @property
    def hold_key(self) -> str:
        return f"suspense-hold:{self.item_id}"

    @property
    def refund_key(self) -> str:
        return f"suspense-refund:{self.item_id}"

    def application_key(self) -> str:
        """The key of a repayment applying this item: one per state of the item, so that an
        application reversed and made again is a new repayment, not a replay of the first."""
        return f"suspense:{self.item_id}:{self.version}"

    def hold_entry(self) -> JournalEntry:
        return JournalEntry.build(
            self.hold_key,
            self.held_on,
            f"order {self.order_id} of {self.value_date} held in suspense",
            [
                (Account.SETTLEMENT, self.amount_fen),
                (Account.REPAYMENT_SUSPENSE, -self.amount_fen),
            ],
        )

    def refund_entry(self, on: date) -> JournalEntry:
        return JournalEntry.build(
            self.refund_key,
            on,
            f"order {self.order_id} refunded from suspense",
            [
                (Account.REPAYMENT_SUSPENSE, self.amount_fen),
                (Account.SETTLEMENT, -self.amount_fen),
            ],
        )

    def applied(
        self, *, loan_id: str, repayment_key: str, on: date, by: str, at: datetime
    ) -> SuspenseItem:
        return replace(
            self,
            status=SuspenseStatus.APPLIED,
            applied_loan_id=loan_id,
            repayment_key=repayment_key,
            resolved_on=on,
            resolved_by=by,
            resolved_at=at,
            version=self.version + 1,
        )

    def refund_requested(self, *, reason: str, by: str, at: datetime) -> SuspenseItem:
        """A refund asked for: the money stays on hold until a second person approves."""
        return replace(
            self,
            status=SuspenseStatus.REFUND_REQUESTED,
            reason=reason,
            refund_requested_by=by,
            refund_requested_at=at,
            version=self.version + 1,
        )

    def refund_rejected(self, *, reason: str, by: str, at: datetime) -> SuspenseItem:
        """The refund asked for is not made: the item is held again, to apply or refund."""
        return replace(
            self,
            status=SuspenseStatus.HELD,
            reason=None,
            refund_requested_by=None,
            refund_requested_at=None,
            rejected_request="refund",
            rejected_reason=reason,
            rejected_by=by,
            rejected_at=at,
            version=self.version + 1,
        )

    def transfer_requested(
        self, *, loan_id: str, reason: str, by: str, at: datetime
    ) -> SuspenseItem:
        """Its application to another loan than the channel's asked for: the money stays on
        hold until a second person approves."""
        return replace(
            self,
            status=SuspenseStatus.TRANSFER_REQUESTED,
            reason=reason,
            transfer_loan_id=loan_id,
            transfer_requested_by=by,
            transfer_requested_at=at,
            version=self.version + 1,
        )

    def transfer_rejected(self, *, reason: str, by: str, at: datetime) -> SuspenseItem:
        """The transfer asked for is not made: the item is held again, to apply or refund."""
        return replace(
            self,
            status=SuspenseStatus.HELD,
            reason=None,
            transfer_loan_id=None,
            transfer_requested_by=None,
            transfer_requested_at=None,
            rejected_request="transfer",
            rejected_reason=reason,
            rejected_by=by,
            rejected_at=at,
            version=self.version + 1,
        )

    def refunded(self, *, on: date, by: str, at: datetime) -> SuspenseItem:
        """The refund approved (by someone other than who asked for it) and posted."""
        return replace(
            self,
            status=SuspenseStatus.REFUNDED,
            resolved_on=on,
            resolved_by=by,
            resolved_at=at,
            version=self.version + 1,
        )

    def reopened(self) -> SuspenseItem:
        """Back on hold: the repayment it was applied as has been reversed (a transfer that
        was approved is forgotten: applying it to another loan again is a new request)."""
        return replace(
            self,
            status=SuspenseStatus.HELD,
            applied_loan_id=None,
            repayment_key=None,
            resolved_on=None,
            resolved_by=None,
            resolved_at=None,
            reason=None,
            transfer_loan_id=None,
            transfer_requested_by=None,
            transfer_requested_at=None,
            version=self.version + 1,
        )


def acknowledged(
    posted: Sequence[PostedRepayment], items: Sequence[SuspenseItem]
) -> list[PostedRepayment]:
    """The books' side of a day's reconciliation: the repayments posted on it, and the money
    held in suspense that the channel collected that day. An item holding the excess of a
    posted repayment is added to it (same order, same loan); any other item counts as a
    repayment of its own."""
    by_order: dict[str, list[PostedRepayment]] = {}
    for repayment in posted:
        by_order.setdefault(repayment.order_id, []).append(repayment)
    extra: list[PostedRepayment] = []
    for item in items:
        same = by_order.get(item.order_id, [])
        if len(same) == 1 and same[0].loan_id == item.loan_id:
            first = same[0]
            same[0] = replace(first, amount_fen=first.amount_fen + item.amount_fen)
        else:
            extra.append(PostedRepayment(item.order_id, item.loan_id, item.amount_fen))
    return [r for many in by_order.values() for r in many] + extra
