"""Ports of the end of day: its steps, run state, sub-ledger totals and the store that runs them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Protocol

from puhui.domain.ledger import JournalEntry


class Step(Enum):
    ACCRUE = "accrue"
    """Overdue transitions, DPD, accrual (积数 for receipts, pro rata for term loans),
    settlement on the 20th and at maturity, term-loan instalments billed the night before."""
    CLASSIFY = "classify"
    """Five-category classification with history; non-accrual beyond 90 DPD."""
    POST_LEDGER = "post_ledger"
    """General-ledger entries aggregated per product and day from the sub-ledger."""
    REPORT = "report"
    """The day's portfolio aggregates for the dashboards (balances, DPD buckets, roll rates,
    five categories, vintages, origination), rebuilt whole for the date."""


STEPS: tuple[Step, ...] = (Step.ACCRUE, Step.CLASSIFY, Step.POST_LEDGER, Step.REPORT)


class AccrualKind(Enum):
    ACCRUAL = "accrual"
    NON_ACCRUAL = "non_accrual"
    """Interest owed moved off the income statement when a loan passes 90 DPD."""


@dataclass(frozen=True, slots=True)
class AccrualTotal:
    """The day's sub-ledger totals of one product, for one kind and on- or off-balance."""

    product_id: str
    kind: AccrualKind
    memo: bool
    interest_fen: int
    penalty_fen: int
    """Penalty plus compound interest: one receivable account holds both."""


@dataclass(frozen=True, slots=True)
class RunState:
    as_of: date
    completed: bool
    steps_done: frozenset[Step]


class EndOfDayStore(Protocol):
    """Storage of the end of day. Each method is its own transaction, committed on return."""

    def last_run(self) -> RunState | None:
        """The latest run by date (completed or not)."""
        ...

    def run(self, as_of: date) -> RunState | None: ...

    def start(self, as_of: date) -> None: ...

    def run_step(self, as_of: date, step: Step) -> int:
        """Run one set-based step and record it done, atomically; returns rows changed."""
        ...

    def accrual_totals(self, as_of: date) -> list[AccrualTotal]: ...

    def post_ledger(self, as_of: date, entries: Sequence[JournalEntry]) -> int:
        """Post the entries and record the ledger step done, atomically."""
        ...

    def complete(self, as_of: date) -> None: ...
