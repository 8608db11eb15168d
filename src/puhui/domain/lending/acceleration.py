"""Acceleration (提前收回): a loan's whole outstanding principal falls due at once.

A lender recalls a loan early when post-loan monitoring finds the borrower's ability or will
to repay gone (the contract's cross-default and material-adverse-change clauses). The
principal's due date becomes the recall date and the interest accrued so far is settled and
due on it; from the next day unpaid amounts are overdue and run penalty interest as any
other. Nothing moves between ledger accounts: principal and interest receivable are the
same balances, only their due date changes.

A receipt's maturity moves to the recall date. A term loan is billed as if its last
instalment fell due on the recall date (the nightly billing's rule): the running period is
cut short, its interest to date and every principal not yet billed become one instalment
due that day, and nothing is left to run.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from puhui.domain.errors import Conflict, InvalidDate
from puhui.domain.lending.account import LoanAccount, LoanKind, LoanStatus
from puhui.domain.lending.schedule import ScheduledInstalment


class AccelerationRefused(Conflict):
    """The loan cannot be called in: it is not active."""

    code = "acceleration_refused"


def _check(account: LoanAccount, on: date) -> None:
    if account.status is not LoanStatus.ACTIVE:
        raise AccelerationRefused(
            f"{account.loan_id} is {account.status.value}: only an active loan is called in",
            details={"loan_id": account.loan_id, "status": account.status.value},
        )
    if on < account.disbursed_on:
        raise InvalidDate(f"recall date {on} is before the draw ({account.disbursed_on})")


def accelerate(account: LoanAccount, on: date) -> LoanAccount:
    """The receipt with everything it owes due on ``on`` (unchanged when already due)."""
    _check(account, on)
    if account.kind is not LoanKind.RECEIPT:
        raise AccelerationRefused(
            f"{account.loan_id} is a term loan: call it in with accelerate_term",
            details={"loan_id": account.loan_id},
        )
    if account.maturity_date <= on:
        return account
    return replace(account.settle_accrued(on), maturity_date=on, called_in_on=on)


def accelerate_term(
    account: LoanAccount, running: ScheduledInstalment | None, on: date
) -> tuple[LoanAccount, ScheduledInstalment | None]:
    """The term loan with every instalment due on ``on``, and the instalment that replaces
    the running one and all after it (None, and the loan unchanged, when nothing is left to
    fall due).

    ``running`` is the loan's instalment for its ``current_period`` as kept. The called-in
    instalment keeps that period number; its principal is everything not yet billed and its
    interest is the running period's interest accrued to date, so nothing is billed that was
    not earned and no accrual or ledger entry is needed. Like the nightly billing, it makes
    what is billed due on ``on`` (the older arrears stay overdue as they are) and moves the
    loan to the next period, of which there is none.
    """
    _check(account, on)
    if account.kind is not LoanKind.TERM:
        raise AccelerationRefused(
            f"{account.loan_id} is a receipt: call it in with accelerate",
            details={"loan_id": account.loan_id},
        )
    if account.next_due_date is None or account.maturity_date <= on:
        return account, None
    if running is None or running.period != account.current_period:
        raise AccelerationRefused(
            f"{account.loan_id} has no instalment kept for its running period "
            f"{account.current_period}",
            details={"loan_id": account.loan_id, "period": account.current_period},
        )
    started = running.due_date.toordinal() - running.period_days
    called = ScheduledInstalment(
        period=running.period,
        due_date=on,
        period_days=on.toordinal() - started,
        principal_fen=account.unbilled_principal_fen,
        interest_fen=account.interest_accrued_fen,
    )
    after = replace(
        account,
        interest_billed_fen=account.interest_billed_fen + account.interest_accrued_fen,
        interest_accrued_fen=0,
        interest_accum_fen_days=0,
        billed_principal_fen=account.outstanding_principal_fen,
        billed_due_on=on,
        maturity_date=on,
        called_in_on=on,
        current_period=account.current_period + 1,
        next_due_date=None,
        period_interest_fen=0,
        period_principal_fen=0,
        period_days=1,
        period_days_elapsed=0,
    )
    return after, called
