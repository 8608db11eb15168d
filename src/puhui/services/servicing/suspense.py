"""Repayments held in suspense (挂账): hold a reconciliation's ``not_posted`` order, apply it
to a loan, or refund it (``domain.lending.suspense``).

A refund sends money out of the bank, and applying the money to another loan than the one the
channel named credits the payer's money to someone else's debt, so each takes two people: one
requests it with a reason (``request_refund``, ``request_transfer``), a second approves it
(``approve_refund``, ``approve_transfer``, which post it); either may reject it instead
(``reject_refund``, ``reject_transfer``), and the item is held again. Applying the item to the
channel's own loan (``apply``) is one person's act.

Each step is one transaction: the journal entry if any, the item, the audit event
(``suspense.held``, ``suspense.applied``, ``suspense.refund_requested``,
``suspense.refund_rejected``, ``suspense.refunded``, ``suspense.transfer_requested``,
``suspense.transfer_rejected``) and, for an application, the repayment with its own audit
event. Every posting is on the open business day, the day after the last one closed. Each step
needs ``suspense:manage`` (operations); reading the items needs ``ledger:read``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from puhui.domain.errors import Conflict, InvalidIdentifier, InvalidInput, NotFound
from puhui.domain.ids import new_id
from puhui.domain.ledger import Account
from puhui.domain.lending.reconciliation import MAX_LOAN_ID, MAX_ORDER_ID, BreakKind
from puhui.domain.lending.suspense import (
    DEFAULT_MAX_DAYS,
    MAX_DAYS_LIMIT,
    SuspenseItem,
    SuspenseStatus,
)
from puhui.services.audit import record
from puhui.services.security.permissions import Permission, Principal, require
from puhui.services.servicing.operations import DayNotClosed, checked_run_id
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.services.servicing.receipts import RepaymentResult, check_active, post_repayment

Units = Callable[[], ServicingUnitOfWork]
ITEM_ID = re.compile(r"^sus_[0-9A-HJKMNP-TV-Z]{26}$")
MAX_PAGE = 100
MAX_REASON = 200


class NotHeld(Conflict):
    """The item was applied or refunded already: it is resolved once."""

    code = "suspense_not_held"


class RefundPending(Conflict):
    """A refund of the item waits for its approval: approve or reject it first."""

    code = "suspense_refund_pending"


class NoRefundRequested(Conflict):
    """The item is held with no refund requested: there is nothing to approve or reject."""

    code = "suspense_no_refund_requested"


class TransferPending(Conflict):
    """Applying the item to another loan waits for its approval: approve or reject it first."""

    code = "suspense_transfer_pending"


class NoTransferRequested(Conflict):
    """The item has no transfer to another loan requested: there is nothing to approve or
    reject."""

    code = "suspense_no_transfer_requested"


class TransferNeedsApproval(Conflict):
    """Applying an item to another loan than the channel's takes two people: request it."""

    code = "suspense_transfer_needs_approval"


class SamePerson(Conflict):
    """Four eyes: who requested a refund or a transfer does not approve it, a second person
    does (the platform's code for it, as for a loan change approved by its requester)."""

    code = "four_eyes_violation"


class OrderHeldAlready(Conflict):
    """The order number is held already for another collection (another day, loan or amount)."""

    code = "order_held_already"


class BooksChanged(Conflict):
    """The books' repayment under the order is not what the reconciliation found any more."""

    code = "reconciliation_stale"


class AlreadyPosted(Conflict):
    """The order stands in the books as a repayment: there is nothing to hold."""

    code = "order_already_posted"


@dataclass(frozen=True, slots=True)
class Held:
    item: SuspenseItem
    created: bool
    """False when the order was held already (the item as it stands is returned)."""


@dataclass(frozen=True, slots=True)
class TieOut:
    """The suspense account against the items in suspense (a sub-ledger check)."""

    account_fen: int
    """The balance of ``2245`` (a credit balance, as a positive amount)."""
    items: int
    """Items whose money is on the account: held, or with a refund waiting."""
    items_fen: int
    max_days: int = DEFAULT_MAX_DAYS
    """Days an item may stay in suspense before it is overdue."""
    overdue: int = 0
    """Items in suspense held longer than ``max_days`` (to the open business day)."""
    overdue_fen: int = 0

    @property
    def agrees(self) -> bool:
        return self.account_fen == self.items_fen

    @property
    def difference_fen(self) -> int:
        """The account less the items: money on the account that no item explains."""
        return self.account_fen - self.items_fen


