"""End of day: accrual, settlement, overdue, DPD, classification and GL postings, once per date.

The job is set-based: each step is a few statements over all receipts and term loans, run
by the store (SQL in the database). This module decides the order, refuses to skip a date,
resumes a crashed run at its first unfinished step, and turns the per-product accrual totals
into general-ledger entries.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from puhui.domain.errors import Conflict, InvalidDate
from puhui.domain.ledger import Account, JournalEntry
from puhui.domain.progress import NO_PROGRESS, Progress
from puhui.services.servicing.end_of_day import (
    STEPS,
    AccrualKind,
    AccrualTotal,
    EndOfDayStore,
    Step,
)

logger = logging.getLogger(__name__)


class EndOfDaySkipped(Conflict):
    """A date was skipped: every business date must be closed in order."""

    code = "end_of_day_skipped"


class EndOfDayUnfinished(Conflict):
    code = "end_of_day_unfinished"


@dataclass(frozen=True, slots=True)
class EndOfDayReport:
    as_of: date
    already_completed: bool
    resumed: bool
    rows_by_step: dict[str, int] = field(default_factory=dict)


def run_end_of_day(
    store: EndOfDayStore, as_of: date, progress: Progress = NO_PROGRESS
) -> EndOfDayReport:
    """Close ``as_of``: idempotent (a completed date changes nothing), resumable, in order.

    The first run may start on any date; after that each run must be the day after the last.
    ``progress`` hears of each step.
    """
    current = store.run(as_of)
    if current is not None and current.completed:
        logger.info("end of day %s already completed: nothing to do", as_of)
        return EndOfDayReport(as_of=as_of, already_completed=True, resumed=False)
    last = store.last_run()
    resumed = current is not None
    if current is None and last is not None:
        if not last.completed:
            raise EndOfDayUnfinished(
                f"end of day for {last.as_of} is unfinished: run it again to resume first",
                details={"unfinished_date": last.as_of.isoformat()},
            )
        expected = last.as_of + timedelta(days=1)
        if as_of < expected:
            raise InvalidDate(
                f"{as_of} is before the last closed business date {last.as_of}",
                details={"last_run": last.as_of.isoformat()},
            )
        if as_of > expected:
            raise EndOfDaySkipped(
                f"end of day for {expected.isoformat()} has not run: run it before {as_of}",
                details={"missing_date": expected.isoformat()},
            )
    if current is None:
        store.start(as_of)
    done = current.steps_done if current is not None else frozenset()
    rows: dict[str, int] = {}
    progress.start(sum(1 for step in STEPS if step not in done), f"end of day {as_of}")
    for step in STEPS:
        if step in done:
            continue
        progress.stage(step.value)
        if step is Step.POST_LEDGER:
            entries = ledger_entries(as_of, store.accrual_totals(as_of))
            rows[step.value] = store.post_ledger(as_of, entries)
        else:
            rows[step.value] = store.run_step(as_of, step)
        logger.info("end of day %s: %s done (%d rows)", as_of, step.value, rows[step.value])
        progress.advance()
    store.complete(as_of)
    return EndOfDayReport(as_of=as_of, already_completed=False, resumed=resumed, rows_by_step=rows)


def ledger_entries(as_of: date, totals: Sequence[AccrualTotal]) -> list[JournalEntry]:
    """One entry per product, kind and book: accrual is income; past 90 DPD it is memo."""
    entries: list[JournalEntry] = []
    for total in sorted(totals, key=lambda t: (t.product_id, t.kind.value, t.memo)):
        interest, penalty = total.interest_fen, total.penalty_fen
        if total.kind is AccrualKind.ACCRUAL and not total.memo:
            suffix, description = "accrual", "daily accrual"
            amounts = [
                (Account.INTEREST_RECEIVABLE, interest),
                (Account.INTEREST_INCOME, -interest),
                (Account.PENALTY_RECEIVABLE, penalty),
                (Account.PENALTY_INCOME, -penalty),
            ]
        elif total.kind is AccrualKind.ACCRUAL:
            suffix, description = "memo-accrual", "daily accrual off-balance (non-accrual)"
            amounts = [
                (Account.NON_ACCRUAL_MEMO, interest + penalty),
                (Account.NON_ACCRUAL_MEMO_CONTRA, -(interest + penalty)),
            ]
        else:
            suffix, description = "non-accrual", "interest owed moved off-balance beyond 90 DPD"
            amounts = [
                (Account.INTEREST_INCOME, interest),
                (Account.INTEREST_RECEIVABLE, -interest),
                (Account.PENALTY_INCOME, penalty),
                (Account.PENALTY_RECEIVABLE, -penalty),
                (Account.NON_ACCRUAL_MEMO, interest + penalty),
                (Account.NON_ACCRUAL_MEMO_CONTRA, -(interest + penalty)),
            ]
        if interest == 0 and penalty == 0:
            continue
        entries.append(
            JournalEntry.build(
                f"eod:{as_of.isoformat()}:{total.product_id}:{suffix}",
                as_of,
                f"{description}, product {total.product_id}, {as_of.isoformat()}",
                amounts,
            )
        )
    return entries
