"""Tasks for account managers: open -> claimed -> completed, or escalated when overdue; a
supervisor may assign an unfinished task to one of their managers (分派)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from puhui.domain.monitoring.alerts import Alert, Severity
from puhui.domain.monitoring.calendar import DuePolicy
from puhui.domain.monitoring.errors import (
    InvalidMonitoringValue,
    OutcomeNotPermitted,
    TaskNotOverdue,
    TaskTransitionRefused,
)


class StaffRole(StrEnum):
    """The post-loan roles that work tasks (mapped from platform roles by the services)."""

    ACCOUNT_MANAGER = "account_manager"  # 客户经理
    SUPERVISOR = "supervisor"  # the account manager's team lead or branch head
    RISK_OFFICER = "risk_officer"  # 风险经理
    COLLECTOR = "collector"  # 催收


class TaskOutcome(StrEnum):
    """What the worker found or decided."""

    CONTACTED = "contacted"
    VISITED = "visited"
    NO_ISSUE = "no_issue"
    MONITOR = "monitor"
    FREEZE = "freeze"
    REDUCE_LIMIT = "reduce_limit"
    RECALL_EARLY = "recall_early"
    HAND_TO_COLLECTIONS = "hand_to_collections"

    @property
    def acts(self) -> bool:
        """Whether the outcome calls a servicing operation (freeze the line, cut the limit,
        call the loan in, open a collection case); the others only record what was found."""
        return self in ACTING_OUTCOMES


ACTING_OUTCOMES = frozenset(
    {
        TaskOutcome.FREEZE,
        TaskOutcome.REDUCE_LIMIT,
        TaskOutcome.RECALL_EARLY,
        TaskOutcome.HAND_TO_COLLECTIONS,
    }
)

_FINDINGS = frozenset({StaffRole.ACCOUNT_MANAGER, StaffRole.SUPERVISOR, StaffRole.RISK_OFFICER})
OUTCOME_ROLES: Mapping[TaskOutcome, frozenset[StaffRole]] = {
    TaskOutcome.CONTACTED: _FINDINGS,
    TaskOutcome.VISITED: _FINDINGS,
    TaskOutcome.NO_ISSUE: _FINDINGS,
    TaskOutcome.MONITOR: _FINDINGS,
    # Freezing further draws is reversible and protects the bank at once: the manager may.
    TaskOutcome.FREEZE: _FINDINGS,
    # Changing a contract's economics is a credit decision: not the relationship manager's.
    TaskOutcome.REDUCE_LIMIT: frozenset({StaffRole.SUPERVISOR, StaffRole.RISK_OFFICER}),
    TaskOutcome.RECALL_EARLY: frozenset({StaffRole.RISK_OFFICER}),
    TaskOutcome.HAND_TO_COLLECTIONS: frozenset({StaffRole.SUPERVISOR, StaffRole.RISK_OFFICER}),
}
"""Which roles may record each outcome."""


class TaskStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    COMPLETED = "completed"
    ESCALATED = "escalated"


_CLAIMABLE = frozenset({TaskStatus.OPEN, TaskStatus.ESCALATED})
_ESCALATABLE = frozenset({TaskStatus.OPEN, TaskStatus.CLAIMED})


@dataclass(frozen=True, slots=True)
class Task:
    """Work on one alert: who owns it, by when, and what came of it.

    ``assignee`` is the account manager who owns the customer, or None for the branch queue
    (any of the branch's managers may claim it). Transitions return a new task.
    """

    task_id: str
    alert_id: str
    customer_id: str
    branch: str
    severity: Severity
    created_on: dt.date
    due_on: dt.date
    assignee: str | None = None
    status: TaskStatus = TaskStatus.OPEN
    claimed_by: str | None = None
    outcome: TaskOutcome | None = None
    note: str = ""
    completed_on: dt.date | None = None
    completed_by: str | None = None
    escalated_on: dt.date | None = None
    escalated_from: str | None = None
    """Who held the task when it escalated (the supervisor is then its assignee)."""

    def __post_init__(self) -> None:
        if not self.task_id or not self.alert_id or not self.customer_id:
            raise InvalidMonitoringValue("a task needs an id, an alert and a customer")
        if self.due_on < self.created_on:
            raise InvalidMonitoringValue("a task cannot be due before it was created")

    @property
    def holder(self) -> str | None:
        """Who is expected to work the task now."""
        return self.claimed_by if self.status is TaskStatus.CLAIMED else self.assignee

    def is_overdue(self, on: dt.date) -> bool:
        return self.status in _ESCALATABLE and on > self.due_on

    def claim(self, actor: str, role: StaffRole) -> Task:
        """Take the task: its assignee (any manager for a queue task), a supervisor (an
        escalated task only the one it went to) or a risk officer."""
        if self.status not in _CLAIMABLE:
            raise TaskTransitionRefused(f"task {self.task_id} is {self.status}: cannot claim it")
        if role is StaffRole.COLLECTOR:
            raise OutcomeNotPermitted("collectors work the collection queues, not these tasks")
        if role is StaffRole.ACCOUNT_MANAGER:
            if self.status is TaskStatus.ESCALATED:
                raise OutcomeNotPermitted(f"task {self.task_id} is with the supervisor")
            if self.assignee is not None and self.assignee != actor:
                raise OutcomeNotPermitted(f"task {self.task_id} is assigned to someone else")
        elif (
            role is StaffRole.SUPERVISOR
            and self.status is TaskStatus.ESCALATED
            and self.assignee not in (None, actor)
        ):
            raise OutcomeNotPermitted(f"task {self.task_id} escalated to another supervisor")
        return replace(self, status=TaskStatus.CLAIMED, claimed_by=actor)

    def complete(
        self, actor: str, role: StaffRole, outcome: TaskOutcome, on: dt.date, note: str = ""
    ) -> Task:
        """Record the outcome; the caller then runs the servicing operation if it acts."""
        if self.status is not TaskStatus.CLAIMED:
            raise TaskTransitionRefused(
                f"task {self.task_id} is {self.status}: claim it before recording an outcome"
            )
        if actor != self.claimed_by and role is not StaffRole.SUPERVISOR:
            raise OutcomeNotPermitted(f"task {self.task_id} is claimed by someone else")
        if role not in OUTCOME_ROLES[outcome]:
            raise OutcomeNotPermitted(f"a {role} may not record the outcome {outcome}")
        if on < self.created_on:
            raise InvalidMonitoringValue("a task cannot be completed before it was created")
        return replace(
            self,
            status=TaskStatus.COMPLETED,
            outcome=outcome,
            note=note,
            completed_on=on,
            completed_by=actor,
        )

    def assign(self, to: str, actor: str, role: StaffRole) -> Task:
        """A supervisor hands the task to ``to`` (one of their managers, which the caller
        checks): a branch queue's task nobody took, one a manager holds who cannot work it, or
        one escalated to this supervisor. It is open again for ``to`` to claim; an escalated
        task stays escalated once (it does not escalate again)."""
        if role is not StaffRole.SUPERVISOR:
            raise OutcomeNotPermitted("only a supervisor assigns tasks")
        if self.status is TaskStatus.COMPLETED:
            raise TaskTransitionRefused(f"task {self.task_id} is completed: nothing to assign")
        if self.status is TaskStatus.ESCALATED and self.assignee != actor:
            raise OutcomeNotPermitted(f"task {self.task_id} escalated to another supervisor")
        if self.holder == to and self.status is not TaskStatus.ESCALATED:
            raise TaskTransitionRefused(f"task {self.task_id} is {to}'s already")
        return replace(self, status=TaskStatus.OPEN, assignee=to, claimed_by=None)

    def escalate(self, on: dt.date, supervisor: str) -> Task:
        """Hand an overdue task to the holder's supervisor."""
        if self.status not in _ESCALATABLE:
            raise TaskTransitionRefused(f"task {self.task_id} is {self.status}: cannot escalate")
        if self.escalated_on is not None:
            raise TaskTransitionRefused(f"task {self.task_id} was escalated on {self.escalated_on}")
        if not self.is_overdue(on):
            raise TaskNotOverdue(
                f"task {self.task_id} is due on {self.due_on}, not overdue on {on}"
            )
        return replace(
            self,
            status=TaskStatus.ESCALATED,
            escalated_from=self.holder,
            assignee=supervisor,
            claimed_by=None,
            escalated_on=on,
        )


def task_for_alert(
    alert: Alert,
    *,
    task_id: str,
    branch: str,
    owner: str | None,
    created_on: dt.date,
    policy: DuePolicy,
) -> Task:
    """The task an alert creates: for the customer's manager (or the branch queue), due by
    the alert's severity in business days."""
    return Task(
        task_id=task_id,
        alert_id=alert.alert_id,
        customer_id=alert.customer_id,
        branch=branch,
        severity=alert.severity,
        created_on=created_on,
        due_on=policy.due_on(created_on, alert.severity),
        assignee=owner,
    )


def escalate_overdue(
    tasks: Iterable[Task], on: dt.date, supervisor_of: Callable[[Task], str]
) -> list[Task]:
    """Every task overdue on ``on``, escalated to the supervisor ``supervisor_of`` names.

    A task escalates once: the supervisor who then holds it is not escalated further here.
    """
    return [
        task.escalate(on, supervisor_of(task))
        for task in tasks
        if task.is_overdue(on) and task.escalated_on is None
    ]
