"""Post-loan tasks as staff work them: list, claim, complete with an outcome, escalate; a
supervisor assigns a task to one of their managers (``assign_task``).

An outcome that acts calls the servicing operation a caller would call directly (freeze the
customer's lines, reduce the alert's line) with the same checks and the same audit events;
the role that may record each outcome is the monitoring rule (``OUTCOME_ROLES``), checked
before anything is done. The chosen outcome is first marked on the task (a compare-and-set
on its version: a second completer is refused before anything acts), then the servicing
operation runs and its result is kept on the mark, then the task is recorded completed. A
retry of a task left marked resumes: it never re-runs an operation whose result was kept, and
the operations themselves skip what is already done (a frozen line, a receipt called in).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from typing import Any

from puhui.domain.errors import Conflict, InvalidInput, NotFound, PuhuiError
from puhui.domain.ids import CreditLineId, new_id
from puhui.domain.lending.account import LoanAccount, LoanKind
from puhui.domain.monitoring import OUTCOME_ROLES, StaffRole, Task, TaskOutcome
from puhui.services.audit import record
from puhui.services.monitoring.access import STAFF_ROLES, MonitoringAccess, staff_role
from puhui.services.monitoring.ports import (
    Json,
    MonitoringUnitOfWork,
    MonitoringUnits,
    TaskQuery,
    TaskRecord,
)
from puhui.services.notifications import Channel, MessageStatus, OutboxMessage
from puhui.services.security.permissions import Permission, Principal, require
from puhui.services.servicing import lines, term_loans
from puhui.services.servicing.records import CreditLineRecord, LineStatus

logger = logging.getLogger(__name__)

MAX_PAGE = 200


class TaskActionUnavailable(Conflict):
    """The outcome's servicing operation cannot be done on this customer (nothing to act on)."""

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


def count_my_tasks(access: MonitoringAccess, *, actor: Principal) -> int:
    """The tasks waiting for ``actor``: assigned and open (or escalated to them), or claimed
    and not completed."""
    require(actor, Permission.TASK_WORK)
    with access.units() as uow:
        return uow.monitoring.count_held(actor.user_id)


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


class NotInTeam(InvalidInput):
    """A supervisor assigns tasks to their own managers only (the supervisors on record)."""

    code = "task_assignee_not_in_team"


def team(access: MonitoringAccess, *, actor: Principal) -> list[str]:
    """The managers whose supervisor ``actor`` is on record (``set_supervisor``), by id: whom
    they may assign tasks to."""
    require(actor, Permission.TASK_WORK)
    with access.units() as uow:
        return uow.monitoring.team_of(actor.user_id)


def assign_task(
    access: MonitoringAccess, *, actor: Principal, task_id: str, assignee: str
) -> TaskRecord:
    """A supervisor hands a task (分派) to one of their managers: a branch queue's task that
    nobody claimed, one another manager holds, or one escalated to them. The task is open for
    the assignee to claim; a task whose outcome is being recorded is refused."""
    require(actor, Permission.TASK_WORK)
    role = staff_role(actor)
    to = assignee.strip()
    if not to or len(to) > 64 or not to.isprintable():
        raise InvalidInput(
            "assignee must be a user id of 1 to 64 printable characters",
            details={"field": "assignee"},
        )
    with access.units() as uow:
        stored = _require_task(uow, task_id)
        if stored.pending is not None:
            raise Conflict(
                f"an outcome of task {task_id} is being recorded: it cannot be assigned now",
                details={"task_id": task_id},
            )
        if role is StaffRole.SUPERVISOR and uow.monitoring.supervisor_of(to) != actor.user_id:
            raise NotInTeam(
                f"{to} is not one of your managers: a supervisor assigns tasks to the managers "
                "whose supervisor they are on record (an administrator sets it)",
                details={"field": "assignee", "assignee": to},
            )
        before = stored.task
        moved = before.assign(to, actor.user_id, role)
        uow.monitoring.save_task(replace(stored, task=moved))
        _audit_task(
            uow,
            actor.audit_name(),
            "assigned",
            moved,
            {"from": before.holder, "to": to, "was": before.status.value},
        )
        uow.commit()
    return replace(stored, task=moved, version=stored.version + 1)


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
    access: MonitoringAccess,
    actor: Principal,
    task: Task,
    line_id: str | None,
    new_limit_fen: int,
    *,
    resuming: bool,
) -> Any:
    if line_id is None:
        raise TaskActionUnavailable(
            f"alert {task.alert_id} concerns no credit line to reduce",
            details={"alert_id": task.alert_id},
        )
    if resuming:
        with access.servicing_uow() as uow:
            line = uow.lines.get(CreditLineId(line_id))
        if line is not None and line.limit_fen == new_limit_fen:
            # The attempt that stopped had already lowered it.
            return {"operation": "reduce_limit", "line_id": line_id, "limit_fen": new_limit_fen}
    changed = lines.reduce_credit_limit(
        access.servicing_uow,
        CreditLineId(line_id),
        new_limit_fen=new_limit_fen,
        actor=actor.audit_name(),
        reason=f"post-loan task {task.task_id} (alert {task.alert_id})",
    )
    return {"operation": "reduce_limit", "line_id": line_id, "limit_fen": changed.limit_fen}


