"""Interest in integers: the sub-ledger's rules that the end of day also applies in SQL.

Rates are kept as exact integers of 1e-8, balance-days accumulators (积数) are priced and
rounded once with integer division, and a term loan's running period accrues its scheduled
interest pro rata. Integers keep SQLite, PostgreSQL and Python equal to the fen.
"""

from __future__ import annotations

from decimal import Decimal

from puhui.domain.errors import InvalidRate

RATE_SCALE = 10**8
"""Rates are kept as integers of 1e-8, so that 积数 × rate is priced exactly in integers."""

MAX_RATE_PLACES = 6
"""Contract rates are quoted to 0.0001% (six places of a fraction)."""


def rate_e8(rate: Decimal, *, what: str = "annual rate") -> int:
    """A rate as an exact integer of 1e-8, refusing anything that would need rounding."""
    scaled = rate * RATE_SCALE
    if scaled != scaled.to_integral_value():
        raise InvalidRate(f"{what} {rate} has more than 8 decimal places")
    return int(scaled)


def penalty_rate_e8(annual_rate: Decimal, uplift: Decimal) -> int:
    """Penalty rate = contract rate × (1 + uplift) (银发〔2003〕251号), exact in 1e-8."""
    return rate_e8(annual_rate * (1 + uplift), what="penalty rate")


def check_rate_places(annual_rate: Decimal) -> None:
    """Refuse a contract rate quoted to more than ``MAX_RATE_PLACES`` places."""
    exponent = annual_rate.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_RATE_PLACES:
        raise InvalidRate(
            f"annual rate {annual_rate} has more than {MAX_RATE_PLACES} decimal places"
            " (quote it to 0.0001%)"
        )


def price_accumulator_fen(
    accumulator_fen_days: int, rate_e8_value: int, year_days: int, *, half_even: bool
) -> int:
    """Interest on a balance-days accumulator, rounded once, in integers only.

    ``q + 1`` when twice the remainder passes the divisor, or ties it and the rounding is
    half-up (half-even: and ``q`` is odd). The end of day's SQL prices with this same rule.
    """
    divisor = year_days * RATE_SCALE
    quotient, remainder = divmod(accumulator_fen_days * rate_e8_value, divisor)
    if 2 * remainder > divisor or (
        2 * remainder == divisor and (not half_even or quotient % 2 == 1)
    ):
        quotient += 1
    return quotient


def running_interest_fen(period_interest_fen: int, days_elapsed: int, period_days: int) -> int:
    """A term loan's interest accrued after ``days_elapsed`` of its instalment's
    ``period_days``: the scheduled interest pro rata, rounded half-up, so that on the eve of
    the due date it is exactly the scheduled interest. The end of day's SQL accrues by it."""
    return (2 * period_interest_fen * days_elapsed + period_days) // (2 * period_days)
