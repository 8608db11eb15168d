"""Bodies of loan changes: extension (展期), restructuring (重组), renewal (无还本续贷), 2023
classification. Money is yuan strings with exactly two places out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from puhui.domain.lending.account import Arrears
from puhui.domain.money import format_yuan
from puhui.services.loan_changes.changes import ChangeResult
from puhui.services.loan_changes.classification import LoanClassification
from puhui.services.loan_changes.ports import LoanChangeRecord, LoanStanding, PendingChange
from puhui.services.loan_changes.renewals import RenewalResult
from puhui.web.schemas.common import IsoDate, Strict

Reason = Annotated[str, Field(min_length=1, max_length=500)]
Months = Annotated[int, Field(ge=1, le=600)]


class ExtensionIn(Strict):
    extension_months: Months
    reason: Reason
    in_difficulty: bool = False
    """A debtor in financial difficulty: the extension is a restructuring for classification."""
    on: IsoDate | None = None


class RestructuringIn(Strict):
    new_term_months: Months
    reason: Reason
    on: IsoDate | None = None
    new_annual_rate: str | None = Field(
        default=None,
        pattern=r"^0\.[0-9]{1,6}$",
        description="the contract rate from the next period on, a decimal fraction (0.0385); "
        "omitted: the rate is kept",
    )


class ApproveIn(Strict):
    on: IsoDate | None = None


class RejectIn(Strict):
    reason: Reason


class RenewalIn(Strict):
    term_months: Months
    reason: Reason
    on: IsoDate | None = None


class ArrearsOut(BaseModel):
    """What an approved restructuring brought into the new schedule (re-ageing): the principal
    billed or overdue, re-amortised; the interest and the penalties billed, now due with the
    first new instalment; when the loan had fallen overdue and how many days past due it was."""

    principal: str
    interest: str
    penalty: str
    overdue_since: date | None
    days_past_due: int


class ChangeOut(BaseModel):
    change_id: str
    loan_id: str
    kind: str
    status: str
    in_difficulty: bool
    effective_on: date
    maturity_before: date
    maturity_after: date | None
    observation_ends_on: date | None
    requested_by: str
    approved_by: str | None
    new_loan_id: str | None = None
    principal: str | None = None
    reason: str | None = None
    new_annual_rate: str | None = None
    arrears_brought_forward: ArrearsOut | None = None
    """A restructuring of a loan in arrears: what went into the new schedule (None: nothing)."""
    rejected_by: str | None = None
    rejected_at: datetime | None = None
    rejection_reason: str | None = None
    """Why a rejected change was rejected (None: not rejected, or rejected before the reason
    was kept on the change)."""


class LoanTodayOut(BaseModel):
    """The changed loan as it stands now: outstanding principal, principal and interest past
    due, penalty and compound interest owed, days past due, the category end of day stored."""

    outstanding_principal: str
    past_due_principal: str
    past_due_interest: str
    penalty: str
    days_past_due: int
    category: str
    status: str


class PendingChangeOut(ChangeOut):
    loan_today: LoanTodayOut | None
    """The loan as it stands now (None: the loan is no longer on the books)."""


class RenewalOut(BaseModel):
    loan_id: str
    decision: str
    reasons: list[str]
    rules_version: str
    change_id: str | None
    new_loan_id: str | None
    principal: str
    starts_on: date | None
    maturity_date: date | None


class ClassificationOut(BaseModel):
    loan_id: str
    as_of: date
    category: str
    label_zh: str
    dpd_floor: str
    days_past_due: int
    reasons: list[str]
    in_observation: bool
    observation_ends_on: date | None
    stored_category: str
    renewed_from: str | None
    called_in_on: date | None = Field(
        default=None, description="the day the bank called the loan in early, if it did"
    )


def change_out(result: ChangeResult) -> ChangeOut:
    return ChangeOut(
        change_id=result.change_id,
        loan_id=result.loan_id,
        kind=result.kind,
        status=result.status,
        in_difficulty=result.in_difficulty,
        effective_on=date.fromisoformat(result.effective_on),
        maturity_before=date.fromisoformat(result.maturity_before),
        maturity_after=_day(result.maturity_after),
        observation_ends_on=_day(result.observation_ends_on),
        requested_by=result.requested_by,
        approved_by=result.approved_by,
        new_annual_rate=result.new_annual_rate,
        arrears_brought_forward=None if (a := result.arrears()) is None else arrears_out(a),
        rejected_by=result.rejected_by,
        rejected_at=None
        if result.rejected_at is None
        else datetime.fromisoformat(result.rejected_at),
        rejection_reason=result.rejection_reason,
    )


def record_out(record: LoanChangeRecord) -> ChangeOut:
    return ChangeOut(
        change_id=record.change_id,
        loan_id=record.loan_id,
        kind=record.kind.value,
        status=record.status,
        in_difficulty=record.in_difficulty,
        effective_on=record.effective_on,
        maturity_before=record.maturity_before,
        maturity_after=record.maturity_after,
        observation_ends_on=record.observation_ends_on,
        requested_by=record.requested_by,
        approved_by=record.approved_by,
        new_loan_id=record.new_loan_id,
        principal=None if record.principal_fen is None else format_yuan(record.principal_fen),
        reason=record.reason,
        new_annual_rate=None if record.new_annual_rate is None else str(record.new_annual_rate),
        arrears_brought_forward=None if record.arrears is None else arrears_out(record.arrears),
        rejected_by=record.rejected_by,
        rejected_at=record.rejected_at,
        rejection_reason=record.rejection_reason,
    )


def loan_today_out(standing: LoanStanding) -> LoanTodayOut:
    return LoanTodayOut(
        outstanding_principal=format_yuan(standing.outstanding_principal_fen),
        past_due_principal=format_yuan(standing.past_due_principal_fen),
        past_due_interest=format_yuan(standing.past_due_interest_fen),
        penalty=format_yuan(standing.penalty_fen),
        days_past_due=standing.days_past_due,
        category=standing.category,
        status=standing.status,
    )


def pending_out(pending: PendingChange) -> PendingChangeOut:
    return PendingChangeOut(
        **record_out(pending.change).model_dump(),
        loan_today=None if pending.loan is None else loan_today_out(pending.loan),
    )


def arrears_out(arrears: Arrears) -> ArrearsOut:
    return ArrearsOut(
        principal=format_yuan(arrears.principal_fen),
        interest=format_yuan(arrears.interest_fen),
        penalty=format_yuan(arrears.penalty_fen),
        overdue_since=arrears.overdue_since,
        days_past_due=arrears.days_past_due,
    )


def renewal_out(result: RenewalResult) -> RenewalOut:
    return RenewalOut(
        loan_id=result.loan_id,
        decision=result.decision,
        reasons=[r for r in result.reasons.split(",") if r],
        rules_version=result.rules_version,
        change_id=result.change_id,
        new_loan_id=result.new_loan_id,
        principal=format_yuan(result.principal_fen),
        starts_on=_day(result.starts_on),
        maturity_date=_day(result.maturity_date),
    )


def classification_out(result: LoanClassification) -> ClassificationOut:
    return ClassificationOut(
        loan_id=result.loan_id,
        as_of=result.as_of,
        category=result.category,
        label_zh=result.label_zh,
        dpd_floor=result.dpd_floor,
        days_past_due=result.days_past_due,
        reasons=list(result.reasons),
        in_observation=result.in_observation,
        observation_ends_on=result.observation_ends_on,
        stored_category=result.stored_category,
        renewed_from=result.renewed_from,
        called_in_on=result.called_in_on,
    )


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)
