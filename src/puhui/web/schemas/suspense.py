"""Bodies of repayments held in suspense (挂账): hold, apply, refund and transfer to another loan
(each requested, then approved or rejected), and the items read."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from puhui.domain.lending.reconciliation import MAX_LOAN_ID, MAX_ORDER_ID
from puhui.domain.lending.suspense import SuspenseItem
from puhui.services.servicing.suspense import MAX_REASON, Applied
from puhui.web.schemas.common import Strict
from puhui.web.schemas.servicing import RepaymentOut, repayment_out


class SuspenseHoldCreate(Strict):
    run_id: str = Field(
        min_length=1, max_length=64, description="the recorded reconciliation (rcn_…)"
    )
    order_id: str = Field(
        min_length=1,
        max_length=MAX_ORDER_ID,
        description="the order of the run's break 'collected, not posted' (not_posted)",
    )


class SuspenseApplication(Strict):
    loan_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_LOAN_ID,
        description="only the loan the channel named is accepted here (null names it too, kept "
        "for compatibility): another loan is 409 suspense_transfer_needs_approval; request a "
        "transfer to it (/transfer) for a second person to approve",
    )


class SuspenseRefund(Strict):
    reason: str = Field(
        min_length=1, max_length=MAX_REASON, description="why the money goes back to the payer"
    )


class SuspenseRefundRejection(Strict):
    reason: str = Field(
        min_length=1,
        max_length=MAX_REASON,
        description="why the refund requested is not made (the item is held again)",
    )


class SuspenseTransfer(Strict):
    loan_id: str = Field(
        min_length=1,
        max_length=MAX_LOAN_ID,
        description="the loan to apply the money to, not the one the channel named (active)",
    )
    reason: str = Field(
        min_length=1,
        max_length=MAX_REASON,
        description="why the money goes to another loan than the one the channel named",
    )


class SuspenseTransferRejection(Strict):
    reason: str = Field(
        min_length=1,
        max_length=MAX_REASON,
        description="why the transfer requested is not made (the item is held again)",
    )


class SuspenseItemOut(BaseModel):
    item_id: str = Field(description="the item (sus_…)")
    order_id: str
    loan_id: str = Field(description="the loan the channel named")
    amount_fen: int
    posted_fen: int | None = Field(
        description="what the books had credited under the order when it was held: the item "
        "is the channel's excess over it (null for an order the books did not have)"
    )
    value_date: date = Field(description="the channel's day, which counts the order as posted")
    channel_ref: str | None
    run_id: str = Field(description="the reconciliation whose break it was")
    status: str = Field(
        description="held | refund_requested | transfer_requested | applied | refunded"
    )
    held_on: date = Field(description="the business day the hold was posted on")
    held_by: str
    held_at: datetime
    resolved_on: date | None = Field(description="the business day it was applied or refunded")
    resolved_by: str | None
    resolved_at: datetime | None
    applied_loan_id: str | None = Field(description="the loan it was applied to")
    repayment_key: str | None = Field(
        description="the key of the repayment it was applied as (what a reversal names)"
    )
    reason: str | None = Field(
        description="why it is to be refunded (refund_requested) or was refunded, or why it is "
        "to be applied (transfer_requested) or was applied to another loan than the channel's"
    )
    refund_requested_by: str | None = Field(
        description="who requested the refund (a second person approves it)"
    )
    refund_requested_at: datetime | None = Field(description="when the refund was requested")
    transfer_loan_id: str | None = Field(
        description="the loan, not the channel's, a transfer asks to apply the item to (kept "
        "once the transfer is approved)"
    )
    transfer_requested_by: str | None = Field(
        description="who requested the transfer (a second person approves it)"
    )
    transfer_requested_at: datetime | None = Field(description="when the transfer was requested")
    rejected_request: str | None = Field(
        description="the latest request turned down: refund | transfer (null if none was); "
        "the next rejection replaces it"
    )
    rejected_reason: str | None = Field(description="why that request was turned down")
    rejected_by: str | None = Field(
        description="who turned it down (a second person, or its requester withdrawing it)"
    )
    rejected_at: datetime | None = Field(description="when it was turned down")


class SuspenseTieOutOut(BaseModel):
    account_fen: int = Field(
        description="the balance of the suspense account 2245 (a credit, as a positive amount)"
    )
    items: int = Field(
        description="items in suspense: held, or with a refund or a transfer waiting"
    )
    items_fen: int = Field(description="their amount")
    difference_fen: int = Field(description="the account less the items: what no item explains")
    agrees: bool
    max_days: int = Field(description="days an item may stay in suspense (suspense_max_days)")
    overdue: int = Field(description="items in suspense held longer than max_days")
    overdue_fen: int = Field(description="their amount")


class SuspenseListOut(BaseModel):
    items: list[SuspenseItemOut]
    limit: int
    offset: int


class SuspenseAppliedOut(BaseModel):
    item: SuspenseItemOut
    repayment: RepaymentOut


def suspense_item_out(item: SuspenseItem) -> SuspenseItemOut:
    return SuspenseItemOut(
        item_id=item.item_id,
        order_id=item.order_id,
        loan_id=item.loan_id,
        amount_fen=item.amount_fen,
        posted_fen=item.posted_fen,
        value_date=item.value_date,
        channel_ref=item.channel_ref or None,
        run_id=item.run_id,
        status=item.status.value,
        held_on=item.held_on,
        held_by=item.held_by,
        held_at=item.held_at,
        resolved_on=item.resolved_on,
        resolved_by=item.resolved_by,
        resolved_at=item.resolved_at,
        applied_loan_id=item.applied_loan_id,
        repayment_key=item.repayment_key,
        reason=item.reason,
        refund_requested_by=item.refund_requested_by,
        refund_requested_at=item.refund_requested_at,
        transfer_loan_id=item.transfer_loan_id,
        transfer_requested_by=item.transfer_requested_by,
        transfer_requested_at=item.transfer_requested_at,
        rejected_request=item.rejected_request,
        rejected_reason=item.rejected_reason,
        rejected_by=item.rejected_by,
        rejected_at=item.rejected_at,
    )


def suspense_list_out(items: list[SuspenseItem], *, limit: int, offset: int) -> SuspenseListOut:
    return SuspenseListOut(items=[suspense_item_out(i) for i in items], limit=limit, offset=offset)


def suspense_applied_out(applied: Applied) -> SuspenseAppliedOut:
    return SuspenseAppliedOut(
        item=suspense_item_out(applied.item), repayment=repayment_out(applied.repayment)
    )
