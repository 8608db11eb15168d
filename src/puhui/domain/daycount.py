"""Day-count bases: how many days an accrual period has and how many days a year has."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from puhui.domain.errors import InvalidDate, InvalidInput


class DayCountBasis(Enum):
    """Actual/360 is the default: the PBOC convention (daily rate = annual rate / 360)."""

    ACT_360 = "act/360"
    ACT_365F = "act/365"
    THIRTY_360 = "30/360"

    @classmethod
    def parse(cls, text: str) -> DayCountBasis:
        normalised = text.strip().lower().replace("actual", "act").replace("f", "")
        for basis in cls:
            if basis.value == normalised:
                return basis
        choices = ", ".join(b.value for b in cls)
        raise InvalidInput(f"unknown day-count basis {text!r}; choose one of {choices}")

    @property
    def days_in_year(self) -> int:
        return 365 if self is DayCountBasis.ACT_365F else 360

    def day_count(self, start: date, end: date) -> int:
        """Days from ``start`` (counted) to ``end`` (not counted): 算头不算尾."""
        if end < start:
            raise InvalidDate(f"period end {end} is before its start {start}")
        if self is not DayCountBasis.THIRTY_360:
            return (end - start).days
        # 30/360 bond basis (ISDA): day 31 becomes 30; an end on the 31st becomes 30 only
        # when the start is already on the 30th or 31st.
        d1 = min(start.day, 30)
        d2 = end.day
        if d2 == 31 and d1 == 30:
            d2 = 30
        return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)

    def daily_rate(self, annual_rate: Decimal) -> Decimal:
        return annual_rate / self.days_in_year


@dataclass(frozen=True, slots=True)
class AccrualPeriod:
    start: date
    end: date
    basis: DayCountBasis = DayCountBasis.ACT_360

    @property
    def days(self) -> int:
        return self.basis.day_count(self.start, self.end)

    def interest_fen(self, balance_fen: int, annual_rate: Decimal) -> Decimal:
        """Exact (unrounded) interest in fen on a constant balance over the period."""
        return Decimal(balance_fen) * annual_rate * self.days / self.basis.days_in_year
