"""Acceleration (提前收回): a receipt's whole outstanding principal falls due at once.

A lender recalls a loan early when post-loan monitoring finds the borrower's ability or will
to repay gone (the contract's cross-default and material-adverse-change clauses). The
principal's due date becomes the recall date and the interest accrued so far is settled and
due on it; from the next day unpaid amounts are overdue and run penalty interest as any
other. Nothing moves between ledger accounts: principal and interest receivable are the
same balances, only their due date changes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from puhui.domain.errors import Conflict, InvalidDate
from puhui.domain.lending.account import LoanAccount, LoanKind, LoanStatus


class AccelerationRefused(Conflict):
    """The loan cannot be called in: it is not an active receipt."""

    code = "acceleration_refused"


def accelerate(account: LoanAccount, on: date) -> LoanAccount:
    """The receipt with everything it owes due on ``on`` (unchanged when already due)."""
    if account.status is not LoanStatus.ACTIVE:
        raise AccelerationRefused(
            f"{account.loan_id} is {account.status.value}: only an active loan is called in",
            details={"loan_id": account.loan_id, "status": account.status.value},
        )
    if account.kind is not LoanKind.RECEIPT:
        raise AccelerationRefused(
            f"{account.loan_id} is a term loan: only receipts are called in early",
            details={"loan_id": account.loan_id},
        )
    if on < account.disbursed_on:
        raise InvalidDate(f"recall date {on} is before the draw ({account.disbursed_on})")
    if account.maturity_date <= on:
        return account
    return replace(account.settle_accrued(on), maturity_date=on)
