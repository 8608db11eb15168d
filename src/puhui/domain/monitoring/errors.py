"""Errors of post-loan monitoring, each named after the rule it guards and with a stable code."""

from __future__ import annotations

from puhui.domain.errors import Conflict, InvalidInput, PuhuiError


class InvalidMonitoringValue(InvalidInput):
    """A value of an alert, task, promise or proposal breaks a rule of its type."""

    code = "invalid_monitoring_value"


class AlertTransitionRefused(Conflict):
    """An alert cannot move from its status to the one asked for (a closed alert stays closed)."""

    code = "alert_transition_refused"


class TaskTransitionRefused(Conflict):
    """A task cannot move from its status to the one asked for."""

    code = "task_transition_refused"


class TaskNotOverdue(Conflict):
    """Only a task past its due date escalates to the supervisor."""

    code = "task_not_overdue"


class OutcomeNotPermitted(PuhuiError):
    """The actor's role may not record this outcome, or the task is not the actor's to work."""

    code = "outcome_not_permitted"


class PromiseRefused(InvalidInput):
    """A promise to pay that cannot be kept as written (no amount, a date before it was made)."""

    code = "promise_refused"


class WriteOffRefused(Conflict):
    """A write-off proposal that breaks its rules (not yet in the legal bucket, already decided)."""

    code = "write_off_refused"


class WriteOffFourEyes(PuhuiError):
    """The approver proposed the write-off: approval needs a second person."""

    code = "write_off_four_eyes"