@dataclass(frozen=True, slots=True)
class LoanGlance:
    """What a checker looks at of a loan an item names: whose it is and what it owes now."""

    loan_id: str
    enterprise_id: str
    line_id: str | None
    status: str
    owed_fen: int


@dataclass(frozen=True, slots=True)
class Applied:
    item: SuspenseItem
    repayment: RepaymentResult


def open_business_day(uow: ServicingUnitOfWork) -> date:
    """The day postings are made on now: the day after the last closed one."""
    closed = uow.business_days.last_closed()
    if closed is None:
        raise DayNotClosed(
            "no business day has closed yet: there is nothing to hold in suspense",
            details={"last_closed": None},
        )
    return closed + timedelta(days=1)


def _audit(
    uow: ServicingUnitOfWork,
    actor: Principal,
    action: str,
    item_id: str,
    payload: Mapping[str, Any],
) -> None:
    record(
        uow,
        actor=actor.user_id,
        action=action,
        entity="repayment_suspense",
        entity_id=item_id,
        payload=payload,
    )


def _item_id(item_id: str) -> str:
    if not ITEM_ID.fullmatch(item_id):
        raise InvalidIdentifier(
            f"not a suspense item id (sus_ and 26 characters): {item_id[:60]!r}",
            details={"field": "item_id"},
        )
    return item_id


def _printable(value: str, field: str, most: int) -> str:
    text = value.strip()
    if not text or len(text) > most or not text.isprintable():
        raise InvalidInput(
            f"{field} must be 1 to {most} printable characters", details={"field": field}
        )
    return text


def hold(units: Units, *, actor: Principal, run_id: str, order_id: str) -> Held:
    """Hold what a recorded reconciliation found the channel collected under an order and no
    loan was credited with: the whole order for a ``not_posted`` break, the excess for an
    ``amount_differs`` one in which the books hold less on the same loan (still so in the
    books, or ``reconciliation_stale``). The hold is posted on the open business day and keeps
    the channel's day, which then reconciles. Holding the same collection again returns its
    item; the same order number collected on another day, for another loan or amount, is
    refused."""
    require(actor, Permission.SUSPENSE_MANAGE)
    checked_run_id(run_id)
    order = _printable(order_id, "order_id", MAX_ORDER_ID)
    with units() as uow:
        run = uow.reconciliations.get(run_id)
        if run is None:
            raise NotFound(f"no reconciliation {run_id}", details={"run_id": run_id})
        found = next((b for b in run.breaks or () if b.order_id == order), None)
        uncredited = None if found is None else found.uncredited_fen
        if found is None or uncredited is None:
            raise InvalidInput(
                f"reconciliation {run_id} has no break for order {order} in which the channel "
                "collected money no loan was credited with ('collected, not posted', or more "
                "collected than posted): only such money is held in suspense",
                details={"run_id": run_id, "order_id": order},
            )
        existing = uow.suspense.of_order(order)
        if existing is not None:
            same = (existing.value_date, existing.loan_id, existing.amount_fen) == (
                run.value_date,
                found.loan_id,
                uncredited,
            )
            if not same:
                # A channel's order number is its own; the same one again is a break to
                # investigate, not money to hold twice.
                raise OrderHeldAlready(
                    f"order {order} is held already as {existing.item_id}, collected on "
                    f"{existing.value_date} for loan {existing.loan_id}: this break is "
                    "another collection under the same order; investigate it with the channel",
                    details={"order_id": order, "item_id": existing.item_id},
                )
            return Held(existing, created=False)
        posted = uow.ledger.standing_repayment_of(order)
        if found.kind is BreakKind.NOT_POSTED and posted is not None:
            raise AlreadyPosted(
                f"order {order} stands in the books as repayment {posted.key} of loan "
                f"{posted.loan_id}: it is not held in suspense",
                details={"order_id": order, "repayment_key": posted.key},
            )
        if found.kind is BreakKind.AMOUNT_DIFFERS and (
            posted is None or (posted.loan_id, posted.amount_fen) != (found.loan_id, found.ours_fen)
        ):
            raise BooksChanged(
                f"the books no longer hold what reconciliation {run_id} found for order "
                f"{order}: reconcile {run.value_date} again, then hold what it finds",
                details={"order_id": order, "run_id": run_id},
            )
        item = SuspenseItem(
            item_id=new_id("sus"),
            order_id=order,
            loan_id=found.loan_id,
            amount_fen=uncredited,
            value_date=run.value_date,
            channel_ref=found.channel_ref,
            run_id=run_id,
            held_on=open_business_day(uow),
            held_by=actor.user_id,
            held_at=uow.clock.now(),
            posted_fen=found.ours_fen,
        )
        uow.ledger.post(item.hold_entry())
        uow.suspense.add(item)
        _audit(
            uow,
            actor,
            "suspense.held",
            item.item_id,
            {
                "order_id": order,
                "loan_id": item.loan_id,
                "amount_fen": item.amount_fen,
                "posted_fen": item.posted_fen,
                "value_date": item.value_date.isoformat(),
                "run_id": run_id,
                "held_on": item.held_on.isoformat(),
            },
        )
        uow.commit()
    return Held(item, created=True)


