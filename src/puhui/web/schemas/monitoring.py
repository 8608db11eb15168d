"""Bodies of post-loan monitoring: alerts with their signals and evidence, tasks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from puhui.domain.monitoring import TaskOutcome
from puhui.services.monitoring.ports import AlertRecord, TaskRecord
from puhui.services.monitoring.tasks import CustomerCredit
from puhui.web.schemas.common import Fen, Strict


class SignalOut(BaseModel):
    code: str
    severity: str
    text_zh: str
    text_en: str
    first_seen: date
    evidence: dict[str, Any] = Field(
        description="the input values the trigger rules read when the signal fired, the "
        "rules' version and the data's source"
    )


class AlertOut(BaseModel):
    alert_id: str
    customer_id: str
    line_id: str | None
    severity: str
    status: str
    run_date: date
    created_at: datetime | None
    signals: list[SignalOut]
    acknowledged_by: str | None
    closed_on: date | None
    closed_by: str | None
    close_reason: str | None


class AlertPage(BaseModel):
    items: list[AlertOut]
    next_cursor: str | None = Field(
        description="pass as `after` for the next page; null on the last page"
    )


class AlertClosure(Strict):
    reason: str = Field(min_length=1, max_length=400)


class TaskOut(BaseModel):
    task_id: str
    alert_id: str
    customer_id: str
    branch: str
    severity: str
    status: str
    created_on: date
    due_on: date
    assignee: str | None = Field(description="null: the branch queue")
    claimed_by: str | None
    outcome: str | None
    note: str
    completed_on: date | None
    completed_by: str | None
    escalated_on: date | None
    escalated_from: str | None
    action: dict[str, Any] | None = Field(description="what an acting outcome did")


class TaskCreditLineOut(BaseModel):
    line_id: str
    status: str
    limit_fen: int
    drawn_fen: int
    expiry_date: date
    alert_line: bool = Field(description="the line the task's alert names")


class TaskLoanOut(BaseModel):
    loan_id: str
    kind: str = Field(description="receipt (on a credit line) or term")
    line_id: str | None
    outstanding_principal_fen: int
    maturity_date: date
    days_past_due: int
    category: str
    called_in_on: date | None = Field(description="the day it was called in early, if it was")


class TaskCreditOut(BaseModel):
    """What the task's outcomes can act on, as it stands now."""

    task_id: str
    customer_id: str
    lines: list[TaskCreditLineOut]
    loans: list[TaskLoanOut] = Field(description="active loans, oldest first")
    outcomes: list[str] = Field(
        description="the outcomes the caller may record on this task: those the role may take "
        "and that have something of the customer's to act on"
    )


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None


class TaskCompletion(Strict):
    outcome: TaskOutcome
    note: str = Field(default="", max_length=2000)
    new_limit_fen: Fen | None = Field(
        default=None, ge=0, le=10_000_000_000, description="with reduce_limit only"
    )


class TaskAssignment(Strict):
    assignee: str = Field(
        min_length=1,
        max_length=64,
        description="the manager's user id: one whose supervisor the caller is on record",
    )


class TaskAssigneesOut(BaseModel):
    assignees: list[str] = Field(
        description="the user ids of the managers whose supervisor the caller is on record, "
        "whom they may assign tasks to"
    )


def alert_out(stored: AlertRecord) -> AlertOut:
    alert = stored.alert
    return AlertOut(
        alert_id=alert.alert_id,
        customer_id=alert.customer_id,
        line_id=stored.line_id,
        severity=alert.severity.value,
        status=alert.status.value,
        run_date=alert.run_date,
        created_at=stored.created_at,
        signals=[
            SignalOut(
                code=s.code,
                severity=s.severity.value,
                text_zh=s.text_zh,
                text_en=s.text_en,
                first_seen=s.first_seen,
                evidence=dict(stored.evidence.get(s.code, {})),
            )
            for s in alert.signals
        ],
        acknowledged_by=stored.acknowledged_by,
        closed_on=alert.closed_on,
        closed_by=stored.closed_by,
        close_reason=alert.close_reason or None,
    )


def task_out(stored: TaskRecord) -> TaskOut:
    task = stored.task
    return TaskOut(
        task_id=task.task_id,
        alert_id=task.alert_id,
        customer_id=task.customer_id,
        branch=task.branch,
        severity=task.severity.value,
        status=task.status.value,
        created_on=task.created_on,
        due_on=task.due_on,
        assignee=task.assignee,
        claimed_by=task.claimed_by,
        outcome=None if task.outcome is None else task.outcome.value,
        note=task.note,
        completed_on=task.completed_on,
        completed_by=task.completed_by,
        escalated_on=task.escalated_on,
        escalated_from=task.escalated_from,
        action=None if stored.action is None else dict(stored.action),
    )


def task_credit_out(
    stored: TaskRecord, credit: CustomerCredit, outcomes: list[TaskOutcome]
) -> TaskCreditOut:
    return TaskCreditOut(
        task_id=stored.task.task_id,
        customer_id=stored.task.customer_id,
        lines=[
            TaskCreditLineOut(
                line_id=line.line_id,
                status=line.status.value,
                limit_fen=line.limit_fen,
                drawn_fen=line.drawn_fen,
                expiry_date=line.expiry_date,
                alert_line=line.line_id == credit.alert_line,
            )
            for line in credit.lines
        ],
        loans=[
            TaskLoanOut(
                loan_id=loan.loan_id,
                kind=loan.kind.value,
                line_id=loan.line_id,
                outstanding_principal_fen=loan.outstanding_principal_fen,
                maturity_date=loan.maturity_date,
                days_past_due=loan.days_past_due,
                category=loan.category.value,
                called_in_on=loan.called_in_on,
            )
            for loan in credit.loans
        ],
        outcomes=[outcome.value for outcome in outcomes],
    )