def _recall(
    access: MonitoringAccess,
    actor: Principal,
    task: Task,
    line_ids: list[str],
    term_loan_ids: list[str],
    *,
    resuming: bool,
) -> Any:
    """Call in the customer's receipts (freezing their lines) and term loans. Loans already
    called in are left as they are, so a resumed attempt calls in only what the one that
    stopped had not."""
    reason = f"post-loan task {task.task_id} (alert {task.alert_id})"
    called: list[dict[str, Any]] = []
    for line_id in line_ids:
        for result in lines.accelerate_line(
            access.servicing_uow,
            CreditLineId(line_id),
            on=access.today(),
            actor=actor.audit_name(),
            reason=reason,
        ):
            called.append({"receipt_id": result.receipt_id, "called_fen": result.called_fen})
    called_loans: list[dict[str, Any]] = []
    for loan_id in term_loan_ids:
        loan = term_loans.accelerate_term_loan(
            access.servicing_uow,
            loan_id,
            on=access.today(),
            actor=actor.audit_name(),
            reason=reason,
        )
        if loan is not None:
            called_loans.append({"loan_id": loan.loan_id, "called_fen": loan.called_fen})
    if not called and not called_loans and not resuming:
        raise TaskActionUnavailable(
            f"customer {task.customer_id} has no receipt or term loan outstanding to recall",
            details={"customer_id": task.customer_id},
        )
    return {"operation": "recall_early", "receipts": called, "term_loans": called_loans}


RECALL_NOTICE_TEMPLATE = "loan_recall_notice_v1"
"""The notice that the bank called the customer's loans in: which, on what day, how much."""


@dataclass(frozen=True, slots=True)
class _Notice:
    message: OutboxMessage | None
    missing: str = ""
    """Why there is no message: ``no_phone`` (none on file for the customer)."""

    def recorded(self) -> dict[str, Any]:
        """What the task's action keeps of it."""
        if self.message is None:
            return {"notice": None, "notice_missing": self.missing}
        sent = {"message_id": self.message.message_id, "channel": self.message.channel.value}
        return {"notice": sent}


def _recall_notice(access: MonitoringAccess, task: Task, action: Any) -> _Notice | None:
    """The borrower's notice of a recall (None when nothing was called in): by SMS to the
    phone on file, with what fell due; without a phone, no message, and the action says so."""
    receipts = list(action.get("receipts", []))
    loans = list(action.get("term_loans", []))
    if not receipts and not loans:
        return None
    phone = access.borrower_phone(task.customer_id) if access.borrower_phone else None
    if phone is None:
        return _Notice(None, "no_phone")
    on = task.completed_on or access.today()
    payload = {
        "customer_id": task.customer_id,
        "called_in_on": on.isoformat(),
        "receipts": receipts,
        "term_loans": loans,
        "principal_fen": sum(int(c["called_fen"]) for c in [*receipts, *loans]),
    }
    return _Notice(
        OutboxMessage(
            message_id=new_id("msg"),
            channel=Channel.SMS,
            recipient=phone,
            template=RECALL_NOTICE_TEMPLATE,
            payload=payload,
            subject_id=task.customer_id,
            status=MessageStatus.PENDING,
            attempts=0,
            created_at=access.now(),
        )
    )


@dataclass(frozen=True, slots=True)
class Completion:
    outcome: TaskOutcome
    note: str = ""
    new_limit_fen: int | None = None
    """The limit after a ``reduce_limit`` outcome (fen); nothing else takes one."""


def _pending_of(completion: Completion, actor: Principal, role: StaffRole, on: dt.date) -> Json:
    return {
        "outcome": completion.outcome.value,
        "new_limit_fen": completion.new_limit_fen,
        "by": actor.user_id,
        "actor": actor.audit_name(),
        "role": role.value,
        "on": on.isoformat(),
    }