def _locked(uow: ServicingUnitOfWork, item_id: str) -> SuspenseItem:
    item = uow.suspense.get(item_id, for_update=True)
    if item is None:
        raise NotFound(f"no suspense item {item_id}", details={"item_id": item_id})
    return item


def _held(uow: ServicingUnitOfWork, item_id: str) -> SuspenseItem:
    item = _locked(uow, item_id)
    details = {"item_id": item_id, "status": item.status.value}
    if item.status is SuspenseStatus.REFUND_REQUESTED:
        raise RefundPending(
            f"a refund of suspense item {item_id} was requested by {item.refund_requested_by}: "
            "approve or reject it first",
            details=details,
        )
    if item.status is SuspenseStatus.TRANSFER_REQUESTED:
        raise TransferPending(
            f"applying suspense item {item_id} to loan {item.transfer_loan_id} was requested by "
            f"{item.transfer_requested_by}: approve or reject it first",
            details=details,
        )
    if item.status is not SuspenseStatus.HELD:
        raise _not_held(item)
    return item


def _not_held(item: SuspenseItem) -> NotHeld:
    return NotHeld(
        f"suspense item {item.item_id} was {item.status.value} on {item.resolved_on}: "
        "an item is resolved once",
        details={"item_id": item.item_id, "status": item.status.value},
    )


_REQUESTS: dict[SuspenseStatus, tuple[str, type[Conflict]]] = {
    SuspenseStatus.REFUND_REQUESTED: ("refund", NoRefundRequested),
    SuspenseStatus.TRANSFER_REQUESTED: ("transfer", NoTransferRequested),
}


def _asked(uow: ServicingUnitOfWork, item_id: str, request: SuspenseStatus) -> SuspenseItem:
    """The item, locked, with the request (a refund or a transfer) waiting for approval."""
    item = _locked(uow, item_id)
    if item.status is request:
        return item
    if not item.status.in_suspense:
        raise _not_held(item)
    what, error = _REQUESTS[request]
    raise error(
        f"suspense item {item_id} is {item.status.value}, with no {what} requested: "
        "request one first",
        details={"item_id": item_id, "status": item.status.value},
    )


def _second_person(actor: Principal, requested_by: str | None, item_id: str, what: str) -> None:
    if requested_by == actor.user_id:
        raise SamePerson(
            f"you requested the {what} of suspense item {item_id}: a second person approves it",
            details={"item_id": item_id},
        )


