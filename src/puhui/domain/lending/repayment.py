"""Repayment allocation: dues are paid oldest first, by the waterfall within one due date."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from puhui.domain.errors import InvalidAmount, InvalidInput
from puhui.domain.lending.errors import Overpayment
from puhui.domain.lending.product import DEFAULT_WATERFALL, Component, validate_waterfall


@dataclass(frozen=True, slots=True)
class Due:
    """An amount owed for one component, falling due on ``due_date``."""

    due_date: date
    component: Component
    amount_fen: int

    def __post_init__(self) -> None:
        if not isinstance(self.component, Component):
            raise InvalidInput(f"due component must be a Component, got {self.component!r}")
        amount = self.amount_fen
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise InvalidAmount(f"a due amount must be a non-negative fen integer, got {amount!r}")


@dataclass(frozen=True, slots=True)
class AllocatedDue:
    due: Due
    paid_fen: int

    @property
    def unpaid_fen(self) -> int:
        return self.due.amount_fen - self.paid_fen


@dataclass(frozen=True, slots=True)
class Allocation:
    """How one payment was split, due by due, in the order it was applied."""

    amount_fen: int
    lines: tuple[AllocatedDue, ...]

    @property
    def by_component(self) -> dict[Component, int]:
        totals = dict.fromkeys(Component, 0)
        for line in self.lines:
            totals[line.due.component] += line.paid_fen
        return totals

    @property
    def paid_fen(self) -> int:
        return sum(line.paid_fen for line in self.lines)

    @property
    def remaining_dues(self) -> tuple[Due, ...]:
        """What is still owed after this payment, in allocation order (zero lines dropped)."""
        return tuple(
            Due(line.due.due_date, line.due.component, line.unpaid_fen)
            for line in self.lines
            if line.unpaid_fen > 0
        )


def order_dues(
    dues: Iterable[Due], waterfall: Sequence[Component] = DEFAULT_WATERFALL
) -> list[Due]:
    """Oldest due date first; within one date, by the waterfall (罚息 → 复利 → 利息 → 本金)."""
    rank = {component: i for i, component in enumerate(validate_waterfall(tuple(waterfall)))}
    # sorted() is stable: two dues with the same date and component keep the caller's order.
    return sorted(dues, key=lambda due: (due.due_date, rank[due.component]))


def allocate(
    amount_fen: int, dues: Iterable[Due], waterfall: Sequence[Component] = DEFAULT_WATERFALL
) -> Allocation:
    """Split a payment over dues; a payment above everything owed is refused, not kept."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise InvalidAmount(f"a payment must be a positive fen integer, got {amount_fen!r}")
    ordered = order_dues(dues, waterfall)
    outstanding = sum(due.amount_fen for due in ordered)
    if amount_fen > outstanding:
        raise Overpayment(amount_fen, outstanding)
    left = amount_fen
    lines: list[AllocatedDue] = []
    for due in ordered:
        paid = min(left, due.amount_fen)
        left -= paid
        lines.append(AllocatedDue(due, paid))
    return Allocation(amount_fen, tuple(lines))
