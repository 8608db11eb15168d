"""Acceleration (提前收回): a receipt's outstanding principal and interest fall due at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from puhui.domain.errors import InvalidDate
from puhui.domain.ids import CreditLineId, ProductId, ReceiptId
from puhui.domain.lending.acceleration import AccelerationRefused, accelerate
from puhui.domain.lending.account import LoanAccount, LoanKind, LoanStatus
from puhui.domain.lending.product import LoanProduct, RepaymentMethod

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
    assert after.maturity_date == RECALLED
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
