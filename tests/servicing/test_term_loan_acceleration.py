"""Calling a term loan in early (提前收回), on SQLite and PostgreSQL: every instalment falls due
on the recall date, the end of day takes it from there, and the ledger does not move."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.ids import LoanId, ProductId
from puhui.domain.ledger import Account
from puhui.domain.lending.acceleration import AccelerationRefused
from puhui.domain.lending.account import LoanAccount, LoanStatus
from puhui.domain.lending.product import EarlyRepaymentMode, LoanProduct, RepaymentMethod
from puhui.domain.lending.schedule import ScheduledInstalment
from puhui.pipelines.eod import run_end_of_day
from puhui.services.servicing.errors import EndOfDayPending
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.products import create_product
from puhui.services.servicing.receipts import quote_payoff, repay
from puhui.services.servicing.term_loans import accelerate_term_loan, disburse_term_loan

Factory = Callable[[], ServicingUnitOfWork]
START = date(2026, 1, 2)
FIRST_DUE = date(2026, 2, 2)
FIRST_INSTALMENT = 8_530_99  # shared vector (a): 等额本息 100,000 at 4.35 % over 12 months
FIRST_PRINCIPAL = 8_168_49
FIRST_INTEREST = 362_50


@pytest.fixture
def term_product_id(
    uow_factory: Factory, revolving_product: Callable[..., LoanProduct]
) -> ProductId:
    product = revolving_product(
        "TERM-EI",
        method=RepaymentMethod.EQUAL_INSTALMENT,
        max_term_months=36,
        early_repayment=EarlyRepaymentMode.REDUCE_INSTALMENT,
    )
    return create_product(uow_factory, product, actor="ops")


def _disburse(uow_factory: Factory, product_id: ProductId) -> LoanId:
    result = disburse_term_loan(
        uow_factory,
        enterprise_id="91350100M000100Y43",
        product_id=product_id,
        principal_fen=100_000_00,
        annual_rate=Decimal("0.0435"),
        term_months=12,
        on=START,
        idempotency_key="loan-1",
        actor="ops",
    )
    return LoanId(result.loan_id)


def _loan(uow_factory: Factory, loan_id: LoanId) -> LoanAccount:
    with uow_factory() as uow:
        loan = uow.loans.get(loan_id)
    assert loan is not None
    return loan


def _schedule(uow_factory: Factory, loan_id: LoanId) -> list[ScheduledInstalment]:
    with uow_factory() as uow:
        return uow.instalments.schedule(loan_id)


def _close_days(store: SqlEndOfDayStore, first: date, last: date) -> None:
    day = first
    while day <= last:
        run_end_of_day(store, day)
        day += timedelta(days=1)


def _recall(uow_factory: Factory, loan_id: LoanId, on: date) -> object:
    return accelerate_term_loan(
        uow_factory, loan_id, on=on, actor="risk", reason="post-loan task tsk_1"
    )


def _penalty_for_a_day(principal_fen: int) -> int:
    """A day's penalty at 4.35 % × 1.5 on an actual/360 year, rounded half-up once."""
    exact = Decimal(principal_fen) * Decimal("0.0435") * Decimal("1.5") / 360
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_every_instalment_falls_due_on_the_recall_date_and_the_ledger_does_not_move(
    uow_factory: Factory,
    term_product_id: ProductId,
    eod_store: SqlEndOfDayStore,
) -> None:
    loan_id = _disburse(uow_factory, term_product_id)
    _close_days(eod_store, START, FIRST_DUE - timedelta(days=1))
    repay(
        uow_factory,
        loan_id,
        amount_fen=FIRST_INSTALMENT,
        on=FIRST_DUE,
        idempotency_key="i1",
        actor="c",
    )
    recall_on = date(2026, 2, 12)
    _close_days(eod_store, FIRST_DUE, recall_on - timedelta(days=1))
    before = _loan(uow_factory, loan_id)
    balance_before = trial_balance(uow_factory, as_of=recall_on)
    accrued = before.interest_accrued_fen
    assert accrued > 0

    called = _recall(uow_factory, loan_id, recall_on)

    assert called is not None
    remaining = 100_000_00 - FIRST_PRINCIPAL
    after = _loan(uow_factory, loan_id)
    assert (after.maturity_date, after.billed_due_on) == (recall_on, recall_on)
    assert after.billed_principal_fen == after.outstanding_principal_fen == remaining
    assert (after.interest_billed_fen, after.interest_accrued_fen) == (accrued, 0)
    assert after.next_due_date is None
    assert after.total_owed_fen == before.total_owed_fen
    # The instalments already billed are kept; the rest are one, due on the recall date.
    schedule = _schedule(uow_factory, loan_id)
    assert [i.period for i in schedule] == [1, 2]
    assert schedule[0].principal_fen == FIRST_PRINCIPAL
    assert (schedule[1].due_date, schedule[1].principal_fen, schedule[1].interest_fen) == (
        recall_on,
        remaining,
        accrued,
    )
    assert schedule[1].period_days == (recall_on - FIRST_DUE).days
    # Nothing is posted: receivables only fall due earlier.
    assert trial_balance(uow_factory, as_of=recall_on).balances_fen == balance_before.balances_fen
    with uow_factory() as uow:
        events = [e for e in uow.audit.events() if e.action == "term_loan.accelerated"]
    assert [e.entity_id for e in events] == [loan_id]
    assert events[0].actor == "risk"

    # The recall day is the day to pay; the next day everything unpaid is overdue.
    run_end_of_day(eod_store, recall_on)
    on_the_day = _loan(uow_factory, loan_id)
    assert on_the_day.days_past_due == 0
    assert on_the_day.interest_accrued_fen == 0  # no contractual interest after the recall
    run_end_of_day(eod_store, recall_on + timedelta(days=1))
    late = _loan(uow_factory, loan_id)
    assert late.overdue_principal_fen == remaining
    assert late.days_past_due == 1
    assert late.overdue_since == recall_on + timedelta(days=1)
    assert late.interest_accrued_fen == 0
    assert late.penalty_accrued_fen == _penalty_for_a_day(remaining)
    assert trial_balance(uow_factory, as_of=recall_on + timedelta(days=1)).balanced


