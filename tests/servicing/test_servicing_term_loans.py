"""Term loans (SQLite and PostgreSQL): schedule, nightly billing, arrears, early repayment, and
calling one in early (提前收回): every instalment falls due on the recall date, the end of day
takes it from there, and the ledger does not move."""

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
from puhui.domain.lending.errors import MethodNotSupported
from puhui.domain.lending.schedule import ScheduledInstalment
from puhui.pipelines.eod import run_end_of_day
from puhui.services.servicing.errors import EndOfDayPending
from puhui.services.servicing.ledger import trial_balance
from puhui.services.servicing.receipts import quote_payoff, repay, write_off
from puhui.services.servicing.term_loans import accelerate_term_loan, disburse_term_loan

Factory = Callable[[], ServicingUnitOfWork]
START = date(2026, 1, 2)
FIRST_DUE = date(2026, 2, 2)
FIRST_INSTALMENT = 8_530_99  # shared vector (a): 等额本息 100,000 at 4.35 % over 12 months
FIRST_PRINCIPAL = 8_168_49
FIRST_INTEREST = 362_50


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
    # Shared vector (a): 等额本息 100,000 at 4.35% over 12 months, total interest 2,371.90.
    assert result.total_interest_fen == 2_371_90
    assert result.instalments == 12
    return LoanId(result.loan_id)


def _loan(uow_factory: Factory, loan_id: LoanId) -> LoanAccount:
    with uow_factory() as uow:
        loan = uow.loans.get(loan_id)
    assert loan is not None
    return loan


def _close_days(store: SqlEndOfDayStore, first: date, last: date) -> None:
    day = first
    while day <= last:
        run_end_of_day(store, day)
        day += timedelta(days=1)


def test_a_credit_line_product_cannot_disburse_a_term_loan(
    uow_factory: Factory, product_id: ProductId
) -> None:
    with pytest.raises(MethodNotSupported):
        _disburse(uow_factory, product_id)


def test_the_instalment_is_billed_the_night_before_it_falls_due_with_its_exact_interest(
    uow_factory: Factory, term_product_id: ProductId, eod_store: SqlEndOfDayStore
) -> None:
    loan_id = _disburse(uow_factory, term_product_id)
    _close_days(eod_store, START, FIRST_DUE - timedelta(days=2))
    before = _loan(uow_factory, loan_id)
    assert before.interest_billed_fen == 0
    assert 0 < before.interest_accrued_fen < 362_50
    run_end_of_day(eod_store, FIRST_DUE - timedelta(days=1))
    loan = _loan(uow_factory, loan_id)
    assert loan.interest_billed_fen == 362_50  # vector (a), period 1
    assert loan.billed_principal_fen == 8_168_49
    assert loan.billed_due_on == FIRST_DUE
    assert loan.current_period == 2
    assert loan.interest_accrued_fen == 0
    balance = trial_balance(uow_factory, as_of=FIRST_DUE - timedelta(days=1))
    assert balance.balances_fen[Account.INTEREST_INCOME] == -362_50
    assert balance.balanced
    paid = repay(
        uow_factory,
        loan_id,
        amount_fen=8_530_99,
        on=FIRST_DUE,
        idempotency_key="i1",
        actor="c",
    )
    assert (paid.interest_fen, paid.principal_fen) == (362_50, 8_168_49)
    _close_days(eod_store, FIRST_DUE, FIRST_DUE + timedelta(days=3))
    assert _loan(uow_factory, loan_id).days_past_due == 0


def test_an_unpaid_instalment_runs_penalty_and_compound_interest_as_in_the_shared_vector(
    uow_factory: Factory, term_product_id: ProductId, eod_store: SqlEndOfDayStore
) -> None:
    loan_id = _disburse(uow_factory, term_product_id)
    ten_days_late = FIRST_DUE + timedelta(days=10)
    _close_days(eod_store, START, ten_days_late)
    loan = _loan(uow_factory, loan_id)
    assert loan.days_past_due == 10
    assert loan.overdue_principal_fen == 8_168_49
    assert loan.overdue_interest_fen == 362_50
    # Vector (e): 10 days at 4.35% × 1.5 — 罚息 14.81 on the principal, 复利 0.66 on interest.
    assert loan.penalty_accrued_fen == 14_81
    assert loan.compound_accrued_fen == 66
    paid = repay(
        uow_factory,
        loan_id,
        amount_fen=8_546_46,
        on=ten_days_late + timedelta(days=1),
        idempotency_key="arrears",
        actor="c",
    )
    assert (paid.penalty_fen, paid.compound_fen, paid.interest_fen, paid.principal_fen) == (
        14_81,
        66,
        362_50,
        8_168_49,
    )
    cleared = _loan(uow_factory, loan_id)
    assert cleared.overdue_since is None
    assert cleared.days_past_due == 0
    assert trial_balance(uow_factory, as_of=ten_days_late + timedelta(days=1)).balanced


