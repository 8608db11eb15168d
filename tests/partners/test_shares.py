"""Pro-rata splits between the bank and a partner: exact, half-up, within the bank's minimum."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.domain.daycount import DayCountBasis
from puhui.domain.lending.product import RepaymentMethod
from puhui.domain.lending.schedule import build_schedule
from puhui.domain.money import Rounding
from puhui.domain.partners.errors import BankShareBelowMinimum, InvalidPartnerShare
from puhui.domain.partners.shares import parse_partner_share, partner_part, split

shares = st.decimals(min_value=0, max_value=Decimal("0.7"), places=6)
amounts = st.integers(min_value=-(10**12), max_value=10**12)
SCHEDULE_METHODS = [m for m in RepaymentMethod if m.has_schedule]


@given(amount=amounts, share=shares)
def test_parts_add_up_exactly_and_partner_is_within_half_a_fen(amount: int, share: Decimal) -> None:
    parts = split(amount, share)
    assert parts.partner_fen + parts.bank_fen == amount
    assert abs(Decimal(parts.partner_fen) - Decimal(amount) * share) <= Decimal("0.5")


@given(
    principal_fen=st.integers(min_value=100, max_value=10**10),
    annual_rate=st.decimals(min_value=0, max_value=Decimal("0.24"), places=4),
    months=st.integers(min_value=1, max_value=36),
    method=st.sampled_from(SCHEDULE_METHODS),
    share=shares,
)
def test_every_period_of_any_schedule_splits_exactly(
    principal_fen: int, annual_rate: Decimal, months: int, method: RepaymentMethod, share: Decimal
) -> None:
    rows = build_schedule(
        principal_fen,
        annual_rate,
        months,
        method,
        date(2025, 1, 31),
        basis=DayCountBasis.parse("act/360"),
        rounding=Rounding.HALF_UP,
    )
    for row in rows:
        for component in (row.principal_fen, row.interest_fen):
            parts = split(component, share)
            assert parts.partner_fen + parts.bank_fen == component
            assert abs(Decimal(parts.partner_fen) - Decimal(component) * share) <= Decimal("0.5")


def test_partner_part_rounds_half_up_not_half_even() -> None:
    # 15 × 0.3 = 4.5 and 5 × 0.5 = 2.5: half-up gives 5 and 3 where half-even would give 4 and 2.
    assert partner_part(15, Decimal("0.3")) == 5
    assert partner_part(5, Decimal("0.5")) == 3
    assert split(5, Decimal("0.5")).bank_fen == 2


def test_a_reversal_splits_to_the_negation_of_the_original() -> None:
    assert split(-15, Decimal("0.3")).partner_fen == -split(15, Decimal("0.3")).partner_fen


@pytest.mark.parametrize("text", ["0", "0.3", "0.70", "0.7"])
def test_shares_from_zero_to_seventy_percent_are_accepted(text: str) -> None:
    assert parse_partner_share(text) == Decimal(text)


@pytest.mark.parametrize("text", ["0.71", "0.7000001", "1", "2"])
def test_a_share_leaving_the_bank_under_thirty_percent_is_refused(text: str) -> None:
    with pytest.raises(BankShareBelowMinimum):
        parse_partner_share(text)


@pytest.mark.parametrize("text", ["-0.1", "abc", "", "nan", "inf", "0.3%"])
def test_a_share_that_is_not_a_fraction_is_refused(text: str) -> None:
    with pytest.raises(InvalidPartnerShare):
        parse_partner_share(text)
