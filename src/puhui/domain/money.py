"""Exact money: amounts are integers in fen, rates are Decimal, rounding happens here only."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from enum import Enum
from typing import NewType

from puhui.domain.errors import InvalidAmount, InvalidRate

Fen = NewType("Fen", int)
"""An amount of renminbi in fen (0.01 CNY). Always an ``int``; never a float."""

FEN_PER_YUAN = 100
MAX_FEN = 2**63 - 1
"""Amounts are stored as BIGINT; anything larger is refused as a mistake, never wrapped."""
_CENT = Decimal("0.01")


class Rounding(Enum):
    """Rounding rules a product may choose; half-up (四舍五入) is the default."""

    HALF_UP = "half-up"
    HALF_EVEN = "half-even"

    @property
    def decimal_mode(self) -> str:
        return ROUND_HALF_UP if self is Rounding.HALF_UP else ROUND_HALF_EVEN


def round_fen(amount_fen: Decimal, rounding: Rounding = Rounding.HALF_UP) -> Fen:
    """Round an exact amount expressed in fen to a whole fen. The one rounding function."""
    if not amount_fen.is_finite():
        raise InvalidAmount(f"amount must be a finite number, got {amount_fen}")
    return Fen(int(amount_fen.quantize(Decimal(1), rounding=rounding.decimal_mode)))


def fen(value: int) -> Fen:
    """Accept an integer amount of fen, refusing bools and other types."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(f"amount in fen must be an integer, got {value!r}")
    if abs(value) > MAX_FEN:
        raise InvalidAmount(f"amount {value} fen is out of range")
    return Fen(value)


def parse_yuan(text: str | int | Decimal) -> Fen:
    """Parse a yuan amount given as a decimal string ("1234.56") into fen, exactly.

    More than two decimal places is refused rather than rounded: an amount that cannot be
    paid in fen is a mistake upstream, not something to hide.
    """
    if isinstance(text, (bool, float)):
        raise InvalidAmount(
            f"amounts must be decimal strings or integers, not {type(text).__name__}"
        )
    try:
        value = Decimal(str(text).strip().replace(",", ""))
    except InvalidOperation:
        raise InvalidAmount(f"not a decimal amount: {text!r}") from None
    if not value.is_finite():
        raise InvalidAmount(f"amount must be finite, got {text!r}")
    scaled = value * FEN_PER_YUAN
    if scaled != scaled.to_integral_value():
        raise InvalidAmount(f"amount has more than two decimal places: {text!r}")
    if abs(scaled) > MAX_FEN:
        raise InvalidAmount(f"amount is out of range: {text!r}")
    return Fen(int(scaled))


def format_yuan(amount_fen: int) -> str:
    """Render fen as a yuan decimal string with exactly two places ("-12.05")."""
    sign = "-" if amount_fen < 0 else ""
    whole, part = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{part:02d}"


def to_yuan(amount_fen: int) -> Decimal:
    """Fen as an exact Decimal number of yuan (for reports and JSON)."""
    return (Decimal(amount_fen) / FEN_PER_YUAN).quantize(_CENT)


def require_positive(amount_fen: int, what: str = "amount") -> Fen:
    value = fen(amount_fen)
    if value <= 0:
        raise InvalidAmount(f"{what} must be positive, got {format_yuan(value)}")
    return value


def require_non_negative(amount_fen: int, what: str = "amount") -> Fen:
    value = fen(amount_fen)
    if value < 0:
        raise InvalidAmount(f"{what} must not be negative, got {format_yuan(value)}")
    return value


def parse_rate(text: str | Decimal | int, *, what: str = "annual rate") -> Decimal:
    """Parse a rate as an exact Decimal fraction (0.0435 = 4.35%), refusing floats and nonsense.

    Rates are fractions, not percentages: 4.35 would be 435% and is refused above 100%.
    """
    if isinstance(text, (bool, float)):
        raise InvalidRate(f"{what} must be a decimal string, not {type(text).__name__}")
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise InvalidRate(f"{what} is not a decimal number: {text!r}") from None
    if not value.is_finite() or value < 0 or value > 1:
        raise InvalidRate(f"{what} must be a fraction between 0 and 1, got {text!r}")
    return value