def _apply(
    uow: ServicingUnitOfWork,
    actor: Principal,
    item: SuspenseItem,
    loan_id: str,
    noted: Mapping[str, Any],
) -> Applied:
    """Post the item as a repayment of ``loan_id`` funded from suspense, in ``uow``."""
    loan = uow.loans.get(loan_id, for_update=True)
    if loan is None:
        raise NotFound(f"no loan {loan_id}", details={"loan_id": loan_id})
    on = open_business_day(uow)
    key = item.application_key()
    repayment = post_repayment(
        uow,
        loan,
        amount_fen=item.amount_fen,
        on=on,
        key=key,
        actor=actor.audit_name(),  # as a repayment over the API records its actor
        funded_by=Account.REPAYMENT_SUSPENSE,
    )
    applied = item.applied(
        loan_id=loan_id, repayment_key=key, on=on, by=actor.user_id, at=uow.clock.now()
    )
    uow.suspense.save(applied)
    _audit(
        uow,
        actor,
        "suspense.applied",
        item.item_id,
        {
            "loan_id": loan_id,
            "amount_fen": item.amount_fen,
            "on": on.isoformat(),
            "repayment_key": key,
            **noted,
        },
    )
    return Applied(applied, repayment)


def apply(units: Units, *, actor: Principal, item_id: str, loan_id: str | None = None) -> Applied:
    """Apply a held item to the loan the channel named as a repayment of its whole amount,
    funded from suspense and valued on the open business day. A loan that is not active, or
    owes less than the amount, is refused and the item stays held. Naming another loan is
    refused (``suspense_transfer_needs_approval``): that takes two people
    (``request_transfer``)."""
    require(actor, Permission.SUSPENSE_MANAGE)
    _item_id(item_id)
    target = None if loan_id is None else _printable(loan_id, "loan_id", MAX_LOAN_ID)
    with units() as uow:
        item = _held(uow, item_id)
        if target is not None and target != item.loan_id:
            raise TransferNeedsApproval(
                f"loan {target} is not the one the channel named ({item.loan_id}): applying "
                f"suspense item {item_id} to another loan takes two people; request the "
                "transfer with a reason, and a second person approves it",
                details={"item_id": item_id, "loan_id": target, "channel_loan_id": item.loan_id},
            )
        applied = _apply(uow, actor, item, item.loan_id, {})
        uow.commit()
    return applied


def request_refund(units: Units, *, actor: Principal, item_id: str, reason: str) -> SuspenseItem:
    """Ask for a held item's money to go back to the payer, saying why. Nothing is posted: the
    money stays on hold until a second person approves the refund (or either rejects it)."""
    require(actor, Permission.SUSPENSE_MANAGE)
    _item_id(item_id)
    why = _printable(reason, "reason", MAX_REASON)
    with units() as uow:
        item = _held(uow, item_id)
        requested = item.refund_requested(reason=why, by=actor.user_id, at=uow.clock.now())
        uow.suspense.save(requested)
        _audit(
            uow,
            actor,
            "suspense.refund_requested",
            item_id,
            {"amount_fen": item.amount_fen, "reason": why},
        )
        uow.commit()
    return requested


def approve_refund(units: Units, *, actor: Principal, item_id: str) -> SuspenseItem:
    """Approve a requested refund, as someone other than who requested it: the money goes back
    to the payer on the open business day (debit suspense, credit settlement)."""
    require(actor, Permission.SUSPENSE_MANAGE)
    _item_id(item_id)
    with units() as uow:
        item = _asked(uow, item_id, SuspenseStatus.REFUND_REQUESTED)
        _second_person(actor, item.refund_requested_by, item_id, "refund")
        on = open_business_day(uow)
        uow.ledger.post(item.refund_entry(on))
        refunded = item.refunded(on=on, by=actor.user_id, at=uow.clock.now())
        uow.suspense.save(refunded)
        _audit(
            uow,
            actor,
            "suspense.refunded",
            item_id,
            {
                "amount_fen": item.amount_fen,
                "on": on.isoformat(),
                "reason": item.reason,
                "requested_by": item.refund_requested_by,
            },
        )
        uow.commit()
    return refunded


