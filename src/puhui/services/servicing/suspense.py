"""Repayments held in suspense (挂账): hold a reconciliation's ``not_posted`` order, apply it
to a loan, or refund it (``domain.lending.suspense``).

Each is one transaction: the journal entry, the item, the audit event (``suspense.held``,
``suspense.applied``, ``suspense.refunded``) and, for an application, the repayment with its
own audit event. Every posting is on the open business day, the day after the last one
closed. Holding, applying and refunding need ``suspense:manage`` (operations); reading the
items needs ``ledger:read``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from puhui.domain.errors import Conflict, InvalidIdentifier, InvalidInput, NotFound
from puhui.domain.ids import new_id
from puhui.domain.ledger import Account
from puhui.domain.lending.reconciliation import MAX_LOAN_ID, MAX_ORDER_ID, BreakKind
from puhui.domain.lending.suspense import SuspenseItem, SuspenseStatus
from puhui.services.audit import record
from puhui.services.security.permissions import Permission, Principal, require
from puhui.services.servicing.operations import RUN_ID, DayNotClosed
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.services.servicing.receipts import RepaymentResult, post_repayment

Units = Callable[[], ServicingUnitOfWork]
ITEM_ID = re.compile(r"^sus_[0-9A-HJKMNP-TV-Z]{26}$")
MAX_PAGE = 100
MAX_REASON = 200


class NotHeld(Conflict):
    """The item was applied or refunded already: it is resolved once."""

    code = "suspense_not_held"


class OrderHeldAlready(Conflict):
    """The order number is held already for another collection (another day, loan or amount)."""

    code = "order_held_already"


class AlreadyPosted(Conflict):
    """The order stands in the books as a repayment: there is nothing to hold."""

    code = "order_already_posted"


@dataclass(frozen=True, slots=True)
class Held:
    item: SuspenseItem
    created: bool
    """False when the order was held already (the item as it stands is returned)."""


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
    """Hold the order a recorded reconciliation found ``not_posted`` (collected by the
    channel, credited to no loan). The hold is posted on the open business day and keeps the
    channel's day, which then reconciles. Holding the same collection again returns its item;
    the same order number collected on another day, for another loan or amount, is refused."""
    require(actor, Permission.SUSPENSE_MANAGE)
    if not RUN_ID.fullmatch(run_id):
        raise InvalidIdentifier(
            f"not a reconciliation id (rcn_ and 26 characters): {run_id[:60]!r}",
            details={"field": "run_id"},
        )
    order = _printable(order_id, "order_id", MAX_ORDER_ID)
    with units() as uow:
        run = uow.reconciliations.get(run_id)
        if run is None:
            raise NotFound(f"no reconciliation {run_id}", details={"run_id": run_id})
        found = next(
            (b for b in run.breaks or () if b.order_id == order and b.kind is BreakKind.NOT_POSTED),
            None,
        )
        if found is None or found.theirs_fen is None:
            raise InvalidInput(
                f"reconciliation {run_id} has no break 'collected, not posted' for order "
                f"{order}: only such money is held in suspense",
                details={"run_id": run_id, "order_id": order},
            )
        existing = uow.suspense.of_order(order)
        if existing is not None:
            same = (existing.value_date, existing.loan_id, existing.amount_fen) == (
                run.value_date,
                found.loan_id,
                found.theirs_fen,
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
        if posted is not None:
            raise AlreadyPosted(
                f"order {order} stands in the books as repayment {posted.key} of loan "
                f"{posted.loan_id}: it is not held in suspense",
                details={"order_id": order, "repayment_key": posted.key},
            )
        item = SuspenseItem(
            item_id=new_id("sus"),
            order_id=order,
            loan_id=found.loan_id,
            amount_fen=found.theirs_fen,
            value_date=run.value_date,
            channel_ref=found.channel_ref,
            run_id=run_id,
            held_on=open_business_day(uow),
            held_by=actor.user_id,
            held_at=uow.clock.now(),
        )
        uow.ledger.post(item.hold_entry())
        uow.suspense.add(item)
        record(
            uow,
            actor=actor.user_id,
            action="suspense.held",
            entity="repayment_suspense",
            entity_id=item.item_id,
            payload={
                "order_id": order,
                "loan_id": item.loan_id,
                "amount_fen": item.amount_fen,
                "value_date": item.value_date.isoformat(),
                "run_id": run_id,
                "held_on": item.held_on.isoformat(),
            },
        )
        uow.commit()
    return Held(item, created=True)


def _held(uow: ServicingUnitOfWork, item_id: str) -> SuspenseItem:
    item = uow.suspense.get(item_id, for_update=True)
    if item is None:
        raise NotFound(f"no suspense item {item_id}", details={"item_id": item_id})
    if item.status is not SuspenseStatus.HELD:
        raise NotHeld(
            f"suspense item {item_id} was {item.status.value} on {item.resolved_on}: "
            "an item is resolved once",
            details={"item_id": item_id, "status": item.status.value},
        )
    return item


def apply(units: Units, *, actor: Principal, item_id: str, loan_id: str | None = None) -> Applied:
    """Apply a held item to a loan (the channel's unless another is named) as a repayment
    of its whole amount, funded from suspense and valued on the open business day. A loan
    that is not active, or owes less than the amount, is refused and the item stays held."""
    require(actor, Permission.SUSPENSE_MANAGE)
    _item_id(item_id)
    target = None if loan_id is None else _printable(loan_id, "loan_id", MAX_LOAN_ID)
    with units() as uow:
        item = _held(uow, item_id)
        chosen = target or item.loan_id
        loan = uow.loans.get(chosen, for_update=True)
        if loan is None:
            raise NotFound(f"no loan {chosen}", details={"loan_id": chosen})
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
            loan_id=chosen, repayment_key=key, on=on, by=actor.user_id, at=uow.clock.now()
        )
        uow.suspense.save(applied)
        record(
            uow,
            actor=actor.user_id,
            action="suspense.applied",
            entity="repayment_suspense",
            entity_id=item_id,
            payload={
                "loan_id": chosen,
                "amount_fen": item.amount_fen,
                "on": on.isoformat(),
                "repayment_key": key,
            },
        )
        uow.commit()
    return Applied(applied, repayment)


def refund(units: Units, *, actor: Principal, item_id: str, reason: str) -> SuspenseItem:
    """Give a held item's money back to the payer, on the open business day, saying why."""
    require(actor, Permission.SUSPENSE_MANAGE)
    _item_id(item_id)
    why = _printable(reason, "reason", MAX_REASON)
    with units() as uow:
        item = _held(uow, item_id)
        on = open_business_day(uow)
        uow.ledger.post(item.refund_entry(on))
        refunded = item.refunded(reason=why, on=on, by=actor.user_id, at=uow.clock.now())
        uow.suspense.save(refunded)
        record(
            uow,
            actor=actor.user_id,
            action="suspense.refunded",
            entity="repayment_suspense",
            entity_id=item_id,
            payload={"amount_fen": item.amount_fen, "on": on.isoformat(), "reason": why},
        )
        uow.commit()
    return refunded


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


def business_day(reader: Units, *, actor: Principal) -> date | None:
    """The open business day (None before any day closed): how long items have been held."""
    require(actor, Permission.LEDGER_READ)
    with reader() as uow:
        closed = uow.business_days.last_closed()
    return None if closed is None else closed + timedelta(days=1)


def count_held(reader: Units, *, actor: Principal) -> int:
    """Items waiting to be applied or refunded (the console's home)."""
    require(actor, Permission.SUSPENSE_MANAGE)
    with reader() as uow:
        return uow.suspense.count(SuspenseStatus.HELD)
