"""Discount interest earned day by day: straight line, half-up once per recognition, and the
recognitions of any schedule of run dates add up to the interest exactly."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from puhui.domain.errors import InvalidAmount, InvalidDate
from puhui.domain.supply_chain import earned_discount

START = date(2026, 3, 2)


def test_the_financing_day_is_counted_and_the_day_before_maturity_earns_the_rest() -> None:
    assert earned_discount(900, days=90, financed_on=START, through=START - timedelta(days=1)) == 0
    assert earned_discount(900, days=90, financed_on=START, through=START) == 10
    assert earned_discount(900, days=90, financed_on=START, through=date(2026, 3, 31)) == 300
    assert earned_discount(900, days=90, financed_on=START, through=START + timedelta(89)) == 900
    assert earned_discount(900, days=90, financed_on=START, through=START + timedelta(400)) == 900


def test_half_a_fen_rounds_up_once() -> None:
    # 5 fen over 2 days: 2.5 fen after the first day.
    assert earned_discount(5, days=2, financed_on=START, through=START) == 3
    # 1 fen over 3 days: 0.33 and 0.67 fen.
    assert earned_discount(1, days=3, financed_on=START, through=START) == 0
    assert earned_discount(1, days=3, financed_on=START, through=START + timedelta(1)) == 1


def test_nonsense_is_refused() -> None:
    with pytest.raises(InvalidDate):
        earned_discount(100, days=0, financed_on=START, through=START)
    with pytest.raises(InvalidAmount):
        earned_discount(-1, days=10, financed_on=START, through=START)


@given(
    interest=st.integers(min_value=0, max_value=10**12),
    days=st.integers(min_value=1, max_value=400),
    runs=st.lists(st.integers(min_value=-5, max_value=420), max_size=12),
)
def test_runs_never_go_backwards_nor_past_the_interest_and_maturity_earns_it_all(
    interest: int, days: int, runs: list[int]
) -> None:
    earned = 0
    for offset in sorted(runs):  # the runs, in date order, then settlement
        target = earned_discount(
            interest, days=days, financed_on=START, through=START + timedelta(offset)
        )
        assert earned <= target <= interest  # never backwards, never more than the interest
        earned = target
    assert (
        earned_discount(interest, days=days, financed_on=START, through=START + timedelta(days - 1))
        == interest
    )