def reject_refund(units: Units, *, actor: Principal, item_id: str, reason: str) -> SuspenseItem:
    """Turn a requested refund down, saying why (who requested it may withdraw it so): the item
    is held again, to be applied or refunded."""
    return _reject(units, actor, item_id, reason, SuspenseStatus.REFUND_REQUESTED)


def request_transfer(
    units: Units, *, actor: Principal, item_id: str, loan_id: str, reason: str
) -> SuspenseItem:
    """Ask for a held item to be applied to another loan than the one the channel named (the
    payer's money credited to someone else's debt), saying why. Nothing is posted: the money
    stays on hold until a second person approves the transfer (or either rejects it). The loan
    must exist and be active now; what it owes is checked when the transfer is posted."""
    require(actor, Permission.SUSPENSE_MANAGE)
    _item_id(item_id)
    target = _printable(loan_id, "loan_id", MAX_LOAN_ID)
    why = _printable(reason, "reason", MAX_REASON)
    with units() as uow:
        item = _held(uow, item_id)
        if target == item.loan_id:
            raise InvalidInput(
                f"loan {target} is the one the channel named: apply suspense item {item_id} "
                "to it, no transfer is needed",
                details={"field": "loan_id"},
            )
        loan = uow.loans.get(target)
        if loan is None:
            raise NotFound(f"no loan {target}", details={"loan_id": target})
        check_active(loan)
        requested = item.transfer_requested(
            loan_id=target, reason=why, by=actor.user_id, at=uow.clock.now()
        )
        uow.suspense.save(requested)
        _audit(
            uow,
            actor,
            "suspense.transfer_requested",
            item_id,
            {
                "loan_id": target,
                "channel_loan_id": item.loan_id,
                "amount_fen": item.amount_fen,
                "reason": why,
            },
        )
        uow.commit()
    return requested


def approve_transfer(units: Units, *, actor: Principal, item_id: str) -> Applied:
    """Approve a requested transfer, as someone other than who requested it: the item is
    applied to the loan asked for, as ``apply`` applies it to the channel's. A loan that is no
    longer active, or owes less than the amount, is refused and the request still waits (reject
    it)."""
    require(actor, Permission.SUSPENSE_MANAGE)
    _item_id(item_id)
    with units() as uow:
        item = _asked(uow, item_id, SuspenseStatus.TRANSFER_REQUESTED)
        _second_person(actor, item.transfer_requested_by, item_id, "transfer")
        target = item.transfer_loan_id
        if target is None:  # request_transfer always names it; only a hand-edited row does not
            raise NoTransferRequested(
                f"the transfer of suspense item {item_id} names no loan: reject it",
                details={"item_id": item_id, "status": item.status.value},
            )
        noted = {
            "channel_loan_id": item.loan_id,
            "reason": item.reason,
            "requested_by": item.transfer_requested_by,
        }
        applied = _apply(uow, actor, item, target, noted)
        uow.commit()
    return applied


def reject_transfer(units: Units, *, actor: Principal, item_id: str, reason: str) -> SuspenseItem:
    """Turn a requested transfer down, saying why (who requested it may withdraw it so): the
    item is held again, to be applied or refunded."""
    return _reject(units, actor, item_id, reason, SuspenseStatus.TRANSFER_REQUESTED)


def _reject(
    units: Units, actor: Principal, item_id: str, reason: str, request: SuspenseStatus
) -> SuspenseItem:
    require(actor, Permission.SUSPENSE_MANAGE)
    _item_id(item_id)
    why = _printable(reason, "reason", MAX_REASON)
    with units() as uow:
        item = _asked(uow, item_id, request)
        by, at = actor.user_id, uow.clock.now()
        if request is SuspenseStatus.REFUND_REQUESTED:
            held = item.refund_rejected(reason=why, by=by, at=at)
            action = "suspense.refund_rejected"
            noted = {"refund_reason": item.reason, "requested_by": item.refund_requested_by}
        else:
            held = item.transfer_rejected(reason=why, by=by, at=at)
            action = "suspense.transfer_rejected"
            noted = {
                "transfer_reason": item.reason,
                "loan_id": item.transfer_loan_id,
                "requested_by": item.transfer_requested_by,
            }
        uow.suspense.save(held)
        _audit(uow, actor, action, item_id, {"reason": why, **noted})
        uow.commit()
    return held


