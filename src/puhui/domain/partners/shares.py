"""Pro-rata shares between the bank and a partner: partner = x × S half-up, bank = remainder.

One rounding rule for every component (principal, interest, fees, losses, recoveries): the
partner's part is the component times the partner share, rounded half-up to the fen; the
bank's part is what is left, so the two always add up to the component exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from puhui.domain.errors import InvalidAmount
from puhui.domain.money import Fen, Rounding, fen, round_fen
from puhui.domain.partners.errors import BankShareBelowMinimum, InvalidPartnerShare

BANK_MINIMUM_SHARE = Decimal("0.30")
"""The bank keeps at least 30 % of every jointly funded loan (联合贷款出资比例)."""

MAX_PARTNER_SHARE = Decimal(1) - BANK_MINIMUM_SHARE


@dataclass(frozen=True, slots=True)
class Split:
    """One component split in two: ``partner_fen + bank_fen == total_fen`` always."""

    total_fen: Fen
    partner_fen: Fen
    bank_fen: Fen


def parse_partner_share(text: str | Decimal) -> Decimal:
    """Parse a partner's funding share (a fraction, "0.3"), refusing floats and nonsense.

    Zero is allowed (the bank funds all, as in facilitation); above 0.7 leaves the bank under
    its 30 % minimum and is refused with :class:`BankShareBelowMinimum`.
    """
    if not isinstance(text, (str, Decimal)):
        raise InvalidPartnerShare(
            f"a partner share must be a decimal string, not {type(text).__name__}"
        )
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise InvalidPartnerShare(f"partner share is not a decimal number: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise InvalidPartnerShare(
            f"partner share must be a fraction from 0 to {MAX_PARTNER_SHARE}, got {text!r}"
        )
    return require_partner_share(value)


def require_partner_share(share: Decimal) -> Decimal:
    """Check a share already parsed: from 0 up to 0.7, so the bank keeps at least 30 %."""
    if not share.is_finite() or share < 0:
        raise InvalidPartnerShare(f"partner share must not be negative, got {share}")
    if share > MAX_PARTNER_SHARE:
        raise BankShareBelowMinimum(
            f"partner share {share} leaves the bank {Decimal(1) - share}, under its minimum "
            f"of {BANK_MINIMUM_SHARE}; the partner may fund at most {MAX_PARTNER_SHARE}"
        )
    return share


def partner_part(amount_fen: int, share: Decimal) -> Fen:
    """The partner's part of one amount: amount × share, rounded half-up to the fen.

    Negative amounts (reversals) round half away from zero like positive ones, so a reversal
    splits to exactly the negation of the original.
    """
    value = fen(amount_fen)
    if not share.is_finite() or share < 0 or share > 1:
        raise InvalidPartnerShare(f"a share must be a fraction between 0 and 1, got {share}")
    return round_fen(Decimal(value) * share, Rounding.HALF_UP)


def split(amount_fen: int, share: Decimal) -> Split:
    """Split one amount: the partner gets amount × share half-up, the bank the remainder."""
    partner = partner_part(amount_fen, share)
    total = fen(amount_fen)
    return Split(total_fen=total, partner_fen=partner, bank_fen=Fen(total - partner))


def split_all(amounts_fen: dict[str, int], share: Decimal) -> dict[str, Split]:
    """Split each named component independently with the same rule."""
    for name, amount in amounts_fen.items():
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InvalidAmount(f"{name} must be an integer amount of fen, got {amount!r}")
    return {name: split(amount, share) for name, amount in amounts_fen.items()}