def _check_resume(stored: TaskRecord, completion: Completion) -> None:
    pending = stored.pending
    if pending is None:
        return
    if (
        pending["outcome"] != completion.outcome.value
        or pending.get("new_limit_fen") != completion.new_limit_fen
    ):
        raise Conflict(
            f"task {stored.task.task_id} is being completed with the outcome "
            f"{pending['outcome']}: finish that completion",
            details={"task_id": stored.task.task_id, "outcome": pending["outcome"]},
        )


def _begin(
    access: MonitoringAccess, stored: TaskRecord, pending: Json, note: str, actor: str
) -> TaskRecord:
    """Commit the chosen outcome on the task's version: a second completer is refused here,
    before anything acts."""
    marked = TaskRecord(replace(stored.task, note=note), stored.action, stored.version, pending)
    with access.units() as uow:
        uow.monitoring.save_task(marked)
        _audit_task(
            uow,
            actor,
            "completing",
            marked.task,
            {"outcome": pending["outcome"], "role": pending["role"]},
        )
        uow.commit()
    return replace(marked, version=stored.version + 1)


def _act(
    access: MonitoringAccess,
    actor: Principal,
    completed: Task,
    completion: Completion,
    *,
    line_ids: list[str],
    term_loan_ids: list[str],
    line_id: str | None,
    resuming: bool,
) -> Any:
    outcome = completion.outcome
    if outcome is TaskOutcome.FREEZE:
        return _freeze(access, actor, completed, line_ids)
    if outcome is TaskOutcome.REDUCE_LIMIT and completion.new_limit_fen is not None:
        return _reduce(
            access, actor, completed, line_id, completion.new_limit_fen, resuming=resuming
        )
    if outcome is TaskOutcome.RECALL_EARLY:
        return _recall(access, actor, completed, line_ids, term_loan_ids, resuming=resuming)
    if outcome is TaskOutcome.HAND_TO_COLLECTIONS:
        action: dict[str, Any] = {
            "operation": "hand_to_collections",
            "customer_id": completed.customer_id,
        }
        if access.hand_over is not None:
            reason = f"post-loan task {completed.task_id} (alert {completed.alert_id})"
            action["cases"] = access.hand_over(completed.customer_id, actor.audit_name(), reason)
        return action
    return None


def _release(access: MonitoringAccess, marked: TaskRecord, actor: str, error: PuhuiError) -> None:
    """The outcome's operation was refused: the task goes back to its holder as it was."""
    with access.units() as uow:
        current = _require_task(uow, marked.task.task_id)
        if current.version != marked.version or current.pending is None:
            return
        uow.monitoring.save_task(
            replace(current, task=replace(current.task, note=""), pending=None)
        )
        _audit_task(
            uow,
            actor,
            "completion_refused",
            current.task,
            {"outcome": current.pending["outcome"], "error": error.code},
        )
        uow.commit()


def complete_task(
    access: MonitoringAccess, *, actor: Principal, task_id: str, completion: Completion
) -> TaskRecord:
    """Record the outcome; an acting outcome does what it says through servicing.

    Three steps, each committed: the outcome is marked on the task (a compare-and-set on its
    version, so a second completer is refused before anything acts); the servicing operation
    runs and what it did is kept on the mark; the task is recorded completed and audited. A
    call that finds its own outcome marked resumes from where the last attempt stopped, and
    never runs an operation whose result is already kept.
    """
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
    with access.servicing_uow() as servicing:
        loans = servicing.loans.of_enterprise(stored.task.customer_id)
    term_loan_ids: list[str] = [loan.loan_id for loan in loans if loan.kind is LoanKind.TERM]
    line_id = alert.line_id if alert is not None else None
    _check_resume(stored, completion)
    resuming = stored.pending is not None
    # The domain checks the status, who holds the task and whether the role may record the
    # outcome, before anything is marked or done.
    if resuming:
        pending: Json = dict(stored.pending or {})
        completed = stored.task.complete(
            actor.user_id, role, outcome, dt.date.fromisoformat(pending["on"]), stored.task.note
        )
        completed = replace(completed, completed_by=str(pending["by"]))
        marked = stored
    else:
        on = access.today()
        completed = stored.task.complete(actor.user_id, role, outcome, on, completion.note.strip())
        _precheck(completed, completion, line_ids, bool(loans), line_id)
        pending = _pending_of(completion, actor, role, on)
        marked = _begin(access, stored, pending, completed.note, actor.audit_name())
    if "action" in pending:
        action = pending["action"]
    else:
        try:
            action = _act(
                access,
                actor,
                completed,
                completion,
                line_ids=line_ids,
                term_loan_ids=term_loan_ids,
                line_id=line_id,
                resuming=resuming,
            )
        except PuhuiError as error:
            _release(access, marked, actor.audit_name(), error)
            raise
        pending = {**pending, "action": action}
        marked = _keep_progress(access, marked, pending)
    notice = (
        _recall_notice(access, completed, action) if outcome is TaskOutcome.RECALL_EARLY else None
    )
    if notice is not None:
        action = {**action, **notice.recorded()}
    with access.units() as uow:
        if outcome is TaskOutcome.HAND_TO_COLLECTIONS:
            uow.monitoring.hand_to_collections(
                completed, actor=pending["actor"], note=completed.note
            )
        if notice is not None and notice.message is not None:
            # With the completion, or not at all: a resumed completion writes it once.
            uow.outbox.add_message(notice.message)
        uow.monitoring.save_task(TaskRecord(completed, action, marked.version))
        _audit_task(
            uow,
            pending["actor"],
            "completed",
            completed,
            {"outcome": outcome.value, "role": pending["role"], "action": action},
        )
        uow.commit()
    return TaskRecord(completed, action, marked.version + 1)


