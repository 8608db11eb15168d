"""What operations read of the nightly batch: end-of-day runs with their steps, the trial
balance (试算平衡) of the general ledger as of a date, and a closed day's repayments reconciled
with the collecting channel's file (还款对账), for the roles that hold ``LEDGER_READ``
(operations, risk officers, auditors). Each reconciliation is recorded, with the file's digest
and its breaks, so that who checked which day against which file stays on the record."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from datetime import date

from puhui.domain.errors import Conflict, InvalidIdentifier, InvalidInput, NotFound
from puhui.domain.ids import new_id
from puhui.domain.ledger import TrialBalance
from puhui.domain.lending.reconciliation import (
    ReconciliationRun,
    parse_channel_file,
    reconcile,
)
from puhui.domain.lending.suspense import acknowledged
from puhui.services.audit import record
from puhui.services.security.permissions import Permission, Principal, require
from puhui.services.servicing.ports import EndOfDayRunRecord, ServicingUnitOfWork

MAX_RUNS_PAGE = 100
MAX_FILE_NAME = 255
RUN_ID = re.compile(r"^rcn_[0-9A-HJKMNP-TV-Z]{26}$")


def end_of_day_runs(
    reader: Callable[[], ServicingUnitOfWork],
    *,
    actor: Principal,
    limit: int = 30,
    offset: int = 0,
) -> list[EndOfDayRunRecord]:
    """End-of-day runs, latest business date first, each with the steps it finished."""
    require(actor, Permission.LEDGER_READ)
    if not 1 <= limit <= MAX_RUNS_PAGE or offset < 0:
        raise InvalidInput(f"a page holds 1 to {MAX_RUNS_PAGE} runs", details={"field": "limit"})
    with reader() as uow:
        return uow.business_days.runs(limit=limit, offset=offset)


def ledger_trial_balance(
    reader: Callable[[], ServicingUnitOfWork], *, actor: Principal, as_of: date
) -> TrialBalance:
    """Balances per account as of ``as_of`` (debit positive); a sound ledger sums to zero."""
    require(actor, Permission.LEDGER_READ)
    with reader() as uow:
        return uow.ledger.trial_balance(as_of)


def last_closed_date(reader: Callable[[], ServicingUnitOfWork], *, actor: Principal) -> date | None:
    """The latest business date whose end of day completed (the trial balance's default)."""
    require(actor, Permission.LEDGER_READ)
    with reader() as uow:
        return uow.business_days.last_completed()


class DayNotClosed(Conflict):
    """The value date's end of day has not run: more repayments may still be posted on it."""

    code = "day_not_closed"


def reconcile_repayments(
    units: Callable[[], ServicingUnitOfWork],
    *,
    actor: Principal,
    value_date: date,
    channel_file: str,
    file_name: str | None = None,
    reader: Callable[[], ServicingUnitOfWork] | None = None,
) -> ReconciliationRun:
    """The channel's file of ``value_date`` against the repayments that stand in the books on
    that date (还款对账): matched, and every break by kind (``domain.lending.reconciliation``).

    Only a closed day is reconciled, when no repayment can still be posted on it or reversed.
    A malformed file is refused whole, and nothing is recorded. Otherwise the run is recorded
    (the file's SHA-256 and name, the totals, each break) and audited as
    ``repayments.reconciled``, in one transaction. The books are not changed: breaks are
    worked by posting the missing repayment or a correcting event, and reconciled again.
    ``reader`` (a read-only unit of work) reads the books when given.
    """
    require(actor, Permission.LEDGER_READ)
    name = _file_name(file_name)
    read = reader or units
    with read() as uow:
        closed = uow.business_days.last_closed()
    if closed is None or value_date > closed:
        raise DayNotClosed(
            f"business day {value_date} is still open (end of day ran through "
            f"{closed or 'no day yet'}): reconcile it after its end of day",
            details={
                "value_date": value_date.isoformat(),
                "last_closed": None if closed is None else closed.isoformat(),
            },
        )
    # A closed day no longer changes: the file is read between two short transactions.
    payments = parse_channel_file(channel_file, value_date=value_date)
    with read() as uow:
        # Money held in suspense was collected that day: the books acknowledge it there.
        posted = acknowledged(
            uow.ledger.repayments_on(value_date), uow.suspense.valued_on(value_date)
        )
    found = reconcile(value_date, posted, payments)
    with units() as uow:
        run = ReconciliationRun.of(
            found,
            run_id=new_id("rcn"),
            file_sha256=hashlib.sha256(channel_file.encode("utf-8")).hexdigest(),
            file_name=name,
            reconciled_by=actor.user_id,
            reconciled_at=uow.clock.now(),
        )
        uow.reconciliations.add(run)
        record(
            uow,
            actor=actor.user_id,
            action="repayments.reconciled",
            entity="repayment_reconciliation",
            entity_id=run.run_id,
            payload={
                "value_date": value_date.isoformat(),
                "file_sha256": run.file_sha256,
                "file_name": name,
                "matched": run.matched,
                "ours_count": run.ours_count,
                "theirs_count": run.theirs_count,
                "breaks": run.break_counts(),
            },
        )
        uow.commit()
    return run


def _file_name(file_name: str | None) -> str | None:
    if file_name is None:
        return None
    name = file_name.strip()
    if not name:
        return None
    if len(name) > MAX_FILE_NAME or not name.isprintable():
        raise InvalidInput(
            f"the file name must be at most {MAX_FILE_NAME} printable characters",
            details={"field": "file_name"},
        )
    return name


def reconciliation_runs(
    reader: Callable[[], ServicingUnitOfWork],
    *,
    actor: Principal,
    value_date: date | None = None,
    limit: int = 20,
    offset: int = 0,
) -> list[ReconciliationRun]:
    """Recorded reconciliations, the latest first (of one value date when given), without
    their breaks."""
    require(actor, Permission.LEDGER_READ)
    if not 1 <= limit <= MAX_RUNS_PAGE or offset < 0:
        raise InvalidInput(
            f"a page holds 1 to {MAX_RUNS_PAGE} reconciliations", details={"field": "limit"}
        )
    with reader() as uow:
        return uow.reconciliations.page(value_date=value_date, limit=limit, offset=offset)


def latest_reconciliations(
    reader: Callable[[], ServicingUnitOfWork], *, actor: Principal, days: Sequence[date]
) -> dict[date, ReconciliationRun]:
    """The standing of each of these value dates: its latest recorded reconciliation, for the
    days that have one (the others have not been reconciled)."""
    require(actor, Permission.LEDGER_READ)
    if len(days) > MAX_RUNS_PAGE:
        raise InvalidInput(f"at most {MAX_RUNS_PAGE} days at a time", details={"field": "days"})
    with reader() as uow:
        return uow.reconciliations.latest_of_days(days)


def checked_run_id(run_id: str) -> str:
    """``run_id`` when it is a reconciliation's id, else ``InvalidIdentifier``."""
    if not RUN_ID.fullmatch(run_id):
        raise InvalidIdentifier(
            f"not a reconciliation id (rcn_ and 26 characters): {run_id[:60]!r}",
            details={"field": "run_id"},
        )
    return run_id


def reconciliation_run(
    reader: Callable[[], ServicingUnitOfWork], *, actor: Principal, run_id: str
) -> ReconciliationRun:
    """A recorded reconciliation with its breaks."""
    require(actor, Permission.LEDGER_READ)
    checked_run_id(run_id)
    with reader() as uow:
        found = uow.reconciliations.get(run_id)
    if found is None:
        raise NotFound(f"no reconciliation {run_id}", details={"run_id": run_id})
    return found
