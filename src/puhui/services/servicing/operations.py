"""What operations read of the nightly batch: end-of-day runs with their steps, and the
trial balance (试算平衡) of the general ledger as of a date, for the roles that hold
``LEDGER_READ`` (operations, risk officers, auditors)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from puhui.domain.errors import InvalidInput
from puhui.domain.ledger import TrialBalance
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
