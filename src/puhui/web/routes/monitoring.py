"""Post-loan monitoring: alerts (list, detail, acknowledge, close) and tasks (claim, complete,
a supervisor's assignment)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from puhui.domain.errors import ConfigurationError
from puhui.domain.monitoring import AlertStatus, Severity, TaskStatus
from puhui.services.monitoring import alerts, tasks
from puhui.services.monitoring.access import MonitoringAccess
from puhui.services.monitoring.ports import AlertQuery, TaskQuery
from puhui.web.dependencies import ApiDependencies, CurrentPrincipal, Deps, call
from puhui.web.schemas.common import ErrorBody, IsoDate
from puhui.web.schemas.monitoring import (
    AlertClosure,
    AlertOut,
    AlertPage,
    TaskAssigneesOut,
    TaskAssignment,
    TaskCompletion,
    TaskCreditOut,
    TaskOut,
    TaskPage,
    alert_out,
    task_credit_out,
    task_out,
)

ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
router = APIRouter(prefix="/api/v1", responses=ERRORS)  # type: ignore[arg-type]

Identifier = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(min_length=1, max_length=64, description="next_cursor")]
Limit = Annotated[int, Query(ge=1, le=alerts.MAX_PAGE)]


def _access(deps: ApiDependencies) -> MonitoringAccess:
    # The router is mounted only when monitoring is wired (see ``create_app``).
    if deps.monitoring is None:
        raise ConfigurationError("post-loan monitoring is not wired in this API")
    return deps.monitoring


@router.get("/alerts", response_model=AlertPage, tags=["post-loan monitoring"])
async def list_alerts(  # noqa: PLR0917 - one parameter per filter, as FastAPI declares them
    deps: Deps,
    principal: CurrentPrincipal,
    status: AlertStatus | None = None,
    severity: Severity | None = None,
    customer: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    run: IsoDate | None = None,
    since: Annotated[IsoDate | None, Query(alias="from")] = None,
    until: Annotated[IsoDate | None, Query(alias="to")] = None,
    after: Cursor = None,
    limit: Limit = 50,
) -> AlertPage:
    """Early-warning alerts, oldest first; filter by status, severity, customer, the run that
    raised them or a range of run dates. Staff who work post-loan risk, and auditors."""
    query = AlertQuery(
        status=status,
        severity=severity,
        customer_id=customer,
        run_date=run,
        raised_from=since,
        raised_to=until,
        after=after,
        limit=limit,
    )
    found = await call(deps, alerts.list_alerts, _access(deps), actor=principal, query=query)
    return AlertPage(
        items=[alert_out(a) for a in found],
        next_cursor=found[-1].alert.alert_id if len(found) == limit else None,
    )


@router.get("/alerts/{alert_id}", response_model=AlertOut, tags=["post-loan monitoring"])
async def get_alert(deps: Deps, principal: CurrentPrincipal, alert_id: Identifier) -> AlertOut:
    """An alert with its signals and the data behind each."""
    found = await call(deps, alerts.get_alert, _access(deps), actor=principal, alert_id=alert_id)
    return alert_out(found)


@router.post(
    "/alerts/{alert_id}/acknowledgement", response_model=AlertOut, tags=["post-loan monitoring"]
)
async def acknowledge_alert(
    deps: Deps, principal: CurrentPrincipal, alert_id: Identifier
) -> AlertOut:
    """Acknowledge an open alert (supervisors and risk officers)."""
    found = await call(
        deps, alerts.acknowledge_alert, _access(deps), actor=principal, alert_id=alert_id
    )
    return alert_out(found)


@router.post("/alerts/{alert_id}/closure", response_model=AlertOut, tags=["post-loan monitoring"])
async def close_alert(
    deps: Deps, principal: CurrentPrincipal, alert_id: Identifier, body: AlertClosure
) -> AlertOut:
    """Close an alert with a reason; the customer's next signals raise a new one."""
    found = await call(
        deps,
        alerts.close_alert,
        _access(deps),
        actor=principal,
        alert_id=alert_id,
        reason=body.reason,
    )
    return alert_out(found)