def nothing_to_act_on(
    outcome: TaskOutcome, *, lines: bool, loans: bool, alert_line: bool
) -> str | None:
    """Why ``outcome`` has nothing of the customer's to act on (None: it has something).

    ``lines``: the customer has credit lines; ``loans``: active loans (receipts or term
    loans); ``alert_line``: the alert names a line. The completion refuses on it before anything is
    marked, and the console offers only the outcomes it allows.
    """
    if outcome is TaskOutcome.FREEZE and not lines:
        return "has no credit line to freeze"
    if outcome is TaskOutcome.RECALL_EARLY and not loans:
        return "has no loan outstanding to recall"
    if outcome is TaskOutcome.REDUCE_LIMIT and not alert_line:
        return "concerns no credit line to reduce"
    return None


def _precheck(
    completed: Task,
    completion: Completion,
    line_ids: list[str],
    loans: bool,
    line_id: str | None,
) -> None:
    """Refuse an outcome with nothing to act on before the task is marked."""
    reason = nothing_to_act_on(
        completion.outcome,
        lines=bool(line_ids),
        loans=loans,
        alert_line=line_id is not None,
    )
    if reason is None:
        return
    if completion.outcome is TaskOutcome.REDUCE_LIMIT:
        raise TaskActionUnavailable(
            f"alert {completed.alert_id} {reason}", details={"alert_id": completed.alert_id}
        )
    raise TaskActionUnavailable(
        f"customer {completed.customer_id} {reason}",
        details={"customer_id": completed.customer_id},
    )


@dataclass(frozen=True, slots=True)
class CustomerCredit:
    """What a task's outcomes can act on: the customer's credit lines and active loans."""

    lines: tuple[CreditLineRecord, ...]
    loans: tuple[LoanAccount, ...]
    alert_line: str | None
    """The line the task's alert names, if any (what ``reduce_limit`` lowers)."""

    def allows(self, outcome: TaskOutcome) -> bool:
        return (
            nothing_to_act_on(
                outcome,
                lines=bool(self.lines),
                loans=bool(self.loans),
                alert_line=self.alert_line is not None,
            )
            is None
        )


def outcomes_open_to(actor: Principal, credit: CustomerCredit) -> list[TaskOutcome]:
    """The outcomes ``actor`` may record on the task whose customer has ``credit``: those the
    monitoring rule lets the role record and that have something of the customer's to act on."""
    role = STAFF_ROLES.get(actor.role)
    if role is None:
        return []
    return [o for o in TaskOutcome if role in OUTCOME_ROLES[o] and credit.allows(o)]


def customer_credit(access: MonitoringAccess, *, actor: Principal, task: Task) -> CustomerCredit:
    """The task's customer's lines and active loans as they stand, for whoever works it
    (``task`` as ``get_task`` gave it)."""
    require(actor, Permission.TASK_WORK)
    with access.units() as uow:
        alert = uow.monitoring.alert(task.alert_id)
    with access.servicing_uow() as servicing:
        found_lines = servicing.lines.page(enterprise_id=task.customer_id, limit=MAX_PAGE)
        found_loans = servicing.loans.of_enterprise(task.customer_id, limit=MAX_PAGE)
    return CustomerCredit(
        lines=tuple(sorted(found_lines, key=lambda line: line.line_id)),
        loans=tuple(found_loans),
        alert_line=alert.line_id if alert is not None else None,
    )


def _keep_progress(access: MonitoringAccess, marked: TaskRecord, pending: Json) -> TaskRecord:
    """Keep what the operation did on the mark, so that a retry does not run it again."""
    kept = replace(marked, pending=pending)
    with access.units() as uow:
        uow.monitoring.save_task(kept)
        uow.commit()
    return replace(kept, version=marked.version + 1)


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
