"""Credit lines (授信额度): limit, expiry, freeze and reduction; every draw is checked here."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from puhui.domain.errors import InvalidAmount, InvalidInput
from puhui.domain.lending.errors import InsufficientLimit, LineExpired, LineFrozen, Overpayment
from puhui.domain.money import MAX_FEN, format_yuan


def _require_fen(amount_fen: int, what: str, *, positive: bool) -> int:
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise InvalidAmount(f"{what} must be an integer number of fen, got {amount_fen!r}")
    if amount_fen < (1 if positive else 0) or amount_fen > MAX_FEN:
        sign = "positive" if positive else "non-negative"
        raise InvalidAmount(f"{what} must be {sign}, got {amount_fen} fen")
    return amount_fen


@dataclass(frozen=True, slots=True)
class CreditLine:
    """A line's limit and how much of it is drawn; draws allowed up to and on ``expires_on``.

    ``used_fen`` is outstanding principal across the line's receipts; a reduced limit can
    fall below it, which leaves nothing available but calls nothing in.
    """

    limit_fen: int
    expires_on: date
    used_fen: int = 0
    frozen: bool = False

    def __post_init__(self) -> None:
        _require_fen(self.limit_fen, "limit", positive=False)
        _require_fen(self.used_fen, "used amount", positive=False)
        if not isinstance(self.expires_on, date):
            raise InvalidInput(f"expiry must be a date, got {self.expires_on!r}")

    @property
    def available_fen(self) -> int:
        return max(0, self.limit_fen - self.used_fen)

    def is_expired(self, on: date) -> bool:
        return on > self.expires_on

    def check_draw(self, amount_fen: int, on: date) -> None:
        """Refuse a draw on a frozen or expired line, or above what is available."""
        _require_fen(amount_fen, "draw amount", positive=True)
        if self.frozen:
            raise LineFrozen("the credit line is frozen: no draws until it is unfrozen")
        if self.is_expired(on):
            raise LineExpired(
                f"the credit line expired on {self.expires_on.isoformat()}; draw date {on}",
                details={"expires_on": self.expires_on.isoformat(), "on": on.isoformat()},
            )
        if amount_fen > self.available_fen:
            raise InsufficientLimit(amount_fen, self.available_fen)

    def draw(self, amount_fen: int, on: date) -> CreditLine:
        self.check_draw(amount_fen, on)
        return replace(self, used_fen=self.used_fen + amount_fen)

    def repay(self, principal_fen: int) -> CreditLine:
        """Repaid principal restores the available limit (a revolving line)."""
        _require_fen(principal_fen, "repaid principal", positive=True)
        if principal_fen > self.used_fen:
            raise Overpayment(principal_fen, self.used_fen)
        return replace(self, used_fen=self.used_fen - principal_fen)

    def freeze(self) -> CreditLine:
        return replace(self, frozen=True)

    def unfreeze(self) -> CreditLine:
        return replace(self, frozen=False)

    def reduce_limit(self, new_limit_fen: int) -> CreditLine:
        _require_fen(new_limit_fen, "new limit", positive=False)
        if new_limit_fen > self.limit_fen:
            raise InvalidInput(
                f"a reduction cannot raise the limit from {format_yuan(self.limit_fen)} "
                f"to {format_yuan(new_limit_fen)}"
            )
        return replace(self, limit_fen=new_limit_fen)
