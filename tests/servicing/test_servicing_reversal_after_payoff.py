"""A reversal is refused once its repayment's business day is closed, also after a payoff."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.ids import CreditLineId, ReceiptId
from puhui.domain.lending.account import LoanStatus
from puhui.domain.lending.errors import EventOutOfOrder
from puhui.pipelines.eod import run_end_of_day
from puhui.services.servicing.lines import draw
from puhui.services.servicing.receipts import quote_payoff, repay, reverse_repayment

Factory = Callable[[], ServicingUnitOfWork]
Snapshot = Callable[[], dict[str, list[tuple[object, ...]]]]
DRAWN_ON = date(2026, 2, 2)


def _draw(uow_factory: Factory, line_id: CreditLineId, on: date, key: str) -> ReceiptId:
    result = draw(
        uow_factory,
        line_id,
        amount_fen=10_000_00,
        on=on,
        maturity_date=on + timedelta(days=120),
        idempotency_key=key,
        actor="customer",
    )
    return ReceiptId(result.receipt_id)


def _pay_off(uow_factory: Factory, receipt_id: ReceiptId, on: date, key: str) -> None:
    owed = quote_payoff(uow_factory, receipt_id, on=on)
    paid = repay(
        uow_factory, receipt_id, amount_fen=owed, on=on, idempotency_key=key, actor="customer"
    )
    assert paid.closed


def _close(store: SqlEndOfDayStore, first: date, days: int) -> date:
    """Run the end of day for ``days`` dates from ``first``; returns the next open date."""
    for offset in range(days):
        run_end_of_day(store, first + timedelta(days=offset))
    return first + timedelta(days=days)


def _status(uow_factory: Factory, receipt_id: ReceiptId) -> LoanStatus:
    with uow_factory() as uow:
        receipt = uow.loans.get(receipt_id)
    assert receipt is not None
    return receipt.status


def test_a_payoff_on_the_draw_day_cannot_be_reversed_after_that_day_closed(
    uow_factory: Factory,
    line_id: CreditLineId,
    eod_store: SqlEndOfDayStore,
    snapshot: Snapshot,
) -> None:
    receipt_id = _draw(uow_factory, line_id, DRAWN_ON, "draw")
    _pay_off(uow_factory, receipt_id, DRAWN_ON, "payoff")
    today = _close(eod_store, DRAWN_ON, 3)
    before = snapshot()
    with pytest.raises(EventOutOfOrder, match=f"business day {DRAWN_ON} is closed"):
        reverse_repayment(uow_factory, "payoff", idempotency_key="fix", actor="ops", reason="x")
    assert snapshot() == before  # nothing written: no state, no entry, no audit, no request
    assert _status(uow_factory, receipt_id) is LoanStatus.CLOSED
    _close(eod_store, today, 1)  # the books go on closing without the receipt


def test_a_payoff_after_the_draw_day_cannot_be_reversed_after_its_day_closed(
    uow_factory: Factory,
    line_id: CreditLineId,
    eod_store: SqlEndOfDayStore,
    snapshot: Snapshot,
) -> None:
    receipt_id = _draw(uow_factory, line_id, DRAWN_ON, "draw")
    paid_on = _close(eod_store, DRAWN_ON, 5)
    _pay_off(uow_factory, receipt_id, paid_on, "payoff")
    _close(eod_store, paid_on, 2)
    before = snapshot()
    with pytest.raises(EventOutOfOrder, match=f"business day {paid_on} is closed"):
        reverse_repayment(uow_factory, "payoff", idempotency_key="fix", actor="ops", reason="x")
    assert snapshot() == before
    assert _status(uow_factory, receipt_id) is LoanStatus.CLOSED


def test_a_payoff_reversed_on_its_own_day_leaves_the_receipt_accruing_without_a_gap(
    uow_factory: Factory, line_id: CreditLineId, eod_store: SqlEndOfDayStore
) -> None:
    receipt_id = _draw(uow_factory, line_id, DRAWN_ON, "draw")
    _pay_off(uow_factory, receipt_id, DRAWN_ON, "payoff")
    reverse_repayment(uow_factory, "payoff", idempotency_key="fix", actor="ops", reason="x")
    assert _status(uow_factory, receipt_id) is LoanStatus.ACTIVE
    today = _close(eod_store, DRAWN_ON, 3)
    with uow_factory() as uow:
        receipt = uow.loans.get(receipt_id)
    assert receipt is not None
    assert receipt.accrued_through == today - timedelta(days=1)
    # Three days accrued (the draw day included) on 10 000 yuan at 4.35% / 360.
    assert quote_payoff(uow_factory, receipt_id, on=today) == 10_000_00 + 363


@settings(
    max_examples=12,
    deadline=None,
    # One database serves every example: each starts on the next open day with a new receipt.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    days_before=st.integers(0, 2),
    days_after=st.integers(0, 2),
    full=st.booleans(),
)
def test_a_reversal_is_accepted_exactly_while_no_end_of_day_closed_its_day(
    uow_factory: Factory,
    line_id: CreditLineId,
    eod_store: SqlEndOfDayStore,
    days_before: int,
    days_after: int,
    full: bool,
) -> None:
    last = eod_store.last_run()
    today = DRAWN_ON if last is None else last.as_of + timedelta(days=1)
    tag = today.isoformat()
    receipt_id = _draw(uow_factory, line_id, today, f"draw-{tag}")
    paid_on = _close(eod_store, today, days_before)
    if full:
        _pay_off(uow_factory, receipt_id, paid_on, f"pay-{tag}")
    else:
        repay(
            uow_factory,
            receipt_id,
            amount_fen=1_00,
            on=paid_on,
            idempotency_key=f"pay-{tag}",
            actor="customer",
        )
    today = _close(eod_store, paid_on, days_after)
    try:
        reverse_repayment(
            uow_factory, f"pay-{tag}", idempotency_key=f"fix-{tag}", actor="ops", reason="x"
        )
        reversed_ = True
    except EventOutOfOrder:
        reversed_ = False
    assert reversed_ == (days_after == 0)
    closed_by_payoff = full and not reversed_
    assert _status(uow_factory, receipt_id) is (
        LoanStatus.CLOSED if closed_by_payoff else LoanStatus.ACTIVE
    )
    # Whatever happened, an active receipt keeps accruing: tonight's end of day books it and
    # the next day is open for it (no gap in its accrual, so no EndOfDayPending).
    today = _close(eod_store, today, 1)
    if not closed_by_payoff:
        with uow_factory() as uow:
            receipt = uow.loans.get(receipt_id)
        assert receipt is not None
        assert receipt.accrued_through == today - timedelta(days=1)
        assert quote_payoff(uow_factory, receipt_id, on=today) >= receipt.outstanding_principal_fen
