"""Exact interest arithmetic in fen: nothing here rounds, callers round once with round_fen."""

from __future__ import annotations

from decimal import Context, Decimal

MONTHS_PER_YEAR = 12

# Sixty significant digits keep every quotient far from a half-fen tie it does not really
# have: the default 28 could turn x.4999... into x.5 for balances in the trillions.
_EXACT = Context(prec=60)


def interest_for_days_fen(
    balance_fen: int, annual_rate: Decimal, days: int, days_in_year: int
) -> Decimal:
    """Unrounded interest in fen on a constant balance for ``days`` days."""
    return balance_days_interest_fen(balance_fen * days, annual_rate, days_in_year)


def balance_days_interest_fen(
    balance_days_fen: int, annual_rate: Decimal, days_in_year: int
) -> Decimal:
    """Unrounded interest on an accumulated balance × days (积数) in fen-days."""
    product = _EXACT.multiply(Decimal(balance_days_fen), annual_rate)
    return _EXACT.divide(product, Decimal(days_in_year))


def monthly_interest_fen(balance_fen: int, annual_rate: Decimal) -> Decimal:
    """Unrounded interest in fen for one regular month at annual/12, whatever its days."""
    product = _EXACT.multiply(Decimal(balance_fen), annual_rate)
    return _EXACT.divide(product, Decimal(MONTHS_PER_YEAR))


def monthly_rate(annual_rate: Decimal) -> Decimal:
    return _EXACT.divide(annual_rate, Decimal(MONTHS_PER_YEAR))


def annuity_payment_fen(principal_fen: int, annual_rate: Decimal, periods: int) -> Decimal:
    """Unrounded level payment (EMI) in fen: P·r / (1 − (1 + r)^−n), or P/n at zero rate."""
    if annual_rate == 0:
        return _EXACT.divide(Decimal(principal_fen), Decimal(periods))
    rate = monthly_rate(annual_rate)
    growth = _EXACT.power(_EXACT.add(Decimal(1), rate), periods)
    numerator = _EXACT.multiply(_EXACT.multiply(Decimal(principal_fen), rate), growth)
    return _EXACT.divide(numerator, _EXACT.subtract(growth, Decimal(1)))


def multiply(left: Decimal, right: Decimal) -> Decimal:
    return _EXACT.multiply(left, right)


def divide(dividend: Decimal, divisor: Decimal) -> Decimal:
    return _EXACT.divide(dividend, divisor)
