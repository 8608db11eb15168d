"""Repayments held in suspense (挂账), on both databases: a ``not_posted`` break held on the open
day reconciles the channel's day; the item applied to a loan from suspense (and left out of the
day it is applied on), reversed back onto hold, or refunded by two people (one requests, a
second approves; either rejects); each resolved once; every refusal leaves the books as they
were."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from tests.servicing.conftest import Snapshot

from puhui.adapters.db.collections.unit_of_work import CollectionsUnitOfWork
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.bootstrap import Platform
from puhui.domain.audit import payload_digest
from puhui.domain.errors import InvalidIdentifier, InvalidInput, NotFound
from puhui.domain.ids import CreditLineId, ReceiptId
from puhui.domain.ledger import Account, JournalEntry
from puhui.domain.lending.errors import Overpayment
from puhui.domain.lending.suspense import SuspenseStatus
from puhui.domain.origination.errors import Forbidden
from puhui.pipelines.eod import run_end_of_day
from puhui.services.collections.cases import repayments_of
from puhui.services.ports import AuditQuery
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.line_list import line_repayments
from puhui.services.servicing.lines import draw
from puhui.services.servicing.operations import reconcile_repayments
from puhui.services.servicing.receipts import OrderInSuspense, repay, reverse_repayment
from puhui.services.servicing.suspense import (
    AlreadyPosted,
    BooksChanged,
    NoRefundRequested,
    NotHeld,
    NoTransferRequested,
    OrderHeldAlready,
    RefundPending,
    SamePerson,
    TieOut,
    TransferNeedsApproval,
    TransferPending,
    apply,
    approve_refund,
    approve_transfer,
    count_held,
    hold,
    reject_refund,
    reject_transfer,
    request_refund,
    request_transfer,
    suspense_item,
    suspense_items,
    tie_out,
)

Factory = Callable[[], ServicingUnitOfWork]
DRAWN_ON = date(2026, 2, 2)
PAID_ON = date(2026, 2, 10)
OPEN_DAY = PAID_ON + timedelta(days=1)
OPS = Principal(user_id="usr_ops", role=Role.OPERATIONS)
CHECKER = Principal(user_id="usr_ops2", role=Role.OPERATIONS)
AUDITOR = Principal(user_id="usr_audit", role=Role.AUDITOR)
HEADER = "order_id,loan_id,amount,value_date,channel_ref\n"
UNKNOWN_ITEM = "sus_01M97GEBT7CCJTMT31HSJDFZQ4"


def _world(uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore) -> list[str]:
    """Two receipts, one repayment on PAID_ON, that day closed; a second repayment on the
    open day after it (posted a day late, under the order the channel valued PAID_ON)."""
    receipts = [
        ReceiptId(
            draw(
                uow_factory,
                line_id,
                amount_fen=20_000_00,
                on=DRAWN_ON,
                maturity_date=DRAWN_ON + timedelta(days=180),
                idempotency_key=f"draw-{n}",
                actor="owner",
            ).receipt_id
        )
        for n in range(2)
    ]
    day = DRAWN_ON
    while day < PAID_ON:
        run_end_of_day(eod_store, day)
        day += timedelta(days=1)
    repay(uow_factory, receipts[0], amount_fen=1_000_00, on=PAID_ON, idempotency_key="ord-001",
          actor="owner")  # fmt: skip
    run_end_of_day(eod_store, PAID_ON)
    repay(uow_factory, receipts[1], amount_fen=80_00, on=OPEN_DAY, idempotency_key="ord-005",
          actor="owner")  # fmt: skip
    return [str(r) for r in receipts]


def _channel_file(r: list[str]) -> str:
    """PAID_ON at the channel: ord-001 as posted, ord-009 never posted, ord-005 posted late,
    ord-010 more than the loan owes."""
    return (
        HEADER
        + f"ord-001,{r[0]},1000.00,2026-02-10,T1\n"
        + f"ord-005,{r[1]},80.00,2026-02-10,T5\n"
        + f"ord-009,{r[1]},50.00,2026-02-10,T9\n"
        + f"ord-010,{r[0]},99999.00,2026-02-10,T10\n"
    )


def _balances(uow_factory: Factory, on: date = OPEN_DAY) -> tuple[int, int, bool]:
    """Suspense and settlement balances, and whether the ledger balances."""
    with uow_factory() as uow:
        balance = uow.ledger.trial_balance(on)
    found = balance.balances_fen
    return (
        found.get(Account.REPAYMENT_SUSPENSE, 0),
        found.get(Account.SETTLEMENT, 0),
        balance.balanced,
    )


def _owed(uow_factory: Factory, loan_id: str) -> int:
    with uow_factory() as uow:
        loan = uow.loans.get(loan_id)
    assert loan is not None
    return loan.total_owed_fen


def _reconciled(uow_factory: Factory, r: list[str]) -> str:
    found = reconcile_repayments(
        uow_factory, actor=OPS, value_date=PAID_ON, channel_file=_channel_file(r)
    )
    assert {(b.order_id, b.kind.value) for b in found.breaks} == {
        ("ord-005", "not_posted"),
        ("ord-009", "not_posted"),
        ("ord-010", "not_posted"),
    }
    return found.run_id


def test_a_held_order_is_posted_on_the_open_day_and_reconciles_the_channels_day(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    run_id = _reconciled(uow_factory, r)
    suspense_before, settlement_before, _ = _balances(uow_factory)

    held = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-009")
    assert held.created
    item = held.item
    assert item.item_id.startswith("sus_")
    assert (item.order_id, item.loan_id, item.amount_fen, item.channel_ref) == (
        "ord-009",
        r[1],
        50_00,
        "T9",
    )
    assert (item.value_date, item.held_on, item.status) == (
        PAID_ON,
        OPEN_DAY,
        SuspenseStatus.HELD,
    )
    assert item.held_by == OPS.user_id
    # Settlement received the money, suspense owes it; the closed day's books are unchanged.
    assert _balances(uow_factory) == (suspense_before - 50_00, settlement_before + 50_00, True)
    assert _balances(uow_factory, PAID_ON)[0] == 0
    assert suspense_item(uow_factory, actor=AUDITOR, item_id=item.item_id) == item

    # Holding it again (a second click) returns the item and posts nothing more.
    again = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-009")
    assert (again.created, again.item) == (False, item)
    assert _balances(uow_factory)[0] == suspense_before - 50_00

    # The channel's day now knows the order: only the other two breaks are left.
    rerun = reconcile_repayments(
        uow_factory, actor=OPS, value_date=PAID_ON, channel_file=_channel_file(r)
    )
    assert {b.order_id for b in rerun.breaks} == {"ord-005", "ord-010"}
    assert (rerun.matched, rerun.ours_count) == (2, 2)

    with uow_factory() as uow:
        events = uow.audit.search(AuditQuery(action_prefix="suspense."))
    assert [(e.action, e.entity_id, e.actor) for e in events] == [
        ("suspense.held", item.item_id, OPS.user_id)
    ]
    assert count_held(uow_factory, actor=OPS) == 1

    # The same order number at the channel again, another day and amount: not held twice.
    run_end_of_day(eod_store, OPEN_DAY)
    next_day = (
        HEADER + f"ord-005,{r[1]},80.00,2026-02-11,T5\n" + f"ord-009,{r[1]},60.00,2026-02-11,T9b\n"
    )
    other = reconcile_repayments(uow_factory, actor=OPS, value_date=OPEN_DAY, channel_file=next_day)
    with pytest.raises(
        OrderHeldAlready, match=f"held already as {item.item_id}, collected on 2026-02-10"
    ):
        hold(uow_factory, actor=OPS, run_id=other.run_id, order_id="ord-009")
    assert count_held(uow_factory, actor=OPS) == 1


def test_applying_repays_the_loan_from_suspense_and_the_day_applied_still_agrees(
    uow_factory: Factory,
    line_id: CreditLineId,
    eod_store: SqlEndOfDayStore,
    servicing_platform: Platform,
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    run_id = _reconciled(uow_factory, r)
    item = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-009").item
    owed = _owed(uow_factory, r[1])
    _, settlement_held, _ = _balances(uow_factory)

    applied = apply(uow_factory, actor=OPS, item_id=item.item_id)
    assert applied.repayment.amount_fen == 50_00
    assert applied.repayment.paid_on == OPEN_DAY.isoformat()
    assert applied.item.status is SuspenseStatus.APPLIED
    assert (applied.item.applied_loan_id, applied.item.resolved_on) == (r[1], OPEN_DAY)
    assert applied.item.repayment_key == f"suspense:{item.item_id}:1"
    assert _owed(uow_factory, r[1]) == owed - 50_00
    # Suspense is cleared; settlement is not touched again (the money came in with the hold).
    assert _balances(uow_factory) == (0, settlement_held, True)
    # The line's repayments, its statement and collections see the money paid.
    listed = line_repayments(uow_factory, line_id, through=OPEN_DAY)
    on_day = sorted((x.amount_fen, x.entry_key) for x in listed if x.on == OPEN_DAY)
    assert on_day == [(50_00, f"repay:{applied.item.repayment_key}"), (80_00, "repay:ord-005")]
    p = servicing_platform
    with CollectionsUnitOfWork(p.database.engine, clock=p.clock, audit_key=p.audit_key) as uow:
        paid = repayments_of(uow, ReceiptId(r[1]), through=OPEN_DAY)
    assert sorted(x.amount_fen for x in paid if x.paid_on == OPEN_DAY) == [50_00, 80_00]
    assert count_held(uow_factory, actor=OPS) == 0

    # Resolved once: neither applied again nor refunded.
    with pytest.raises(NotHeld, match="applied"):
        apply(uow_factory, actor=OPS, item_id=item.item_id)
    with pytest.raises(NotHeld):
        request_refund(uow_factory, actor=OPS, item_id=item.item_id, reason="twice")
    with pytest.raises(NotHeld):
        approve_refund(uow_factory, actor=CHECKER, item_id=item.item_id)

    # The open day's channel file has ord-005 only: the application is no collection of it.
    run_end_of_day(eod_store, OPEN_DAY)
    next_day = HEADER + f"ord-005,{r[1]},80.00,2026-02-11,T5\n"
    found = reconcile_repayments(uow_factory, actor=OPS, value_date=OPEN_DAY, channel_file=next_day)
    assert found.agrees, found.breaks

    with uow_factory() as uow:
        actions = [e.action for e in uow.audit.search(AuditQuery(entity_id=item.item_id))]
    assert actions == ["suspense.applied", "suspense.held"]


def test_an_application_reversed_on_its_day_puts_the_item_back_on_hold(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    run_id = _reconciled(uow_factory, r)
    item = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-009").item
    owed = _owed(uow_factory, r[1])
    first = apply(uow_factory, actor=OPS, item_id=item.item_id)
    assert first.item.repayment_key is not None

    reverse_repayment(
        uow_factory,
        first.item.repayment_key,
        idempotency_key="undo-1",
        actor="usr_ops",
        reason="wrong loan",
    )
    back = suspense_item(uow_factory, actor=OPS, item_id=item.item_id)
    assert back.status is SuspenseStatus.HELD
    assert (back.applied_loan_id, back.repayment_key, back.version) == (None, None, 3)
    assert _owed(uow_factory, r[1]) == owed
    assert _balances(uow_factory)[0] == -50_00

    # Applied anew, to the other receipt (two people): a new repayment, not a replay.
    request_transfer(uow_factory, actor=OPS, item_id=item.item_id, loan_id=r[0], reason="wrong")
    second = approve_transfer(uow_factory, actor=CHECKER, item_id=item.item_id)
    assert second.item.repayment_key == f"suspense:{item.item_id}:4"
    assert not second.repayment.replayed
    assert second.repayment.receipt_id == r[0]
    assert _balances(uow_factory)[0] == 0
    with uow_factory() as uow:
        actions = [e.action for e in uow.audit.search(AuditQuery(entity_id=item.item_id))]
    assert actions == [
        "suspense.applied",
        "suspense.transfer_requested",
        "suspense.reopened",
        "suspense.applied",
        "suspense.held",
    ]


def test_a_refund_requested_by_one_and_approved_by_another_gives_the_money_back(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore, snapshot: Snapshot
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    run_id = _reconciled(uow_factory, r)
    suspense_before, settlement_before, _ = _balances(uow_factory)
    item = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-010").item
    held_balances = _balances(uow_factory)
    with pytest.raises(InvalidInput, match="reason must be 1 to 200"):
        request_refund(uow_factory, actor=OPS, item_id=item.item_id, reason="  ")
    with pytest.raises(NoRefundRequested, match="no refund requested"):
        approve_refund(uow_factory, actor=CHECKER, item_id=item.item_id)

    # Requested: nothing is posted, the money stays on hold and still waits for operations.
    asked = request_refund(uow_factory, actor=OPS, item_id=item.item_id, reason="payer's duplicate")
    assert (asked.status, asked.reason, asked.refund_requested_by) == (
        SuspenseStatus.REFUND_REQUESTED,
        "payer's duplicate",
        "usr_ops",
    )
    assert asked.refund_requested_at is not None
    assert asked.resolved_on is None
    assert _balances(uow_factory) == held_balances
    assert count_held(uow_factory, actor=OPS) == 1

    # While it waits, it is neither applied nor asked for again; its requester cannot approve.
    before = snapshot()
    with pytest.raises(RefundPending, match="requested by usr_ops"):
        apply(uow_factory, actor=OPS, item_id=item.item_id, loan_id=r[0])
    with pytest.raises(RefundPending):
        request_refund(uow_factory, actor=CHECKER, item_id=item.item_id, reason="again")
    with pytest.raises(SamePerson, match="a second person approves it") as same:
        approve_refund(uow_factory, actor=OPS, item_id=item.item_id)
    assert same.value.code == "four_eyes_violation"
    with pytest.raises(Forbidden):
        approve_refund(uow_factory, actor=AUDITOR, item_id=item.item_id)
    assert snapshot() == before

    done = approve_refund(uow_factory, actor=CHECKER, item_id=item.item_id)
    assert (done.status, done.reason, done.resolved_on, done.resolved_by) == (
        SuspenseStatus.REFUNDED,
        "payer's duplicate",
        OPEN_DAY,
        "usr_ops2",
    )
    assert done.refund_requested_by == "usr_ops"
    assert _balances(uow_factory) == (suspense_before, settlement_before, True)
    assert count_held(uow_factory, actor=OPS) == 0
    with pytest.raises(NotHeld, match="refunded"):
        apply(uow_factory, actor=OPS, item_id=item.item_id)
    with pytest.raises(NotHeld, match="refunded"):
        reject_refund(uow_factory, actor=OPS, item_id=item.item_id, reason="late")
    with uow_factory() as uow:
        events = list(uow.audit.search(AuditQuery(entity_id=item.item_id)))
    assert [e.action for e in events] == [
        "suspense.refunded",
        "suspense.refund_requested",
        "suspense.held",
    ]
    assert (events[0].actor, events[1].actor) == ("usr_ops2", "usr_ops")
    # The channel's day still counts it: the money was collected that day.
    rerun = reconcile_repayments(
        uow_factory, actor=OPS, value_date=PAID_ON, channel_file=_channel_file(r)
    )
    assert {b.order_id for b in rerun.breaks} == {"ord-005", "ord-009"}


def test_a_rejected_refund_holds_the_item_again_to_be_applied(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    run_id = _reconciled(uow_factory, r)
    item = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-009").item
    request_refund(uow_factory, actor=OPS, item_id=item.item_id, reason="unknown payer")
    with pytest.raises(InvalidInput, match="reason must be"):
        reject_refund(uow_factory, actor=CHECKER, item_id=item.item_id, reason="")

    back = reject_refund(uow_factory, actor=CHECKER, item_id=item.item_id, reason="payer found")
    assert back.status is SuspenseStatus.HELD
    assert (back.reason, back.refund_requested_by, back.refund_requested_at) == (None, None, None)
    assert (back.rejected_request, back.rejected_reason, back.rejected_by) == (
        "refund",
        "payer found",
        "usr_ops2",
    )
    assert back.version == 3
    with pytest.raises(NoRefundRequested):
        reject_refund(uow_factory, actor=CHECKER, item_id=item.item_id, reason="twice")

    # Its requester may also withdraw a request.
    request_refund(uow_factory, actor=OPS, item_id=item.item_id, reason="unknown payer")
    reject_refund(uow_factory, actor=OPS, item_id=item.item_id, reason="asked in error")

    applied = apply(uow_factory, actor=OPS, item_id=item.item_id)
    assert applied.item.repayment_key == f"suspense:{item.item_id}:5"
    assert _balances(uow_factory)[0] == 0
    with uow_factory() as uow:
        events = list(uow.audit.search(AuditQuery(entity_id=item.item_id)))
    assert [e.action for e in events][:2] == ["suspense.applied", "suspense.refund_rejected"]
    rejected = events[3]
    assert (rejected.action, rejected.actor) == ("suspense.refund_rejected", "usr_ops2")


def test_a_transfer_to_another_loan_requested_by_one_and_approved_by_another(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore, snapshot: Snapshot
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    run_id = _reconciled(uow_factory, r)
    item = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-009").item  # on r[1]
    owed = (_owed(uow_factory, r[0]), _owed(uow_factory, r[1]))
    held_balances = _balances(uow_factory)

    # Requested: nothing is posted, the money stays on hold and still waits for operations.
    asked = request_transfer(
        uow_factory, actor=OPS, item_id=item.item_id, loan_id=r[0], reason="payer named r0"
    )
    assert (asked.status, asked.transfer_loan_id, asked.transfer_requested_by, asked.reason) == (
        SuspenseStatus.TRANSFER_REQUESTED,
        r[0],
        "usr_ops",
        "payer named r0",
    )
    assert asked.transfer_requested_at is not None
    assert _balances(uow_factory) == held_balances
    assert count_held(uow_factory, actor=OPS) == 1
    assert tie_out(uow_factory, actor=OPS).items == 1
    waiting = suspense_items(uow_factory, actor=OPS, status=SuspenseStatus.TRANSFER_REQUESTED)
    assert [i.item_id for i in waiting] == [item.item_id]

    # While it waits: not applied, refunded or asked for again; its requester cannot approve.
    before = snapshot()
    with pytest.raises(TransferPending, match=f"to loan {r[0]} was requested by usr_ops"):
        apply(uow_factory, actor=CHECKER, item_id=item.item_id)
    with pytest.raises(TransferPending):
        request_refund(uow_factory, actor=CHECKER, item_id=item.item_id, reason="x")
    with pytest.raises(TransferPending):
        request_transfer(
            uow_factory, actor=CHECKER, item_id=item.item_id, loan_id=r[0], reason="again"
        )
    with pytest.raises(NoRefundRequested, match="transfer_requested, with no refund requested"):
        approve_refund(uow_factory, actor=CHECKER, item_id=item.item_id)
    with pytest.raises(SamePerson, match="requested the transfer") as same:
        approve_transfer(uow_factory, actor=OPS, item_id=item.item_id)
    assert same.value.code == "four_eyes_violation"
    with pytest.raises(Forbidden):
        approve_transfer(uow_factory, actor=AUDITOR, item_id=item.item_id)
    assert snapshot() == before

    done = approve_transfer(uow_factory, actor=CHECKER, item_id=item.item_id)
    assert done.repayment.receipt_id == r[0]
    assert done.item.status is SuspenseStatus.APPLIED
    assert (done.item.applied_loan_id, done.item.resolved_by, done.item.resolved_on) == (
        r[0],
        "usr_ops2",
        OPEN_DAY,
    )
    assert (done.item.transfer_requested_by, done.item.reason) == ("usr_ops", "payer named r0")
    assert done.item.repayment_key == f"suspense:{item.item_id}:2"
    # The other loan is repaid, the channel's is not; suspense is cleared.
    assert (_owed(uow_factory, r[0]), _owed(uow_factory, r[1])) == (owed[0] - 50_00, owed[1])
    assert _balances(uow_factory)[0] == 0
    assert count_held(uow_factory, actor=OPS) == 0
    with pytest.raises(NotHeld, match="applied"):
        reject_transfer(uow_factory, actor=OPS, item_id=item.item_id, reason="late")
    with uow_factory() as uow:
        events = list(uow.audit.search(AuditQuery(entity_id=item.item_id)))
    assert [(e.action, e.actor) for e in events] == [
        ("suspense.applied", "usr_ops2"),
        ("suspense.transfer_requested", "usr_ops"),
        ("suspense.held", "usr_ops"),
    ]
    assert events[0].payload_digest == payload_digest(
        {
            "loan_id": r[0],
            "amount_fen": 50_00,
            "on": OPEN_DAY.isoformat(),
            "repayment_key": done.item.repayment_key,
            "channel_loan_id": r[1],
            "reason": "payer named r0",
            "requested_by": "usr_ops",
        }
    )
    # The channel's day still counts the order on the loan the channel named.
    rerun = reconcile_repayments(
        uow_factory, actor=OPS, value_date=PAID_ON, channel_file=_channel_file(r)
    )
    assert {b.order_id for b in rerun.breaks} == {"ord-005", "ord-010"}


def test_a_transfer_rejected_or_refused_on_approval_leaves_the_item_held(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore, snapshot: Snapshot
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    run_id = _reconciled(uow_factory, r)
    item = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-010").item  # 99,999.00
    request_transfer(uow_factory, actor=OPS, item_id=item.item_id, loan_id=r[1], reason="r1")
    # More than the loan asked for owes: refused on approval, and the request still waits.
    before = snapshot()
    with pytest.raises(Overpayment):
        approve_transfer(uow_factory, actor=CHECKER, item_id=item.item_id)
    assert snapshot() == before
    with pytest.raises(InvalidInput, match="reason must be"):
        reject_transfer(uow_factory, actor=CHECKER, item_id=item.item_id, reason="")
    with pytest.raises(NoRefundRequested):
        reject_refund(uow_factory, actor=CHECKER, item_id=item.item_id, reason="x")

    back = reject_transfer(uow_factory, actor=CHECKER, item_id=item.item_id, reason="owes less")
    assert back.status is SuspenseStatus.HELD
    assert (back.reason, back.transfer_loan_id, back.transfer_requested_by) == (None, None, None)
    assert back.transfer_requested_at is None
    assert (back.rejected_request, back.rejected_reason, back.rejected_by) == (
        "transfer",
        "owes less",
        "usr_ops2",
    )
    assert back.rejected_at is not None
    with pytest.raises(NoTransferRequested):
        reject_transfer(uow_factory, actor=CHECKER, item_id=item.item_id, reason="twice")
    # Its requester may also withdraw a request; then the money goes back to the payer.
    request_transfer(uow_factory, actor=OPS, item_id=item.item_id, loan_id=r[1], reason="r1")
    reject_transfer(uow_factory, actor=OPS, item_id=item.item_id, reason="asked in error")
    request_refund(uow_factory, actor=OPS, item_id=item.item_id, reason="unknown payer")
    with pytest.raises(NoTransferRequested, match="refund_requested, with no transfer"):
        approve_transfer(uow_factory, actor=CHECKER, item_id=item.item_id)
    refunded = approve_refund(uow_factory, actor=CHECKER, item_id=item.item_id)
    assert refunded.status is SuspenseStatus.REFUNDED
    with uow_factory() as uow:
        events = list(uow.audit.search(AuditQuery(entity_id=item.item_id)))
    rejected = [e for e in events if e.action == "suspense.transfer_rejected"]
    assert [(e.actor, e.payload_digest) for e in rejected] == [
        (actor, payload_digest(_transfer_rejected(why, r[1])))
        for actor, why in (("usr_ops", "asked in error"), ("usr_ops2", "owes less"))
    ]


def _transfer_rejected(reason: str, loan_id: str) -> dict[str, str]:
    return {
        "reason": reason,
        "transfer_reason": "r1",
        "loan_id": loan_id,
        "requested_by": "usr_ops",
    }


def test_an_order_held_cannot_be_posted_again_as_a_repayment(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore, snapshot: Snapshot
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    run_id = _reconciled(uow_factory, r)
    item = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-009").item
    before = snapshot()
    for key in ("ord-009", "usr_01M97GEBT7CCJTMT31HSJDFZQ4:ord-009"):
        with pytest.raises(OrderInSuspense, match=item.item_id):
            repay(
                uow_factory,
                ReceiptId(r[1]),
                amount_fen=50_00,
                on=OPEN_DAY,
                idempotency_key=key,
                actor="owner",
            )
    assert snapshot() == before


def test_refusals_leave_the_books_and_the_item_as_they_were(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore, snapshot: Snapshot
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    run_id = _reconciled(uow_factory, r)
    # The late-posted order stands in the books: nothing to hold.
    with pytest.raises(AlreadyPosted, match="repayment ord-005"):
        hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-005")
    # A matched order, an unknown one, an unknown run, malformed ids.
    for order in ("ord-001", "ord-404"):
        with pytest.raises(InvalidInput, match="only such money is held in suspense"):
            hold(uow_factory, actor=OPS, run_id=run_id, order_id=order)
    with pytest.raises(NotFound):
        hold(uow_factory, actor=OPS, run_id="rcn_01M97GEBT7CCJTMT31HSJDFZQ4", order_id="x")
    with pytest.raises(InvalidIdentifier, match="not a reconciliation id"):
        hold(uow_factory, actor=OPS, run_id="rcn_x", order_id="ord-009")
    with pytest.raises(InvalidInput, match="order_id must be"):
        hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord\x00")
    with pytest.raises(Forbidden):
        hold(uow_factory, actor=AUDITOR, run_id=run_id, order_id="ord-009")

    item = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-010").item
    before = snapshot()
    # More than the loan owes, an unknown loan, a malformed id, another role.
    with pytest.raises(Overpayment):
        apply(uow_factory, actor=OPS, item_id=item.item_id)
    with pytest.raises(TransferNeedsApproval, match="takes two people") as another:
        apply(uow_factory, actor=OPS, item_id=item.item_id, loan_id="rct_unknown")
    assert another.value.details["channel_loan_id"] == item.loan_id
    with pytest.raises(NotFound, match="no loan"):
        request_transfer(
            uow_factory, actor=OPS, item_id=item.item_id, loan_id="rct_unknown", reason="x"
        )
    with pytest.raises(InvalidInput, match="no transfer is needed"):
        request_transfer(
            uow_factory, actor=OPS, item_id=item.item_id, loan_id=item.loan_id, reason="x"
        )
    with pytest.raises(InvalidInput, match="loan_id must be"):
        request_transfer(uow_factory, actor=OPS, item_id=item.item_id, loan_id=" ", reason="x")
    with pytest.raises(NoTransferRequested, match="held, with no transfer requested"):
        approve_transfer(uow_factory, actor=CHECKER, item_id=item.item_id)
    with pytest.raises(InvalidIdentifier, match="not a suspense item id"):
        apply(uow_factory, actor=OPS, item_id="sus_1")
    with pytest.raises(NotFound):
        request_refund(uow_factory, actor=OPS, item_id=UNKNOWN_ITEM, reason="x")
    with pytest.raises(NotFound):
        approve_refund(uow_factory, actor=OPS, item_id=UNKNOWN_ITEM)
    with pytest.raises(InvalidIdentifier):
        reject_refund(uow_factory, actor=OPS, item_id="sus_", reason="x")
    with pytest.raises(Forbidden):
        request_refund(uow_factory, actor=AUDITOR, item_id=item.item_id, reason="x")
    assert snapshot() == before
    assert suspense_item(uow_factory, actor=OPS, item_id=item.item_id) == item


def test_items_are_listed_by_ledger_roles_the_latest_first(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    run_id = _reconciled(uow_factory, r)
    first = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-009").item
    second = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-010").item
    request_refund(uow_factory, actor=OPS, item_id=second.item_id, reason="duplicate")
    listed = suspense_items(uow_factory, actor=AUDITOR)
    assert {i.item_id for i in listed} == {first.item_id, second.item_id}
    assert [
        i.item_id for i in suspense_items(uow_factory, actor=OPS, status=SuspenseStatus.HELD)
    ] == [first.item_id]
    waiting = suspense_items(uow_factory, actor=OPS, status=SuspenseStatus.REFUND_REQUESTED)
    assert [i.item_id for i in waiting] == [second.item_id]
    assert len(suspense_items(uow_factory, actor=OPS, limit=1)) == 1
    # Held, and waiting for a refund's approval: both wait for operations.
    assert count_held(uow_factory, actor=OPS) == 2
    manager = Principal(user_id="usr_am", role=Role.ACCOUNT_MANAGER)
    with pytest.raises(Forbidden):
        suspense_items(uow_factory, actor=manager)
    with pytest.raises(Forbidden):
        count_held(uow_factory, actor=AUDITOR)
    with pytest.raises(InvalidInput, match="a page holds 1 to 100"):
        suspense_items(uow_factory, actor=OPS, limit=0)
    with pytest.raises(NotFound):
        suspense_item(uow_factory, actor=OPS, item_id=UNKNOWN_ITEM)


def test_the_suspense_account_ties_out_to_the_items_in_suspense(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    run_id = _reconciled(uow_factory, r)
    assert tie_out(uow_factory, actor=AUDITOR) == TieOut(account_fen=0, items=0, items_fen=0)
    first = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-009").item
    second = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-010").item
    both = 50_00 + 99_999_00
    assert tie_out(uow_factory, actor=OPS) == TieOut(account_fen=both, items=2, items_fen=both)
    # A refund waiting for its approval is still money on the account.
    request_refund(uow_factory, actor=OPS, item_id=second.item_id, reason="duplicate")
    assert tie_out(uow_factory, actor=OPS).items_fen == both
    approve_refund(uow_factory, actor=CHECKER, item_id=second.item_id)
    assert tie_out(uow_factory, actor=OPS) == TieOut(account_fen=50_00, items=1, items_fen=50_00)
    apply(uow_factory, actor=OPS, item_id=first.item_id)
    assert tie_out(uow_factory, actor=OPS).agrees

    # An entry on the account that no item explains (a manual posting) is a difference.
    stray = JournalEntry.build(
        "manual-suspense-1",
        OPEN_DAY,
        "posted by hand",
        [(Account.SETTLEMENT, 7_00), (Account.REPAYMENT_SUSPENSE, -7_00)],
    )
    with uow_factory() as uow:
        uow.ledger.post(stray)
        uow.commit()
    found = tie_out(uow_factory, actor=AUDITOR)
    assert (found.agrees, found.difference_fen, found.items) == (False, 7_00, 0)
    with pytest.raises(Forbidden):
        tie_out(uow_factory, actor=Principal(user_id="usr_am", role=Role.ACCOUNT_MANAGER))


def test_the_excess_of_an_order_the_books_credited_less_for_is_held_and_applied(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    # The channel collected 1,000.50 under ord-001; the books credited 1,000.00 to its loan.
    more = HEADER + f"ord-001,{r[0]},1000.50,2026-02-10,T1\n"
    found = reconcile_repayments(uow_factory, actor=OPS, value_date=PAID_ON, channel_file=more)
    assert [(b.order_id, b.kind.value, b.uncredited_fen) for b in found.breaks] == [
        ("ord-001", "amount_differs", 50)
    ]
    suspense_before, settlement_before, _ = _balances(uow_factory)
    held = hold(uow_factory, actor=OPS, run_id=found.run_id, order_id="ord-001")
    assert held.created
    assert (held.item.amount_fen, held.item.posted_fen, held.item.loan_id) == (50, 1_000_00, r[0])
    assert _balances(uow_factory) == (suspense_before - 50, settlement_before + 50, True)
    # Held again, the same item; the day reconciled again agrees, the order matched in full.
    assert hold(uow_factory, actor=OPS, run_id=found.run_id, order_id="ord-001").item == held.item
    again = reconcile_repayments(uow_factory, actor=OPS, value_date=PAID_ON, channel_file=more)
    assert again.agrees, again.breaks
    assert (again.matched, again.matched_fen) == (1, 1_000_50)

    owed = _owed(uow_factory, r[0])
    applied = apply(uow_factory, actor=OPS, item_id=held.item.item_id)
    assert applied.repayment.receipt_id == r[0]
    assert _owed(uow_factory, r[0]) == owed - 50
    assert _balances(uow_factory)[0] == suspense_before
    still = reconcile_repayments(uow_factory, actor=OPS, value_date=PAID_ON, channel_file=more)
    assert still.agrees, still.breaks


def test_only_money_the_books_did_not_credit_is_held(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore, snapshot: Snapshot
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    # The channel collected less than the books credited: a correction, not suspense.
    less = HEADER + f"ord-001,{r[0]},999.00,2026-02-10,T1\n"
    short = reconcile_repayments(uow_factory, actor=OPS, value_date=PAID_ON, channel_file=less)
    assert short.breaks[0].uncredited_fen is None
    before = snapshot()
    with pytest.raises(InvalidInput, match="only such money is held in suspense"):
        hold(uow_factory, actor=OPS, run_id=short.run_id, order_id="ord-001")
    assert snapshot() == before

    # The books changed since the reconciliation (the repayment corrected by hand): the
    # break is stale, nothing is held.
    more = HEADER + f"ord-001,{r[0]},1000.50,2026-02-10,T1\n"
    found = reconcile_repayments(uow_factory, actor=OPS, value_date=PAID_ON, channel_file=more)
    correction = JournalEntry.build(
        "manual-correction-1",
        OPEN_DAY,
        "ord-001 corrected by hand",
        [(Account.SETTLEMENT, -1_00), (Account.PRINCIPAL_RECEIVABLE, 1_00)],
        reverses_key="repay:ord-001",
    )
    with uow_factory() as uow:
        uow.ledger.post(correction)
        uow.commit()
    before = snapshot()
    with pytest.raises(BooksChanged, match="reconcile 2026-02-10 again"):
        hold(uow_factory, actor=OPS, run_id=found.run_id, order_id="ord-001")
    assert snapshot() == before


def test_items_held_longer_than_the_policy_allows_are_counted_overdue(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    r = _world(uow_factory, line_id, eod_store)
    run_id = _reconciled(uow_factory, r)
    first = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-009").item
    second = hold(uow_factory, actor=OPS, run_id=run_id, order_id="ord-010").item
    request_refund(uow_factory, actor=OPS, item_id=second.item_id, reason="duplicate")
    found = tie_out(uow_factory, actor=OPS, max_days=1)
    assert (found.overdue, found.overdue_fen, found.max_days) == (0, 0, 1)  # held today
    # One day closed: on hold one day, not more than one.
    run_end_of_day(eod_store, OPEN_DAY)
    assert tie_out(uow_factory, actor=OPS, max_days=1).overdue == 0
    # Two: both items (one with its refund waiting) are overdue; the default allows 30.
    run_end_of_day(eod_store, OPEN_DAY + timedelta(days=1))
    found = tie_out(uow_factory, actor=AUDITOR, max_days=1)
    assert (found.overdue, found.overdue_fen) == (2, 50_00 + 99_999_00)
    assert found.agrees
    assert tie_out(uow_factory, actor=OPS).overdue == 0
    # Resolved, an item is no longer overdue.
    apply(uow_factory, actor=OPS, item_id=first.item_id)
    assert tie_out(uow_factory, actor=OPS, max_days=1).overdue == 1
    for wrong in (0, 367):
        with pytest.raises(InvalidInput, match="max_days must be 1 to 366"):
            tie_out(uow_factory, actor=OPS, max_days=wrong)