def test_the_borrower_pays_a_recalled_loan_off_on_the_day_without_an_early_repayment(
    uow_factory: Factory, term_product_id: ProductId, eod_store: SqlEndOfDayStore
) -> None:
    loan_id = _disburse(uow_factory, term_product_id)
    recall_on = date(2026, 1, 20)
    _close_days(eod_store, START, recall_on - timedelta(days=1))
    accrued = _loan(uow_factory, loan_id).interest_accrued_fen
    _recall(uow_factory, loan_id, recall_on)
    owed = quote_payoff(uow_factory, loan_id, on=recall_on)
    assert owed == 100_000_00 + accrued
    paid = repay(
        uow_factory, loan_id, amount_fen=owed, on=recall_on, idempotency_key="all", actor="c"
    )
    assert paid.closed
    assert (paid.principal_fen, paid.interest_fen) == (100_000_00, accrued)
    # What was paid matches the called-in instalment: the schedule was not re-amortised.
    assert [(i.period, i.principal_fen) for i in _schedule(uow_factory, loan_id)] == [
        (1, 100_000_00)
    ]
    balance = trial_balance(uow_factory, as_of=recall_on)
    for account in (Account.PRINCIPAL_RECEIVABLE, Account.INTEREST_RECEIVABLE):
        assert balance.balances_fen.get(account, 0) == 0
    assert balance.balanced


def test_arrears_already_overdue_stay_so_and_the_called_in_rest_is_overdue_the_next_day(
    uow_factory: Factory, term_product_id: ProductId, eod_store: SqlEndOfDayStore
) -> None:
    loan_id = _disburse(uow_factory, term_product_id)
    recall_on = FIRST_DUE + timedelta(days=11)
    _close_days(eod_store, START, recall_on - timedelta(days=1))
    assert _loan(uow_factory, loan_id).overdue_principal_fen == FIRST_PRINCIPAL
    _recall(uow_factory, loan_id, recall_on)
    run_end_of_day(eod_store, recall_on)
    on_the_day = _loan(uow_factory, loan_id)
    # Only the unpaid instalment runs penalty on the recall date itself.
    assert on_the_day.overdue_principal_fen == FIRST_PRINCIPAL
    assert on_the_day.overdue_interest_fen == FIRST_INTEREST
    assert on_the_day.days_past_due == 11
    run_end_of_day(eod_store, recall_on + timedelta(days=1))
    next_day = _loan(uow_factory, loan_id)
    assert next_day.overdue_principal_fen == 100_000_00
    assert next_day.overdue_interest_fen == next_day.interest_billed_fen > FIRST_INTEREST
    assert next_day.days_past_due == 12
    assert trial_balance(uow_factory, as_of=recall_on + timedelta(days=1)).balanced


def test_a_loan_called_in_already_is_left_as_it_is(
    uow_factory: Factory, term_product_id: ProductId, eod_store: SqlEndOfDayStore
) -> None:
    loan_id = _disburse(uow_factory, term_product_id)
    recall_on = date(2026, 1, 20)
    _close_days(eod_store, START, recall_on - timedelta(days=1))
    assert _recall(uow_factory, loan_id, recall_on) is not None
    called = _loan(uow_factory, loan_id)
    assert _recall(uow_factory, loan_id, recall_on) is None
    assert _loan(uow_factory, loan_id) == called


def test_a_recall_needs_the_loans_open_business_day_and_an_active_loan(
    uow_factory: Factory, term_product_id: ProductId, eod_store: SqlEndOfDayStore
) -> None:
    loan_id = _disburse(uow_factory, term_product_id)
    _close_days(eod_store, START, date(2026, 1, 9))
    before = _loan(uow_factory, loan_id)
    # The end of day of 10 January has not run: the accrual would be a day short.
    with pytest.raises(EndOfDayPending) as pending:
        _recall(uow_factory, loan_id, date(2026, 1, 11))
    assert pending.value.details["missing_date"] == "2026-01-10"
    assert _loan(uow_factory, loan_id) == before
    owed = quote_payoff(uow_factory, loan_id, on=date(2026, 1, 10))
    repay(
        uow_factory,
        loan_id,
        amount_fen=owed,
        on=date(2026, 1, 10),
        idempotency_key="all",
        actor="c",
    )
    assert _loan(uow_factory, loan_id).status is LoanStatus.CLOSED
    with pytest.raises(AccelerationRefused) as refused:
        _recall(uow_factory, loan_id, date(2026, 1, 10))
    assert "closed" in refused.value.message