def test_early_repayment_settles_interest_to_date_and_reamortises_the_rest(
    uow_factory: Factory, term_product_id: ProductId, eod_store: SqlEndOfDayStore
) -> None:
    loan_id = _disburse(uow_factory, term_product_id)
    _close_days(eod_store, START, FIRST_DUE - timedelta(days=1))
    repay(uow_factory, loan_id, amount_fen=8_530_99, on=FIRST_DUE, idempotency_key="i1", actor="c")
    prepay_on = date(2026, 2, 12)
    _close_days(eod_store, FIRST_DUE, prepay_on - timedelta(days=1))
    running = _loan(uow_factory, loan_id)
    accrued = running.interest_accrued_fen
    assert accrued > 0
    paid = repay(
        uow_factory,
        loan_id,
        amount_fen=accrued + 30_000_00,
        on=prepay_on,
        idempotency_key="early",
        actor="c",
    )
    assert paid.interest_fen == accrued
    assert paid.principal_fen == 30_000_00
    loan = _loan(uow_factory, loan_id)
    with uow_factory() as uow:
        schedule = uow.instalments.schedule(loan_id)
    future = [i for i in schedule if i.period >= loan.current_period]
    assert len(future) == 11  # reduce the instalment: the due dates stay
    assert sum(i.principal_fen for i in future) == loan.outstanding_principal_fen
    assert loan.outstanding_principal_fen == 100_000_00 - 8_168_49 - 30_000_00
    assert future[0].due_date == date(2026, 3, 2)
    assert future[0].period_days == (date(2026, 3, 2) - prepay_on).days
    assert loan.period_interest_fen == future[0].interest_fen
    # The rest of the loan is paid off: nothing is left on any receivable account.
    _close_days(eod_store, prepay_on, prepay_on + timedelta(days=5))
    payoff_on = prepay_on + timedelta(days=6)
    owed = quote_payoff(uow_factory, loan_id, on=payoff_on)
    final = repay(
        uow_factory, loan_id, amount_fen=owed, on=payoff_on, idempotency_key="all", actor="c"
    )
    assert final.closed
    balance = trial_balance(uow_factory, as_of=payoff_on)
    for account in (
        Account.PRINCIPAL_RECEIVABLE,
        Account.INTEREST_RECEIVABLE,
        Account.PENALTY_RECEIVABLE,
    ):
        assert balance.balances_fen.get(account, 0) == 0
    assert balance.balanced


def test_writing_off_a_term_loan_with_an_instalment_billed_clears_every_receivable(
    uow_factory: Factory, term_product_id: ProductId, eod_store: SqlEndOfDayStore
) -> None:
    loan_id = _disburse(uow_factory, term_product_id)
    _close_days(eod_store, START, FIRST_DUE + timedelta(days=3))
    done = write_off(
        uow_factory,
        loan_id,
        on=FIRST_DUE + timedelta(days=4),
        idempotency_key="wo",
        actor="ops",
        reason="borrower insolvent",
    )
    assert done.principal_fen == 100_000_00
    assert done.income_fen > 362_50  # the billed instalment's interest, penalties, accrual
    balance = trial_balance(uow_factory, as_of=FIRST_DUE + timedelta(days=4))
    for account in (
        Account.PRINCIPAL_RECEIVABLE,
        Account.INTEREST_RECEIVABLE,
        Account.PENALTY_RECEIVABLE,
    ):
        assert balance.balances_fen.get(account, 0) == 0
    assert balance.balances_fen[Account.WRITE_OFF_EXPENSE] == done.written_off_fen
    assert balance.balanced
    run_end_of_day(eod_store, FIRST_DUE + timedelta(days=4))
    assert _loan(uow_factory, loan_id).interest_accrued_fen == 0  # written off: no accrual


def test_the_last_instalments_interest_is_overdue_the_day_after_maturity_with_its_principal(
    uow_factory: Factory, term_product_id: ProductId, eod_store: SqlEndOfDayStore
) -> None:
    # Penalties settle at maturity; that must not carry the instalment's interest a day later.
    result = disburse_term_loan(
        uow_factory,
        enterprise_id="91350100M000100Y43",
        product_id=term_product_id,
        principal_fen=10_000_00,
        annual_rate=Decimal("0.0435"),
        term_months=1,
        on=START,
        idempotency_key="one-month",
        actor="ops",
    )
    loan_id = LoanId(result.loan_id)
    _close_days(eod_store, START, FIRST_DUE)
    due = _loan(uow_factory, loan_id)
    assert (due.maturity_date, due.billed_due_on) == (FIRST_DUE, FIRST_DUE)
    assert due.interest_billed_fen == result.total_interest_fen > 0
    assert due.overdue_interest_fen == 0
    run_end_of_day(eod_store, FIRST_DUE + timedelta(days=1))
    late = _loan(uow_factory, loan_id)
    assert late.overdue_principal_fen == 10_000_00
    assert late.overdue_interest_fen == result.total_interest_fen
    assert late.days_past_due == 1
    run_end_of_day(eod_store, FIRST_DUE + timedelta(days=2))
    # Compound interest runs on the overdue interest from its first overdue day.
    assert _loan(uow_factory, loan_id).compound_accrued_fen > 0


# --- calling a term loan in early (提前收回) ----------------------------------------------


def _schedule(uow_factory: Factory, loan_id: LoanId) -> list[ScheduledInstalment]:
    with uow_factory() as uow:
        return uow.instalments.schedule(loan_id)


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
    assert before.called_in_on is None
    assert (after.maturity_date, after.billed_due_on, after.called_in_on) == (recall_on,) * 3
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
    assert late.called_in_on == recall_on  # the nights keep the day it was called in
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
