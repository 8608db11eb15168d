from datetime import date
from decimal import Decimal

import pytest

from puhui.domain.daycount import AccrualPeriod, DayCountBasis
from puhui.domain.errors import InvalidDate, InvalidInput


def test_actual_bases_count_calendar_days_first_day_in_last_day_out() -> None:
    start, end = date(2024, 2, 15), date(2024, 3, 15)
    assert DayCountBasis.ACT_360.day_count(start, end) == 29
    assert DayCountBasis.ACT_365F.day_count(start, end) == 29


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2025, 1, 31), date(2025, 2, 28), 28),
        (date(2025, 1, 30), date(2025, 3, 31), 60),
        (date(2025, 1, 15), date(2025, 7, 15), 180),
        (date(2025, 1, 31), date(2025, 3, 31), 60),
    ],
)
def test_thirty_360_bond_basis(start: date, end: date, days: int) -> None:
    assert DayCountBasis.THIRTY_360.day_count(start, end) == days


def test_interest_is_exact_until_rounded() -> None:
    period = AccrualPeriod(date(2025, 1, 1), date(2025, 1, 2))
    assert period.interest_fen(100_000_00, Decimal("0.0360")) == Decimal("1000")
    yearly = AccrualPeriod(date(2025, 1, 1), date(2026, 1, 1), DayCountBasis.ACT_365F)
    assert yearly.interest_fen(100_00, Decimal("0.05")) == Decimal("500")


def test_end_before_start_is_refused() -> None:
    with pytest.raises(InvalidDate):
        DayCountBasis.ACT_360.day_count(date(2025, 2, 1), date(2025, 1, 1))


def test_parse_accepts_the_documented_spellings() -> None:
    assert DayCountBasis.parse("act/360") is DayCountBasis.ACT_360
    assert DayCountBasis.parse("ACT/365F") is DayCountBasis.ACT_365F
    assert DayCountBasis.parse("30/360") is DayCountBasis.THIRTY_360
    with pytest.raises(InvalidInput, match="choose one of"):
        DayCountBasis.parse("act/act")
