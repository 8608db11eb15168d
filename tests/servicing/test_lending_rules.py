"""Products, credit lines, repayment allocation and delinquency rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puhui.domain.errors import Conflict, InvalidAmount, InvalidInput, InvalidRate
from puhui.domain.lending.credit_line import CreditLine
from puhui.domain.lending.delinquency import (
    NON_ACCRUAL_DAYS_PAST_DUE,
    FiveCategory,
    classify,
    compound_interest_exact,
    days_past_due,
    is_non_accrual,
    is_technical_overdue,
    overdue_charges,
    penalty_interest_exact,
    penalty_rate,
)
from puhui.domain.lending.errors import (
    AmountOutOfRange,
    InsufficientLimit,
    InvalidProduct,
    LineExpired,
    LineFrozen,
    Overpayment,
    RateOutOfRange,
    TermOutOfRange,
)
from puhui.domain.lending.product import (
    DEFAULT_WATERFALL,
    Component,
    EarlyRepaymentMode,
    LoanProduct,
    RepaymentMethod,
)
from puhui.domain.lending.repayment import Due, allocate, order_dues

PRODUCT = LoanProduct(
    code="SME-EI-12",
    name="经营贷 equal instalment",
    method=RepaymentMethod.EQUAL_INSTALMENT,
    min_annual_rate=Decimal("0.03"),
    max_annual_rate=Decimal("0.12"),
    min_term_months=3,
    max_term_months=36,
    min_amount_fen=1_000_00,
    max_amount_fen=3_000_000_00,
)


def test_product_defaults_follow_the_chinese_convention() -> None:
    assert PRODUCT.penalty_uplift == Decimal("0.5")
    assert PRODUCT.waterfall == DEFAULT_WATERFALL
    assert PRODUCT.settlement_day == 20
    assert PRODUCT.grace_days == 0
    assert PRODUCT.early_repayment is EarlyRepaymentMode.REDUCE_INSTALMENT


@pytest.mark.parametrize(
    "change",
    [
        {"code": " "},
        {"min_annual_rate": Decimal("0.2")},
        {"max_annual_rate": Decimal("1.5")},
        {"min_term_months": 0},
        {"min_term_months": 40},
        {"min_amount_fen": 0},
        {"max_amount_fen": 10},
        {"penalty_uplift": Decimal("-0.1")},
        {"grace_days": 8},
        {"settlement_day": 31},
        {"waterfall": (Component.INTEREST, Component.PRINCIPAL)},
        {"waterfall": (Component.PENALTY,) * 4},
    ],
)
def test_product_constructor_refuses_contradictions(change: dict[str, Any]) -> None:
    with pytest.raises(InvalidProduct) as info:
        replace(PRODUCT, **change)
    assert info.value.code == "invalid_product"


def test_validate_terms_names_the_broken_bound() -> None:
    PRODUCT.validate_terms(100_000_00, Decimal("0.0435"), 12)
    with pytest.raises(AmountOutOfRange) as amount:
        PRODUCT.validate_terms(999_99, Decimal("0.0435"), 12)
    assert amount.value.code == "amount_out_of_range"
    assert isinstance(amount.value, InvalidAmount)
    with pytest.raises(RateOutOfRange) as rate:
        PRODUCT.validate_terms(100_000_00, Decimal("0.13"), 12)
    assert isinstance(rate.value, InvalidRate)
    with pytest.raises(TermOutOfRange) as term:
        PRODUCT.validate_terms(100_000_00, Decimal("0.0435"), 48)
    assert term.value.details["max_term_months"] == 36


def test_repayment_method_parses_spellings() -> None:
    assert RepaymentMethod.parse("Equal_Installment") is RepaymentMethod.EQUAL_INSTALMENT
    with pytest.raises(InvalidInput):
        RepaymentMethod.parse("balloon")


LINE = CreditLine(limit_fen=1_000_000, expires_on=date(2025, 12, 31))


def test_credit_line_draw_and_repay_restore_available() -> None:
    line = LINE.draw(600_000, date(2025, 6, 1))
    assert line.available_fen == 400_000
    line = line.repay(250_000)
    assert line.available_fen == 650_000
    assert line.draw(650_000, date(2025, 12, 31)).available_fen == 0


def test_credit_line_refuses_frozen_expired_and_over_limit_draws() -> None:
    with pytest.raises(LineFrozen) as frozen:
        LINE.freeze().draw(1, date(2025, 6, 1))
    assert isinstance(frozen.value, Conflict)
    assert LINE.freeze().unfreeze().draw(1, date(2025, 6, 1)).used_fen == 1
    with pytest.raises(LineExpired):
        LINE.draw(1, date(2026, 1, 1))
    with pytest.raises(InsufficientLimit) as over:
        LINE.draw(1_000_001, date(2025, 6, 1))
    assert over.value.code == "insufficient_limit"
    with pytest.raises(InvalidAmount):
        LINE.draw(0, date(2025, 6, 1))
    with pytest.raises(Overpayment):
        LINE.repay(1)


def test_reducing_the_limit_below_use_leaves_nothing_available() -> None:
    line = LINE.draw(600_000, date(2025, 6, 1)).reduce_limit(500_000)
    assert line.available_fen == 0
    with pytest.raises(InsufficientLimit):
        line.draw(1, date(2025, 6, 2))
    assert line.repay(200_000).available_fen == 100_000
    with pytest.raises(InvalidInput):
        line.reduce_limit(2_000_000)


FEB, MAR = date(2025, 2, 15), date(2025, 3, 15)


def test_allocation_pays_the_oldest_due_first_then_by_waterfall() -> None:
    dues = [
        Due(MAR, Component.INTEREST, 300),
        Due(FEB, Component.PRINCIPAL, 1000),
        Due(MAR, Component.PENALTY, 5),
        Due(FEB, Component.INTEREST, 400),
        Due(FEB, Component.PENALTY, 20),
    ]
    allocation = allocate(1430, dues)
    paid = [(line.due.due_date, line.due.component, line.paid_fen) for line in allocation.lines]
    assert paid == [
        (FEB, Component.PENALTY, 20),
        (FEB, Component.INTEREST, 400),
        (FEB, Component.PRINCIPAL, 1000),
        (MAR, Component.PENALTY, 5),
        (MAR, Component.INTEREST, 5),
    ]
    assert allocation.remaining_dues == (Due(MAR, Component.INTEREST, 295),)


def test_allocation_follows_a_configured_waterfall() -> None:
    fineract_like = (Component.PRINCIPAL, Component.INTEREST, Component.PENALTY, Component.COMPOUND)
    dues = [Due(FEB, Component.PENALTY, 20), Due(FEB, Component.PRINCIPAL, 1000)]
    allocation = allocate(500, dues, fineract_like)
    assert allocation.by_component[Component.PRINCIPAL] == 500
    assert allocation.by_component[Component.PENALTY] == 0


def test_overpayment_is_refused_with_the_outstanding_amount() -> None:
    with pytest.raises(Overpayment) as info:
        allocate(1021, [Due(FEB, Component.PENALTY, 20), Due(FEB, Component.PRINCIPAL, 1000)])
    assert info.value.code == "overpayment"
    assert info.value.outstanding_fen == 1020
    assert info.value.details == {"amount_fen": 1021, "outstanding_fen": 1020}
    with pytest.raises(InvalidAmount):
        allocate(0, [Due(FEB, Component.PRINCIPAL, 1)])
    with pytest.raises(InvalidAmount):
        Due(FEB, Component.PRINCIPAL, -1)
    with pytest.raises(InvalidProduct):
        order_dues([], (Component.PRINCIPAL,))


dues_strategy = st.lists(
    st.builds(
        Due,
        st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31)),
        st.sampled_from(list(Component)),
        st.integers(min_value=0, max_value=10**9),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=100, deadline=None)
@given(
    dues=dues_strategy,
    share=st.fractions(min_value=0, max_value=1),
    waterfall=st.permutations(list(Component)),
)
def test_allocation_never_exceeds_dues_and_pays_in_order(
    dues: list[Due], share: Any, waterfall: list[Component]
) -> None:
    owed = sum(d.amount_fen for d in dues)
    amount = max(1, int(owed * share))
    if owed == 0:
        with pytest.raises(Overpayment):
            allocate(amount, dues, tuple(waterfall))
        return
    allocation = allocate(amount, dues, tuple(waterfall))
    assert allocation.paid_fen == amount
    assert all(0 <= line.paid_fen <= line.due.amount_fen for line in allocation.lines)
    for component, paid in allocation.by_component.items():
        assert paid <= sum(d.amount_fen for d in dues if d.component is component)
    # Nothing is paid on a due while an earlier one in the order is left unpaid.
    unpaid_seen = False
    for line in allocation.lines:
        if line.due.amount_fen == 0:
            continue
        if unpaid_seen:
            assert line.paid_fen == 0
        if line.unpaid_fen > 0:
            unpaid_seen = True
    assert sum(d.amount_fen for d in allocation.remaining_dues) == owed - amount


def test_days_past_due_counts_from_the_day_after_the_due_date() -> None:
    assert days_past_due(FEB, FEB) == 0
    assert days_past_due(FEB, date(2025, 2, 16)) == 1
    assert days_past_due(None, FEB) == 0
    assert days_past_due(MAR, FEB) == 0


@pytest.mark.parametrize(
    ("dpd", "category"),
    [
        (0, FiveCategory.PASS),
        (1, FiveCategory.SPECIAL_MENTION),
        (90, FiveCategory.SPECIAL_MENTION),
        (91, FiveCategory.SUBSTANDARD),
        (270, FiveCategory.SUBSTANDARD),
        (271, FiveCategory.DOUBTFUL),
        (360, FiveCategory.DOUBTFUL),
        (361, FiveCategory.LOSS),
    ],
)
def test_five_category_floors(dpd: int, category: FiveCategory) -> None:
    assert classify(dpd) is category


def test_classification_grace_and_other_triggers() -> None:
    assert classify(3, grace_days=3) is FiveCategory.PASS
    assert is_technical_overdue(3, 3)
    assert not is_technical_overdue(0, 3)
    assert not is_technical_overdue(4, 3)
    assert classify(4, grace_days=3) is FiveCategory.SPECIAL_MENTION
    assert classify(0, at_least=FiveCategory.SUBSTANDARD) is FiveCategory.SUBSTANDARD
    assert classify(400, at_least=FiveCategory.SUBSTANDARD) is FiveCategory.LOSS
    assert FiveCategory.SUBSTANDARD.is_non_performing
    assert not FiveCategory.SPECIAL_MENTION.is_non_performing
    assert [c.label_zh for c in FiveCategory] == ["正常", "关注", "次级", "可疑", "损失"]
    with pytest.raises(InvalidInput):
        classify(-1)
    with pytest.raises(InvalidInput):
        classify(5, grace_days=8)


def test_non_accrual_starts_beyond_ninety_days() -> None:
    assert NON_ACCRUAL_DAYS_PAST_DUE == 90
    assert not is_non_accrual(90)
    assert is_non_accrual(91)


def test_penalty_and_compound_interest_are_exact_until_rounded() -> None:
    assert penalty_rate(Decimal("0.0435"), Decimal("0.3")) == Decimal("0.05655")
    exact = penalty_interest_exact(816849, Decimal("0.0435"), 10, uplift=Decimal("0.5"))
    assert exact == Decimal(816849) * Decimal("0.06525") * 10 / 360
    compound = compound_interest_exact(36250, Decimal("0.0435"), 10, uplift=Decimal("0.5"))
    assert round(compound, 4) == Decimal("65.7031")
    charges = overdue_charges(816849, 36250, Decimal("0.0435"), 0, uplift=Decimal("0.5"))
    assert charges.total_fen == 0
    with pytest.raises(InvalidAmount):
        penalty_interest_exact(-1, Decimal("0.0435"), 10, uplift=Decimal("0.5"))
    with pytest.raises(InvalidRate):
        penalty_rate(Decimal("0.0435"), Decimal("-0.5"))
