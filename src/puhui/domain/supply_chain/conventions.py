"""The money conventions of payable vouchers: discount interest, fee, proceeds, penalty.

Exact and written down once (docs/supply-chain.md, "Conventions"):

* days = maturity - financing date: the financing date is counted, the maturity is not
  (算头不算尾); fewer than one day is refused;
* interest = face x annual rate x days / 360, rounded half-up to the fen once;
* fee = face x fee rate, rounded half-up to the fen once;
* proceeds = face - interest - fee, which must stay positive;
* the discount interest is earned day by day, straight line over the financed days: by the
  end of day ``through`` the bank has earned interest x (days from the financing date to
  ``through``, both counted) / days, rounded half-up to the fen; the whole of it by the day
  before maturity. Each recognition posts what was earned less what was posted before, so
  the roundings never add up to more or less than the interest.

The arithmetic is exact Decimal (a local context wide enough that nothing is rounded
before :func:`puhui.domain.money.round_fen`, the one rounding function).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from puhui.domain.errors import InvalidAmount, InvalidDate, InvalidRate
from puhui.domain.money import format_yuan, require_positive, round_fen
from puhui.domain.supply_chain.errors import FinancingAfterMaturity

DAYS_IN_YEAR = 360
"""Actual/360: the PBOC convention for discounting (贴现) and for penalty interest."""
_PRECISION = 80
"""Digits of the local Decimal context: face (19) x rate (<= 28) x days (5) fits exactly."""


@dataclass(frozen=True, slots=True)
class Discount:
    """The price of discounting a voucher at the bank on one date."""

    face_fen: int
    days: int
    annual_rate: Decimal
    fee_rate: Decimal
    interest_fen: int
    fee_fen: int
    proceeds_fen: int


def _rate(value: Decimal, what: str) -> Decimal:
    if not isinstance(value, Decimal):
        raise InvalidRate(f"{what} must be a Decimal fraction, got {value!r}")
    if not value.is_finite() or value < 0 or value > 1:
        raise InvalidRate(f"{what} must be a fraction between 0 and 1, got {value}")
    return value


def _act_360(face_fen: int, annual_rate: Decimal, days: int) -> int:
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return round_fen(Decimal(face_fen) * annual_rate * days / DAYS_IN_YEAR)


def discount(
    face_fen: int,
    *,
    financed_on: date,
    maturity: date,
    annual_rate: Decimal,
    fee_rate: Decimal = Decimal(0),
) -> Discount:
    """Interest, fee and proceeds of discounting ``face_fen`` on ``financed_on``."""
    face = require_positive(face_fen, "face amount")
    rate = _rate(annual_rate, "annual rate")
    fee_fraction = _rate(fee_rate, "fee rate")
    days = (maturity - financed_on).days
    if days < 1:
        raise FinancingAfterMaturity(
            f"a voucher maturing on {maturity} cannot be financed on {financed_on}: "
            "financing must come at least one day before maturity",
            details={"maturity": maturity.isoformat(), "financed_on": financed_on.isoformat()},
        )
    interest = _act_360(face, rate, days)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        fee = round_fen(Decimal(face) * fee_fraction)
    proceeds = face - interest - fee
    if proceeds <= 0:
        raise InvalidAmount(
            f"interest {format_yuan(interest)} and fee {format_yuan(fee)} leave nothing of "
            f"the face {format_yuan(face)}"
        )
    return Discount(
        face_fen=face,
        days=days,
        annual_rate=rate,
        fee_rate=fee_fraction,
        interest_fen=interest,
        fee_fen=fee,
        proceeds_fen=proceeds,
    )


def penalty_interest(face_fen: int, *, since: date, through: date, annual_rate: Decimal) -> int:
    """Overdue penalty on ``face_fen`` for the days [since, through), act/360, half-up once."""
    face = require_positive(face_fen, "face amount")
    rate = _rate(annual_rate, "penalty rate")
    if through < since:
        raise InvalidDate(f"penalty period ends ({through}) before it starts ({since})")
    return _act_360(face, rate, (through - since).days)


def earned_discount(interest_fen: int, *, days: int, financed_on: date, through: date) -> int:
    """Discount interest earned by the end of ``through`` (straight line, half-up once)."""
    if days < 1:
        raise InvalidDate(f"a financing runs for at least one day, not {days}")
    if interest_fen < 0:
        raise InvalidAmount(f"discount interest cannot be negative: {interest_fen}")
    elapsed = min(max((through - financed_on).days + 1, 0), days)
    if elapsed == days:
        return interest_fen
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return round_fen(Decimal(interest_fen) * elapsed / days)
