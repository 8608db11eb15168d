"""Post-loan tasks as staff work them: list, claim, complete with an outcome, escalate.

An outcome that acts calls the servicing operation a caller would call directly (freeze the
customer's lines, reduce the alert's line) with the same checks and the same audit events;
the role that may record each outcome is the monitoring rule (``OUTCOME_ROLES``), checked
before anything is done. The servicing operation commits first, then the task records what
it did: a task completed twice at once is refused on its version, and the second freeze of a
frozen line is skipped.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from puhui.domain.errors import Conflict, InvalidInput, NotFound
from puhui.domain.ids import CreditLineId
from puhui.domain.monitoring import Task, TaskOutcome
from puhui.services.audit import record
from puhui.services.monitoring.access import MonitoringAccess, staff_role
from puhui.services.monitoring.ports import (
    MonitoringUnitOfWork,
    MonitoringUnits,
    TaskQuery,
    TaskRecord,
)
from puhui.services.security.permissions import Permission, Principal, require
from puhui.services.servicing import lines
from puhui.services.servicing.records import LineStatus

logger = logging.getLogger(__name__)

MAX_PAGE = 200


class TaskActionUnavailable(Conflict):
    """The outcome's servicing operation cannot be done on this customer (no line to act on)."""

    code = "task_action_unavailable"


def _require_task(uow: MonitoringUnitOfWork, task_id: str) -> TaskRecord:
    found = uow.monitoring.task(task_id)
    if found is None:
        raise NotFound("no such task", details={"task_id": task_id})
    return found


def list_tasks(access: MonitoringAccess, *, actor: Principal, query: TaskQuery) -> list[TaskRecord]:
    require(actor, Permission.TASK_WORK)
    if not 1 <= query.limit <= MAX_PAGE:
        raise InvalidInput(f"a page holds 1 to {MAX_PAGE} tasks", details={"field": "limit"})
    with access.units() as uow:
        return uow.monitoring.tasks(query)


def get_task(access: MonitoringAccess, *, actor: Principal, task_id: str) -> TaskRecord:
    require(actor, Permission.TASK_WORK)
    with access.units() as uow:
        return _require_task(uow, task_id)


def _audit_task(
    uow: MonitoringUnitOfWork, actor: str, action: str, task: Task, extra: dict[str, Any]
) -> None:
    record(
        uow,
        actor=actor,
        action=f"monitoring.task_{action}",
        entity="monitoring_task",
        entity_id=task.task_id,
        payload={
            "alert_id": task.alert_id,
            "customer_id": task.customer_id,
            "status": task.status.value,
            **extra,
        },
    )


def claim_task(access: MonitoringAccess, *, actor: Principal, task_id: str) -> TaskRecord:
    require(actor, Permission.TASK_WORK)
    role = staff_role(actor)
    with access.units() as uow:
        stored = _require_task(uow, task_id)
        claimed = stored.task.claim(actor.user_id, role)
        uow.monitoring.save_task(TaskRecord(claimed, stored.action, stored.version))
        _audit_task(uow, actor.audit_name(), "claimed", claimed, {"role": role.value})
        uow.commit()
    return TaskRecord(claimed, stored.action, stored.version + 1)


def _freeze(access: MonitoringAccess, actor: Principal, task: Task, line_ids: list[str]) -> Any:
    if not line_ids:
        raise TaskActionUnavailable(
            f"customer {task.customer_id} has no credit line to freeze",
            details={"customer_id": task.customer_id},
        )
    done = []
    for line_id in line_ids:
        with access.servicing_uow() as uow:
            line = uow.lines.get(CreditLineId(line_id))
        if line is None or line.status is LineStatus.FROZEN:
            continue
        lines.freeze_credit_line(
            access.servicing_uow,
            CreditLineId(line_id),
            actor=actor.audit_name(),
            reason=f"post-loan task {task.task_id} (alert {task.alert_id})",
        )
        done.append(line_id)
    return {
        "operation": "freeze",
        "frozen": done,
        "already_frozen": sorted(set(line_ids) - set(done)),
    }


def _reduce(
    access: MonitoringAccess, actor: Principal, task: Task, line_id: str | None, new_limit_fen: int
) -> Any:
    if line_id is None:
        raise TaskActionUnavailable(
            f"alert {task.alert_id} concerns no credit line to reduce",
            details={"alert_id": task.alert_id},
        )
    changed = lines.reduce_credit_limit(
        access.servicing_uow,
        CreditLineId(line_id),
        new_limit_fen=new_limit_fen,
        actor=actor.audit_name(),
        reason=f"post-loan task {task.task_id} (alert {task.alert_id})",
    )
    return {"operation": "reduce_limit", "line_id": line_id, "limit_fen": changed.limit_fen}


