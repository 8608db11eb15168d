"""The loan account: settlement, payment allocation, write-off and the month step it relies on."""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.domain.errors import InvalidDate
from puhui.domain.ids import LoanId, ProductId, ReceiptId
from puhui.domain.ledger import Account
from puhui.domain.lending.account import LoanAccount, LoanKind, LoanStatus
from puhui.domain.lending.errors import Overpayment
from puhui.domain.lending.product import (
    DEFAULT_WATERFALL,
    Component,
    LoanProduct,
    RepaymentMethod,
)
from puhui.domain.lending.repayment import Due, allocate
from puhui.domain.lending.revolving import settlement_dates
from puhui.domain.lending.schedule import add_months

PRODUCT = LoanProduct(
    code="TERM",
    name="term",
    method=RepaymentMethod.EQUAL_INSTALMENT,
    min_annual_rate=Decimal("0.03"),
    max_annual_rate=Decimal("0.18"),
    min_term_months=1,
    max_term_months=36,
    min_amount_fen=100_00,
    max_amount_fen=10_000_000_00,
)
DUE = date(2026, 2, 10)
PAID = date(2026, 2, 20)


def _term_loan(**balances: int) -> LoanAccount:
    loan = LoanAccount.new(
        loan_id=LoanId("loan_1"),
        line_id=None,
        product=PRODUCT,
        product_id=ProductId("prod_1"),
        enterprise_id="E1",
        annual_rate=Decimal("0.0435"),
        kind=LoanKind.TERM,
        method=RepaymentMethod.EQUAL_INSTALMENT,
        principal_fen=100_000_00,
        disbursed_on=date(2026, 1, 10),
        maturity_date=date(2026, 12, 10),
    )
    return replace(loan, **balances)


def _overdue_instalment() -> LoanAccount:
    """Vector e's instalment, ten days overdue: 8,530.99 principal, 362.50 interest,
    penalty 15.46 and compound 0.66 billed; 91,469.01 principal not yet due."""
    return _term_loan(
        billed_principal_fen=8_530_99,
        overdue_principal_fen=8_530_99,
        interest_billed_fen=362_50,
        overdue_interest_fen=362_50,
        penalty_billed_fen=15_46,
        compound_billed_fen=66,
        billed_due_on=DUE,
        overdue_since=date(2026, 2, 11),
        days_past_due=10,
    )


def test_a_payment_is_split_by_the_one_allocation_rule() -> None:
    loan = _overdue_instalment()
    collected = 8_530_99 + 362_50 + 15_46 + 66
    after, payment = loan.allocate_payment(collected, DEFAULT_WATERFALL, PAID)
    vector_dues = [
        Due(DUE, Component.PRINCIPAL, 8_530_99),
        Due(DUE, Component.INTEREST, 362_50),
        Due(DUE, Component.COMPOUND, 66),
        Due(DUE, Component.PENALTY, 15_46),
    ]
    expected = allocate(collected, vector_dues).by_component
    assert {
        Component.PENALTY: payment.penalty_fen,
        Component.COMPOUND: payment.compound_fen,
        Component.INTEREST: payment.interest_fen,
        Component.PRINCIPAL: payment.principal_fen,
    } == expected
    assert payment.overdue_principal_fen == 8_530_99
    assert (after.overdue_principal_fen, after.billed_principal_fen) == (0, 0)
    assert (after.overdue_since, after.days_past_due, after.billed_due_on) == (None, 0, None)
    assert after.outstanding_principal_fen == 91_469_01
    assert after.status is LoanStatus.ACTIVE


def test_overdue_amounts_are_paid_before_what_is_due_today_and_principal_not_yet_due() -> None:
    loan = replace(
        _overdue_instalment(),
        billed_principal_fen=8_530_99 + 8_561_92,
        interest_billed_fen=362_50 + 331_57,
    )
    dues = loan.payment_dues(PAID)
    assert [d.due_date for d in dues] == sorted(d.due_date for d in dues)
    after, payment = loan.allocate_payment(9_000_00, DEFAULT_WATERFALL, PAID)
    # 罚息, 复利, overdue interest and overdue principal (8,909.61) go first; the rest pays
    # the interest due today (90.39 of 331.57) and no principal of today's instalment.
    assert payment.overdue_principal_fen == payment.principal_fen == 8_530_99
    assert payment.interest_fen == 362_50 + 90_39
    assert after.interest_billed_fen == 331_57 - 90_39
    assert after.overdue_interest_fen == 0
    assert after.billed_principal_fen == 8_561_92


