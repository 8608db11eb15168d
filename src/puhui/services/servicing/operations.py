"""What operations read of the nightly batch: end-of-day runs with their steps, the trial
balance (试算平衡) of the general ledger as of a date, and a closed day's repayments reconciled
with the collecting channel's file (还款对账), for the roles that hold ``LEDGER_READ``
(operations, risk officers, auditors)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from puhui.domain.errors import Conflict, InvalidInput
from puhui.domain.ledger import TrialBalance
from puhui.domain.lending.reconciliation import Reconciliation, parse_channel_file, reconcile
from puhui.services.security.permissions import Permission, Principal, require
from puhui.services.servicing.ports import EndOfDayRunRecord, ServicingUnitOfWork

MAX_RUNS_PAGE = 100


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
    reader: Callable[[], ServicingUnitOfWork],
    *,
    actor: Principal,
    value_date: date,
    channel_file: str,
) -> Reconciliation:
    """The channel's file of ``value_date`` against the repayments that stand in the books on
    that date (还款对账): matched, and every break by kind (``domain.lending.reconciliation``).

    Only a closed day is reconciled, when no repayment can still be posted on it or reversed.
    A malformed file is refused whole. Nothing is written: breaks are worked by posting the
    missing repayment or a correcting event, and reconciled again.
    """
    require(actor, Permission.LEDGER_READ)
    with reader() as uow:
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
    with reader() as uow:
        posted = uow.ledger.repayments_on(value_date)
    return reconcile(value_date, posted, payments)