@router.get("/tasks", response_model=TaskPage, tags=["post-loan monitoring"])
async def list_tasks(  # noqa: PLR0917 - one parameter per filter, as FastAPI declares them
    deps: Deps,
    principal: CurrentPrincipal,
    mine: Annotated[
        bool, Query(description="only tasks I hold, and the branch queue's unassigned ones")
    ] = False,
    status: TaskStatus | None = None,
    customer: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    after: Cursor = None,
    limit: Limit = 50,
) -> TaskPage:
    """Post-loan tasks, oldest first."""
    query = TaskQuery(
        holder=principal.user_id if mine else None,
        include_queue=mine,
        status=status,
        customer_id=customer,
        after=after,
        limit=limit,
    )
    found = await call(deps, tasks.list_tasks, _access(deps), actor=principal, query=query)
    return TaskPage(
        items=[task_out(t) for t in found],
        next_cursor=found[-1].task.task_id if len(found) == limit else None,
    )


@router.get("/tasks/{task_id}", response_model=TaskOut, tags=["post-loan monitoring"])
async def get_task(deps: Deps, principal: CurrentPrincipal, task_id: Identifier) -> TaskOut:
    found = await call(deps, tasks.get_task, _access(deps), actor=principal, task_id=task_id)
    return task_out(found)


@router.get("/tasks/{task_id}/credit", response_model=TaskCreditOut, tags=["post-loan monitoring"])
async def get_task_credit(
    deps: Deps, principal: CurrentPrincipal, task_id: Identifier
) -> TaskCreditOut:
    """The task's customer's credit lines and active loans as they stand, and the outcomes the
    caller may record: a customer without a line offers no freeze or limit reduction, one
    without a loan no recall."""
    access = _access(deps)
    found = await call(deps, tasks.get_task, access, actor=principal, task_id=task_id)
    credit = await call(deps, tasks.customer_credit, access, actor=principal, task=found.task)
    return task_credit_out(found, credit, tasks.outcomes_open_to(principal, credit))


@router.post("/tasks/{task_id}/claim", response_model=TaskOut, tags=["post-loan monitoring"])
async def claim_task(deps: Deps, principal: CurrentPrincipal, task_id: Identifier) -> TaskOut:
    """Take a task: its assignee (any manager for a queue task), a supervisor, a risk officer."""
    found = await call(deps, tasks.claim_task, _access(deps), actor=principal, task_id=task_id)
    return task_out(found)


@router.post("/tasks/{task_id}/assignment", response_model=TaskOut, tags=["post-loan monitoring"])
async def assign_task(
    deps: Deps, principal: CurrentPrincipal, task_id: Identifier, body: TaskAssignment
) -> TaskOut:
    """A supervisor hands a task (分派) to one of their managers (``/task-assignees``): a
    branch queue's task nobody claimed, one another manager holds or one escalated to them. The
    task is ``open`` for the assignee to claim. A manager not theirs is 422
    ``task_assignee_not_in_team``; another role working tasks 403 ``outcome_not_permitted``, a
    role that does not 403 ``forbidden``; a completed task, the holder assigned again or a task
    whose outcome is being recorded 409; an unknown task 404."""
    found = await call(
        deps,
        tasks.assign_task,
        _access(deps),
        actor=principal,
        task_id=task_id,
        assignee=body.assignee,
    )
    return task_out(found)


@router.get("/task-assignees", response_model=TaskAssigneesOut, tags=["post-loan monitoring"])
async def task_assignees(deps: Deps, principal: CurrentPrincipal) -> TaskAssigneesOut:
    """The managers whose supervisor the caller is on record (set by an administrator with
    ``puhui monitor supervisor``): whom a supervisor assigns tasks to. Empty for others who
    work tasks; roles that do not work tasks 403."""
    found = await call(deps, tasks.team, _access(deps), actor=principal)
    return TaskAssigneesOut(assignees=found)


@router.post("/tasks/{task_id}/completion", response_model=TaskOut, tags=["post-loan monitoring"])
async def complete_task(
    deps: Deps, principal: CurrentPrincipal, task_id: Identifier, body: TaskCompletion
) -> TaskOut:
    """Record the outcome of a claimed task. An outcome that acts (freeze, reduce_limit,
    recall_early, hand_to_collections) does it through servicing, audited; a role that may not
    take it is refused with 403 ``outcome_not_permitted``."""
    found = await call(
        deps,
        tasks.complete_task,
        _access(deps),
        actor=principal,
        task_id=task_id,
        completion=tasks.Completion(
            outcome=body.outcome, note=body.note, new_limit_fen=body.new_limit_fen
        ),
    )
    return task_out(found)