def test_paying_more_than_is_billed_repays_principal_not_yet_due_last() -> None:
    loan = _term_loan(billed_principal_fen=8_530_99, interest_billed_fen=362_50)
    after, payment = loan.allocate_payment(20_000_00, DEFAULT_WATERFALL, PAID)
    assert payment.interest_fen == 362_50
    assert payment.principal_fen == 20_000_00 - 362_50
    assert after.billed_principal_fen == 0
    assert after.outstanding_principal_fen == 100_000_00 - payment.principal_fen


def test_a_payment_above_everything_owed_is_refused() -> None:
    loan = _overdue_instalment()
    with pytest.raises(Overpayment) as info:
        loan.allocate_payment(loan.total_owed_fen + 1, DEFAULT_WATERFALL, PAID)
    assert info.value.code == "overpayment"
    assert info.value.outstanding_fen == loan.total_owed_fen


def test_paying_everything_closes_the_account() -> None:
    loan = _overdue_instalment()
    after, payment = loan.allocate_payment(loan.total_owed_fen, DEFAULT_WATERFALL, PAID)
    assert after.total_owed_fen == 0
    assert (after.status, after.closed_on) == (LoanStatus.CLOSED, PAID)
    assert sum(amount for _, amount in payment.ledger_amounts()) == 0


def test_off_balance_interest_is_income_only_when_paid() -> None:
    loan = replace(_overdue_instalment(), non_accrual=True, memo_interest_fen=100_00)
    _, payment = loan.allocate_payment(15_46 + 66 + 362_50, DEFAULT_WATERFALL, PAID)
    assert payment.memo_interest_fen == 100_00
    amounts = dict(payment.ledger_amounts())
    assert amounts[Account.INTEREST_INCOME] == -100_00
    assert amounts[Account.INTEREST_RECEIVABLE] == -(362_50 - 100_00)


def test_settling_moves_rounded_accruals_to_billed_without_rounding_again() -> None:
    loan = _term_loan(
        interest_accum_fen_days=123,
        interest_accrued_fen=47,
        penalty_accrued_fen=3,
        penalty_accum_fen_days=9,
        compound_accrued_fen=1,
    )
    kept = loan.settle_accrued(PAID, interest=False)
    assert (kept.interest_accrued_fen, kept.interest_billed_fen) == (47, 0)
    assert (kept.penalty_billed_fen, kept.compound_billed_fen, kept.penalty_accum_fen_days) == (
        3,
        1,
        0,
    )
    settled = loan.settle_accrued(PAID)
    assert (settled.interest_accrued_fen, settled.interest_billed_fen) == (0, 47)
    assert settled.interest_accum_fen_days == 0
    assert settled.total_owed_fen == loan.total_owed_fen
    assert settled.billed_due_on == PAID


def test_a_write_off_takes_every_receivable_off_the_books_and_keeps_the_claim() -> None:
    loan = replace(_overdue_instalment(), interest_accrued_fen=12_00)
    after, written = loan.write_off(PAID)
    assert written.claim_fen == loan.total_owed_fen
    assert written.principal_fen == loan.outstanding_principal_fen
    assert sum(amount for _, amount in written.ledger_amounts()) == 0
    assert after.status is LoanStatus.WRITTEN_OFF
    assert after.total_owed_fen == 0
    assert after.unrecovered_fen == written.claim_fen
    assert after.recover(100).unrecovered_fen == written.claim_fen - 100


def test_a_receipt_has_no_principal_not_yet_due_among_its_dues() -> None:
    receipt = replace(
        _term_loan(), loan_id=ReceiptId("rcpt_1"), kind=LoanKind.RECEIPT, interest_billed_fen=5
    )
    dues = receipt.payment_dues(PAID)
    assert all(d.due_date <= PAID for d in dues)
    assert sum(d.amount_fen for d in dues) == receipt.total_owed_fen


@given(st.dates(date(1900, 1, 1), date(2200, 12, 31)), st.integers(-600, 600))
def test_add_months_is_the_calendar_month_step(day: date, months: int) -> None:
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day == min(day.day, calendar.monthrange(moved.year, moved.month)[1])


def test_add_months_refuses_to_leave_the_calendar() -> None:
    with pytest.raises(InvalidDate):
        add_months(date(9999, 12, 1), 1)


def test_settlement_days_step_over_the_year_end() -> None:
    assert settlement_dates(date(2025, 11, 21), date(2026, 2, 19), 20) == [
        date(2025, 12, 20),
        date(2026, 1, 20),
    ]