def suspense_items(
    reader: Units,
    *,
    actor: Principal,
    status: SuspenseStatus | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[SuspenseItem]:
    """Items, the latest held first (of one status when given)."""
    require(actor, Permission.LEDGER_READ)
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"a page holds 1 to {MAX_PAGE} items", details={"field": "limit"})
    with reader() as uow:
        return uow.suspense.page(status=status, limit=limit, offset=offset)


def suspense_item(reader: Units, *, actor: Principal, item_id: str) -> SuspenseItem:
    require(actor, Permission.LEDGER_READ)
    _item_id(item_id)
    with reader() as uow:
        item = uow.suspense.get(item_id)
    if item is None:
        raise NotFound(f"no suspense item {item_id}", details={"item_id": item_id})
    return item


def items_of_orders(
    reader: Units, *, actor: Principal, order_ids: Sequence[str]
) -> dict[str, SuspenseItem]:
    """The items of those of these orders that were held (a reconciliation's page)."""
    require(actor, Permission.LEDGER_READ)
    with reader() as uow:
        return uow.suspense.of_orders(order_ids)


def loans_named(reader: Units, *, actor: Principal, item: SuspenseItem) -> dict[str, LoanGlance]:
    """The loans the item names (the channel's, one a transfer asks for, the one it was applied
    to), by id; a loan the books do not have is left out. So that who approves a transfer sees
    whether the money stays with the same enterprise."""
    require(actor, Permission.LEDGER_READ)
    named = dict.fromkeys(
        loan_id
        for loan_id in (item.loan_id, item.transfer_loan_id, item.applied_loan_id)
        if loan_id is not None
    )
    found: dict[str, LoanGlance] = {}
    with reader() as uow:
        for loan_id in named:
            loan = uow.loans.get(loan_id)
            if loan is not None:
                found[loan_id] = LoanGlance(
                    loan_id=loan_id,
                    enterprise_id=loan.enterprise_id,
                    line_id=None if loan.line_id is None else str(loan.line_id),
                    status=loan.status.value,
                    owed_fen=loan.total_owed_fen,
                )
    return found


def business_day(reader: Units, *, actor: Principal) -> date | None:
    """The open business day (None before any day closed): how long items have been held."""
    require(actor, Permission.LEDGER_READ)
    with reader() as uow:
        closed = uow.business_days.last_closed()
    return None if closed is None else closed + timedelta(days=1)


def tie_out(reader: Units, *, actor: Principal, max_days: int = DEFAULT_MAX_DAYS) -> TieOut:
    """The suspense account's balance against the items in suspense, and how many of them have
    been held longer than ``max_days``. Every hold, application, refund and reversal moves the
    balance and the items in the same transaction, so they agree; a difference means something
    posted to the account that no item explains (a manual entry, a fault) and is to be
    investigated before the books are trusted. Overdue items are a warning: money a bank's
    policy says should have been applied or refunded by now."""
    require(actor, Permission.LEDGER_READ)
    if not 1 <= max_days <= MAX_DAYS_LIMIT:
        raise InvalidInput(f"max_days must be 1 to {MAX_DAYS_LIMIT}", details={"field": "max_days"})
    with reader() as uow:
        closed = uow.business_days.last_closed()
        # Days on hold count to the open business day (closed + 1): more than max_days of them
        # means held on or before closed - max_days.
        limit = None if closed is None else closed - timedelta(days=max_days)
        found = uow.suspense.tie_out(held_through=limit)
    return TieOut(
        account_fen=-found.account_total,
        items=found.items,
        items_fen=found.items_fen,
        max_days=max_days,
        overdue=found.overdue,
        overdue_fen=found.overdue_fen,
    )


def count_held(reader: Units, *, actor: Principal) -> int:
    """Items waiting for operations (the console's home): to be applied or refunded, or with a
    refund or a transfer to approve."""
    require(actor, Permission.SUSPENSE_MANAGE)
    with reader() as uow:
        return uow.suspense.count(*(status for status in SuspenseStatus if status.in_suspense))
