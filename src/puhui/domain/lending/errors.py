"""Errors of the lending rules, each named after the rule it guards and with a stable code."""

from __future__ import annotations

from typing import Any

from puhui.domain.errors import Conflict, InvalidAmount, InvalidDate, InvalidInput, InvalidRate
from puhui.domain.money import format_yuan


class InvalidProduct(InvalidInput):
    """A product definition contradicts itself (min above max, unknown waterfall, ...)."""

    code = "invalid_product"


class AmountOutOfRange(InvalidAmount):
    code = "amount_out_of_range"


class RateOutOfRange(InvalidRate):
    code = "rate_out_of_range"


class TermOutOfRange(InvalidInput):
    code = "term_out_of_range"


class MethodNotSupported(InvalidInput):
    """The operation has no meaning for this repayment method (a schedule for a revolving line)."""

    code = "method_not_supported"


class EventOutOfOrder(InvalidDate):
    """Money events must be applied in date order; a backdated event needs a reversal."""

    code = "event_out_of_order"


class Overpayment(InvalidAmount):
    """A payment larger than what is owed is refused: the surplus has nowhere to go."""

    code = "overpayment"

    def __init__(
        self,
        amount_fen: int,
        outstanding_fen: int,
        *,
        message: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.amount_fen = amount_fen
        self.outstanding_fen = outstanding_fen
        text = message or (
            f"payment {format_yuan(amount_fen)} exceeds the outstanding "
            f"{format_yuan(outstanding_fen)}"
        )
        merged = {"amount_fen": amount_fen, "outstanding_fen": outstanding_fen}
        merged.update(details or {})
        super().__init__(text, details=merged)


class LineFrozen(Conflict):
    code = "line_frozen"


class LineExpired(Conflict):
    code = "line_expired"


class InsufficientLimit(Conflict):
    """A draw above the available limit of a credit line."""

    code = "insufficient_limit"

    def __init__(self, amount_fen: int, available_fen: int) -> None:
        self.amount_fen = amount_fen
        self.available_fen = available_fen
        super().__init__(
            f"draw {format_yuan(amount_fen)} exceeds the available limit "
            f"{format_yuan(available_fen)}",
            details={"amount_fen": amount_fen, "available_fen": available_fen},
        )