def _recall(access: MonitoringAccess, actor: Principal, task: Task, line_ids: list[str]) -> Any:
    called: list[dict[str, Any]] = []
    for line_id in line_ids:
        for result in lines.accelerate_line(
            access.servicing_uow,
            CreditLineId(line_id),
            on=access.today(),
            actor=actor.audit_name(),
            reason=f"post-loan task {task.task_id} (alert {task.alert_id})",
        ):
            called.append({"receipt_id": result.receipt_id, "called_fen": result.called_fen})
    if not called:
        raise TaskActionUnavailable(
            f"customer {task.customer_id} has no receipt outstanding to recall",
            details={"customer_id": task.customer_id},
        )
    return {"operation": "recall_early", "receipts": called}


@dataclass(frozen=True, slots=True)
class Completion:
    outcome: TaskOutcome
    note: str = ""
    new_limit_fen: int | None = None
    """The limit after a ``reduce_limit`` outcome (fen); nothing else takes one."""


def complete_task(
    access: MonitoringAccess, *, actor: Principal, task_id: str, completion: Completion
) -> TaskRecord:
    """Record the outcome; an acting outcome first does what it says through servicing."""
    require(actor, Permission.TASK_WORK)
    role = staff_role(actor)
    outcome = completion.outcome
    if (outcome is TaskOutcome.REDUCE_LIMIT) != (completion.new_limit_fen is not None):
        raise InvalidInput(
            "new_limit_fen is given with the reduce_limit outcome, and only with it",
            details={"field": "new_limit_fen"},
        )
    with access.units() as uow:
        stored = _require_task(uow, task_id)
        alert = uow.monitoring.alert(stored.task.alert_id)
        line_ids = uow.monitoring.customer_lines(stored.task.customer_id)
    # The domain checks the status, who holds the task and whether the role may record the
    # outcome, before any servicing operation runs.
    completed = stored.task.complete(
        actor.user_id, role, outcome, access.today(), completion.note.strip()
    )
    action: Any = None
    if outcome is TaskOutcome.FREEZE:
        action = _freeze(access, actor, completed, line_ids)
    elif outcome is TaskOutcome.REDUCE_LIMIT and completion.new_limit_fen is not None:
        line_id = alert.line_id if alert is not None else None
        action = _reduce(access, actor, completed, line_id, completion.new_limit_fen)
    elif outcome is TaskOutcome.RECALL_EARLY:
        action = _recall(access, actor, completed, line_ids)
    elif outcome is TaskOutcome.HAND_TO_COLLECTIONS:
        action = {"operation": "hand_to_collections", "customer_id": completed.customer_id}
        if access.hand_over is not None:
            reason = f"post-loan task {completed.task_id} (alert {completed.alert_id})"
            action["cases"] = access.hand_over(completed.customer_id, actor.audit_name(), reason)
    with access.units() as uow:
        if outcome is TaskOutcome.HAND_TO_COLLECTIONS:
            uow.monitoring.hand_to_collections(
                completed, actor=actor.audit_name(), note=completed.note
            )
        uow.monitoring.save_task(TaskRecord(completed, action, stored.version))
        _audit_task(
            uow,
            actor.audit_name(),
            "completed",
            completed,
            {"outcome": outcome.value, "role": role.value, "action": action},
        )
        uow.commit()
    return TaskRecord(completed, action, stored.version + 1)


@dataclass(frozen=True, slots=True)
class Escalation:
    escalated: tuple[str, ...]
    """Task ids handed to a supervisor."""
    without_supervisor: tuple[str, ...]
    """Overdue task ids whose holder has no supervisor on record (nothing changed)."""


def escalate_overdue_tasks(units: MonitoringUnits, *, on: dt.date, actor: str) -> Escalation:
    """Hand every task still open or claimed after its due date to its holder's supervisor,
    once; a task with no holder (the branch queue) or no supervisor on record is reported."""
    escalated: list[str] = []
    orphaned: list[str] = []
    with units() as uow:
        repo = uow.monitoring
        for stored in repo.overdue_tasks(on):
            task = stored.task
            holder = task.holder
            supervisor = None if holder is None else repo.supervisor_of(holder)
            if supervisor is None:
                orphaned.append(task.task_id)
                continue
            moved = task.escalate(on, supervisor)
            repo.save_task(TaskRecord(moved, stored.action, stored.version))
            _audit_task(
                uow,
                actor,
                "escalated",
                moved,
                {"from": moved.escalated_from, "to": supervisor, "due_on": task.due_on.isoformat()},
            )
            escalated.append(task.task_id)
        uow.commit()
    if orphaned:
        logger.warning("%d overdue task(s) have no supervisor to escalate to", len(orphaned))
    return Escalation(tuple(escalated), tuple(orphaned))


def set_supervisor(
    units: MonitoringUnits, *, actor: Principal, user_id: str, supervisor_id: str
) -> None:
    """Record whose overdue tasks go to whom (user administration)."""
    require(actor, Permission.USER_MANAGE)
    if user_id == supervisor_id:
        raise InvalidInput("a manager is not their own supervisor", details={"field": "supervisor"})
    with units() as uow:
        uow.monitoring.set_supervisor(user_id, supervisor_id, actor=actor.audit_name())
        record(
            uow,
            actor=actor.audit_name(),
            action="monitoring.supervisor_set",
            entity="security_user",
            entity_id=user_id,
            payload={"supervisor_id": supervisor_id},
        )
        uow.commit()
