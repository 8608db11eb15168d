"""Acceleration (提前收回): a loan's outstanding principal and interest fall due at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from puhui.domain.errors import InvalidDate
from puhui.domain.ids import CreditLineId, LoanId, ProductId, ReceiptId
from puhui.domain.lending.acceleration import AccelerationRefused, accelerate, accelerate_term
from puhui.domain.lending.account import LoanAccount, LoanKind, LoanStatus
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.domain.lending.schedule import ScheduledInstalment

PRODUCT = LoanProduct(
    code="REV",
    name="revolving",
    method=RepaymentMethod.DAILY_REVOLVING,
    min_annual_rate=Decimal("0.03"),
    max_annual_rate=Decimal("0.18"),
    min_term_months=1,
    max_term_months=12,
    min_amount_fen=100_00,
    max_amount_fen=10_000_000_00,
)
RECALLED = date(2026, 3, 31)


def _receipt(**balances: object) -> LoanAccount:
    loan = LoanAccount.new(
        loan_id=ReceiptId("rcpt_1"),
        line_id=CreditLineId("line_1"),
        product=PRODUCT,
        product_id=ProductId("prod_1"),
        enterprise_id="E1",
        annual_rate=Decimal("0.0435"),
        kind=LoanKind.RECEIPT,
        method=RepaymentMethod.DAILY_REVOLVING,
        principal_fen=100_000_00,
        disbursed_on=date(2026, 1, 10),
        maturity_date=date(2026, 12, 10),
    )
    return replace(loan, **balances)  # type: ignore[arg-type]


def test_principal_falls_due_on_the_recall_date_and_interest_is_settled() -> None:
    before = _receipt(interest_accum_fen_days=7_900_000_000, interest_accrued_fen=954_58)
    after = accelerate(before, RECALLED)
    assert after.maturity_date == after.called_in_on == RECALLED
    assert before.called_in_on is None
    assert after.outstanding_principal_fen == 100_000_00
    assert (after.interest_accrued_fen, after.interest_billed_fen) == (0, 954_58)
    assert after.billed_due_on == RECALLED
    # Only due dates move: what the borrower owes (and so the ledger) is unchanged.
    assert after.total_owed_fen == before.total_owed_fen


def test_a_receipt_already_due_is_left_as_it_is() -> None:
    due = _receipt(maturity_date=date(2026, 3, 1))
    assert accelerate(due, RECALLED) is due


@pytest.mark.parametrize(
    "balances",
    [{"status": LoanStatus.CLOSED}, {"status": LoanStatus.WRITTEN_OFF}, {"kind": LoanKind.TERM}],
    ids=["closed", "written-off", "term-loan"],
)
def test_only_an_active_receipt_is_called_in(balances: dict[str, object]) -> None:
    with pytest.raises(AccelerationRefused) as refused:
        accelerate(_receipt(**balances), RECALLED)
    assert refused.value.code == "acceleration_refused"


def test_a_recall_before_the_draw_is_refused() -> None:
    with pytest.raises(InvalidDate):
        accelerate(_receipt(), date(2026, 1, 9))


def _term_loan(**balances: object) -> tuple[LoanAccount, ScheduledInstalment]:
    """A 12-month term loan in its third period, 10 days into it."""
    running = ScheduledInstalment(
        period=3,
        due_date=date(2026, 4, 10),
        period_days=31,
        principal_fen=8_200_00,
        interest_fen=330_00,
    )
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
        maturity_date=date(2027, 1, 10),
        current_period=3,
        next_due_date=running.due_date,
        period_interest_fen=running.interest_fen,
        period_principal_fen=running.principal_fen,
        period_days=running.period_days,
    )
    loan = replace(
        loan,
        outstanding_principal_fen=83_600_00,
        billed_principal_fen=8_180_00,
        overdue_principal_fen=8_180_00,
        interest_billed_fen=340_00,
        overdue_interest_fen=340_00,
        billed_due_on=date(2026, 3, 10),
        interest_accrued_fen=106_45,
        period_days_elapsed=10,
    )
    return replace(loan, **balances), running  # type: ignore[arg-type]


def test_a_term_loan_is_billed_as_if_its_last_instalment_fell_due_on_the_recall_date() -> None:
    before, running = _term_loan()
    recalled = date(2026, 3, 20)
    after, called = accelerate_term(before, running, recalled)
    assert called == ScheduledInstalment(
        period=3,
        due_date=recalled,
        period_days=10,
        principal_fen=83_600_00 - 8_180_00,
        interest_fen=106_45,
    )
    assert after.billed_principal_fen == after.outstanding_principal_fen == 83_600_00
    assert (after.interest_billed_fen, after.interest_accrued_fen) == (340_00 + 106_45, 0)
    assert after.unbilled_principal_fen == 0
    assert after.called_in_on == recalled
    assert before.called_in_on is None
    assert (after.maturity_date, after.billed_due_on, after.next_due_date) == (
        recalled,
        recalled,
        None,
    )
    assert (after.current_period, after.period_interest_fen, after.period_principal_fen) == (
        4,
        0,
        0,
    )
    # What is already overdue stays overdue; nothing owed changes.
    assert (after.overdue_principal_fen, after.overdue_interest_fen) == (8_180_00, 340_00)
    assert after.total_owed_fen == before.total_owed_fen


def test_a_term_loan_past_its_last_instalment_is_left_as_it_is() -> None:
    loan, running = _term_loan(next_due_date=None)
    assert accelerate_term(loan, running, date(2026, 3, 20)) == (loan, None)


def test_a_term_loan_without_its_running_instalment_is_refused() -> None:
    loan, running = _term_loan()
    with pytest.raises(AccelerationRefused):
        accelerate_term(loan, replace(running, period=4), date(2026, 3, 20))
    with pytest.raises(AccelerationRefused):
        accelerate_term(loan, None, date(2026, 3, 20))


def test_a_receipt_is_not_called_in_as_a_term_loan() -> None:
    with pytest.raises(AccelerationRefused):
        accelerate_term(_receipt(), None, RECALLED)
