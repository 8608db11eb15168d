"""Use case: a loan's 2023 category from its history (DPD, contract changes, repayments)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from puhui.domain.errors import NotFound
from puhui.domain.lending.loan_changes import (
    LoanHistory,
    classify_with_history,
    missed_repayment,
)
from puhui.services.loan_changes.changes import UowFactory
from puhui.services.loan_changes.ports import ChangeStatus


@dataclass(frozen=True, slots=True)
class LoanClassification:
    loan_id: str
    as_of: date
    category: str
    label_zh: str
    dpd_floor: str
    days_past_due: int
    reasons: tuple[str, ...]
    in_observation: bool
    observation_ends_on: date | None
    stored_category: str
    """The category the last end of day stored."""
    renewed_from: str | None
    """The loan this one renewed (无还本续贷), flagged for reporting; never a downgrade."""
    loan_kind: str = "term"
    """``term`` or ``receipt`` (a draw on a credit line): which changes it can have."""
    called_in_on: date | None = None
    """The day the bank called the loan in early (提前收回), if it did: it can no longer be
    extended, only restructured."""


def classify_loan(uow_factory: UowFactory, loan_id: str, as_of: date) -> LoanClassification:
    """Classify one loan by the 2023 rules. Missed repayments known today are the unpaid
    overdue ones (``overdue_since``); see docs/loan-changes.md for what is not yet kept."""
    with uow_factory() as uow:
        loan = uow.loans.get(loan_id)
        if loan is None:
            raise NotFound(f"no loan {loan_id}", details={"loan_id": loan_id})
        records = [c for c in uow.changes.of_loan(loan_id) if c.status == ChangeStatus.APPROVED]
        dates = tuple(i.due_date for i in uow.instalments.schedule(loan_id))
    missed_on = missed_repayment(loan.overdue_since, dates)
    missed = frozenset() if missed_on is None else frozenset({missed_on})
    own = tuple(c.as_contract_change() for c in records if c.loan_id == loan_id)
    result = classify_with_history(
        LoanHistory(
            days_past_due=loan.days_past_due,
            changes=own,
            repayment_dates=dates,
            missed_dates=missed,
            previous=loan.category,
            grace_days=loan.grace_days,
        ),
        as_of,
    )
    renewed_from = next((c.loan_id for c in records if c.new_loan_id == loan_id), None)
    return LoanClassification(
        loan_id=loan_id,
        as_of=as_of,
        category=result.category.value,
        label_zh=result.category.label_zh,
        dpd_floor=result.dpd_floor.value,
        days_past_due=loan.days_past_due,
        reasons=tuple(r.value for r in result.reasons),
        in_observation=result.in_observation,
        observation_ends_on=result.observation_ends_on,
        stored_category=loan.category.value,
        renewed_from=renewed_from,
        loan_kind=loan.kind.value,
        called_in_on=loan.called_in_on,
    )
