"""Post-loan work in the console: early-warning alerts, the tasks they make, collections.

Alerts (``/console/alerts``): filtered by status and severity, a page at a time; the detail
shows each signal with the data behind it; supervisors and risk officers acknowledge or close
one with a reason. Tasks (``/console/tasks``): the user's own and the branch queue's, claimed and
completed with an outcome — only the outcomes the monitoring rule allows the user's role are
offered, and the service acts on the acting ones (freeze, reduce, recall, hand to collections).
Collections (``/console/collections``): the queues by days past due, a case with its contacts
and promises, write-off proposals decided by a second person. Every action is the service's,
with the signed-in user as actor.
"""

from __future__ import annotations

import json
import secrets
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from puhui.domain.errors import ConfigurationError, InvalidAmount, InvalidInput
from puhui.domain.lending.account import LoanKind
from puhui.domain.money import parse_yuan
from puhui.domain.monitoring import (
    AlertStatus,
    Severity,
    TaskOutcome,
    TaskStatus,
)
from puhui.domain.monitoring.collection import (
    ContactChannel,
    ContactResult,
    DpdBucket,
    PromiseStatus,
    WriteOffStatus,
)
from puhui.services.collections import access as post_loan
from puhui.services.collections.access import PostLoanAccess
from puhui.services.collections.cases import decode_cursor
from puhui.services.collections.ports import QueueFilter
from puhui.services.monitoring import alerts, tasks
from puhui.services.monitoring.access import MonitoringAccess
from puhui.services.monitoring.ports import AlertQuery, TaskQuery
from puhui.services.security.permissions import Permission, Principal, Role
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import console_page, staff_names
from puhui.web.pages.forms import form_text
from puhui.web.pages.lines import LINE_STATUS_NAMES
from puhui.web.pages.loan_changes import CATEGORY_LABELS_ZH, CATEGORY_NAMES_EN
from puhui.web.pages.nav import N_, NavItem

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
PAGE = 50
E = TypeVar("E", bound=Enum)
CHINA_TIME = timezone(timedelta(hours=8), "CST")
"""A browser's date-and-time field has no zone: the console's users work in China's time."""


def open_alerts(deps: ApiDependencies, principal: Principal) -> int:
    """Alerts waiting to be acknowledged, for those who acknowledge them."""
    if not principal.can(Permission.ALERT_MANAGE):
        return 0
    return alerts.count_open_alerts(_monitoring(deps), actor=principal)


def my_open_tasks(deps: ApiDependencies, principal: Principal) -> int:
    """The post-loan tasks waiting for the user (assigned, escalated to them, or claimed)."""
    return tasks.count_my_tasks(_monitoring(deps), actor=principal)


def my_cases(deps: ApiDependencies, principal: Principal) -> int:
    """The open collection cases the user holds, for those who work cases."""
    if not principal.can(Permission.COLLECTIONS_WORK):
        return 0
    return post_loan.count_my_cases(_post_loan(deps), actor=principal)


NAV = (
    NavItem(
        "/console/alerts",
        N_("Alerts"),
        N_("Post-loan early warnings: their signals and the data behind each."),
        Permission.ALERT_READ,
        order=40,
        waiting=open_alerts,
        waiting_label=N_("Alerts not yet acknowledged: %(count)s"),
    ),
    NavItem(
        "/console/tasks",
        N_("My tasks"),
        N_("Post-loan tasks you hold and your branch's queue: claim, then record the outcome."),
        Permission.TASK_WORK,
        order=41,
        waiting=my_open_tasks,
        waiting_label=N_("Your open tasks: %(count)s"),
    ),
    NavItem(
        "/console/collections",
        N_("Collections"),
        N_("Overdue receipts by days past due: contacts, promises to pay, write-offs."),
        Permission.COLLECTIONS_READ,
        order=42,
        waiting=my_cases,
        waiting_label=N_("Collection cases you hold: %(count)s"),
    ),
)

ERRORS = {
    "outcome_not_permitted": N_(
        "Your role may not do this with the task. Ask a supervisor or a risk officer."
    ),
    "task_transition_refused": N_(
        "The task is no longer in a state that allows this. Reload the page to see it now."
    ),
    "alert_transition_refused": N_(
        "The alert is no longer in a state that allows this. Reload the page to see it now."
    ),
    "task_action_unavailable": N_(
        "This outcome cannot be carried out for this customer: there is no credit line to "
        "freeze or reduce, or no loan left to recall. Choose another outcome."
    ),
    "promise_refused": N_("The promise is not valid: check the amount and the date."),
    "write_off_refused": N_("This receipt cannot be written off now."),
    "write_off_not_90_dpd": N_("Only receipts more than 90 days past due can be written off."),
    "write_off_same_person": N_(
        "A second person must decide: you cannot decide a write-off you proposed."
    ),
    "write_off_four_eyes": N_(
        "A second person must decide: you cannot decide a write-off you proposed."
    ),
    "write_off_already_decided": N_("The write-off has been decided already."),
    "already_written_off": N_("The receipt has been written off already."),
    "collection_case_not_open": N_("The collection case is closed."),
}

SEVERITY_NAMES = {
    Severity.LOW: N_("Low"),
    Severity.MEDIUM: N_("Medium"),
    Severity.HIGH: N_("High"),
}
ALERT_STATUS_NAMES = {
    AlertStatus.OPEN: N_("Open"),
    AlertStatus.ACKNOWLEDGED: N_("Acknowledged"),
    AlertStatus.CLOSED: N_("Closed"),
}
TASK_STATUS_NAMES = {
    TaskStatus.OPEN: N_("Open"),
    TaskStatus.CLAIMED: N_("Claimed"),
    TaskStatus.COMPLETED: N_("Completed"),
    TaskStatus.ESCALATED: N_("Escalated"),
}
OUTCOME_NAMES = {
    TaskOutcome.CONTACTED: N_("Contacted the owner"),
    TaskOutcome.VISITED: N_("Visited the enterprise"),
    TaskOutcome.NO_ISSUE: N_("No issue found"),
    TaskOutcome.MONITOR: N_("Keep monitoring"),
    TaskOutcome.FREEZE: N_("Freeze the line"),
    TaskOutcome.REDUCE_LIMIT: N_("Reduce the limit"),
    TaskOutcome.RECALL_EARLY: N_("Recall the loan early"),
    TaskOutcome.HAND_TO_COLLECTIONS: N_("Hand to collections"),
}
LOAN_KIND_NAMES = {LoanKind.RECEIPT: N_("Receipt"), LoanKind.TERM: N_("Term loan")}
BUCKET_NAMES = {
    DpdBucket.REMINDER: N_("Reminder (1–30 days past due)"),
    DpdBucket.COLLECTION: N_("Collection (31–90 days past due)"),
    DpdBucket.LEGAL: N_("Legal (over 90 days past due)"),
}
CHANNEL_NAMES = {
    ContactChannel.PHONE: N_("Phone"),
    ContactChannel.SMS: N_("Text message"),
    ContactChannel.VISIT: N_("Visit"),
    ContactChannel.LETTER: N_("Letter"),
}
RESULT_NAMES = {
    ContactResult.REACHED: N_("Reached"),
    ContactResult.NO_ANSWER: N_("No answer"),
    ContactResult.REFUSED: N_("Refused to pay"),
    ContactResult.WRONG_NUMBER: N_("Wrong number"),
    ContactResult.PROMISED: N_("Promised to pay"),
}
WRITE_OFF_STATUS_NAMES = {
    WriteOffStatus.PROPOSED: N_("Proposed"),
    WriteOffStatus.APPROVING: N_("Being approved"),
    WriteOffStatus.APPROVED: N_("Approved"),
    WriteOffStatus.REJECTED: N_("Rejected"),
}
PROMISE_STATUS_NAMES = {
    PromiseStatus.PENDING: N_("Pending"),
    PromiseStatus.KEPT: N_("Kept"),
    PromiseStatus.BROKEN: N_("Broken"),
}
NOTICES = {
    "acknowledged": N_("The alert is acknowledged."),
    "closed": N_("The alert is closed."),
    "claimed": N_("You hold the task now."),
    "completed": N_("The task is completed with its outcome."),
    "assigned": N_("The task is assigned: it waits for the manager to claim it."),
    "case_claimed": N_("You hold the case now."),
    "contact": N_("The contact is logged."),
    "promise": N_("The promise to pay is recorded."),
    "proposed": N_("The write-off is proposed: a second person decides."),
    "approved": N_("The write-off is approved and posted to the ledger."),
    "rejected": N_("The write-off is rejected."),
}


def _deps(request: Request) -> ApiDependencies:
    deps: ApiDependencies = request.app.state.deps
    return deps


def _monitoring(deps: ApiDependencies) -> MonitoringAccess:
    if deps.monitoring is None:
        raise ConfigurationError("post-loan monitoring is not wired in this site")
    return deps.monitoring


def _post_loan(deps: ApiDependencies) -> PostLoanAccess:
    if deps.post_loan is None:
        raise ConfigurationError("collections are not wired in this site")
    return deps.post_loan


def _choice(kind: type[E], value: str | None) -> E | None:
    """A filter's enum value; an unknown or empty one means "any"."""
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        return None


def _notice(request: Request) -> str | None:
    key = request.query_params.get("done")
    return NOTICES.get(key or "")


def _back(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?done={done}", status_code=303)


def _evidence(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


# --- alerts ---------------------------------------------------------------------------------


@router.get("/console/alerts")
async def alert_list(
    request: Request,
    principal: StaffUser,
    status: str | None = None,
    severity: str | None = None,
    after: str | None = None,
) -> HTMLResponse:
    deps = _deps(request)
    chosen_status = _choice(AlertStatus, status)
    chosen_severity = _choice(Severity, severity)
    query = AlertQuery(
        status=chosen_status,
        severity=chosen_severity,
        after=(after or None) if after and len(after) <= 64 else None,
        limit=PAGE,
    )
    found = await call(deps, alerts.list_alerts, _monitoring(deps), actor=principal, query=query)
    return console_page(
        request,
        principal,
        "monitoring/alerts.html",
        {
            "alerts": found,
            "status": chosen_status,
            "severity": chosen_severity,
            "statuses": ALERT_STATUS_NAMES,
            "severities": SEVERITY_NAMES,
            "next_after": found[-1].alert.alert_id if len(found) == PAGE else None,
            "paged": query.after is not None,
        },
    )


@router.get("/console/alerts/{alert_id}")
async def alert_detail(request: Request, principal: StaffUser, alert_id: str) -> HTMLResponse:
    deps = _deps(request)
    found = await call(
        deps, alerts.get_alert, _monitoring(deps), actor=principal, alert_id=alert_id[:64]
    )
    evidence = {code: _evidence(value) for code, value in found.evidence.items()}
    return console_page(
        request,
        principal,
        "monitoring/alert.html",
        {
            "stored": found,
            "alert": found.alert,
            "evidence": evidence,
            "statuses": ALERT_STATUS_NAMES,
            "severities": SEVERITY_NAMES,
            "may_manage": principal.can(Permission.ALERT_MANAGE),
            "notice": _notice(request),
        },
    )


@router.post("/console/alerts/{alert_id}/acknowledge")
async def alert_acknowledge(
    request: Request, principal: StaffUser, alert_id: str
) -> RedirectResponse:
    await session.verified_form(request)
    deps = _deps(request)
    found = await call(
        deps, alerts.acknowledge_alert, _monitoring(deps), actor=principal, alert_id=alert_id[:64]
    )
    return _back(f"/console/alerts/{found.alert.alert_id}", "acknowledged")


@router.post("/console/alerts/{alert_id}/close")
async def alert_close(request: Request, principal: StaffUser, alert_id: str) -> RedirectResponse:
    form = await session.verified_form(request)
    deps = _deps(request)
    found = await call(
        deps,
        alerts.close_alert,
        _monitoring(deps),
        actor=principal,
        alert_id=alert_id[:64],
        reason=form_text(form, "reason", 500),
    )
    return _back(f"/console/alerts/{found.alert.alert_id}", "closed")


# --- tasks ----------------------------------------------------------------------------------


def _sees_all_tasks(principal: Principal) -> bool:
    """Supervisors and risk officers look beyond their own queue."""
    return principal.can(Permission.ALERT_MANAGE)


@router.get("/console/tasks")
async def task_list(
    request: Request,
    principal: StaffUser,
    view: str | None = None,
    status: str | None = None,
    after: str | None = None,
) -> HTMLResponse:
    deps = _deps(request)
    everything = view == "all" and _sees_all_tasks(principal)
    chosen_status = _choice(TaskStatus, status)
    query = TaskQuery(
        holder=None if everything else principal.user_id,
        include_queue=not everything,
        status=chosen_status,
        after=after if after and len(after) <= 64 else None,
        limit=PAGE,
    )
    found = await call(deps, tasks.list_tasks, _monitoring(deps), actor=principal, query=query)
    return console_page(
        request,
        principal,
        "monitoring/tasks.html",
        {
            "tasks": found,
            "view": "all" if everything else "mine",
            "may_see_all": _sees_all_tasks(principal),
            "status": chosen_status,
            "statuses": TASK_STATUS_NAMES,
            "severities": SEVERITY_NAMES,
            "outcome_names": OUTCOME_NAMES,
            "next_after": found[-1].task.task_id if len(found) == PAGE else None,
            "paged": query.after is not None,
            "notice": _notice(request),
        },
    )


@router.get("/console/tasks/{task_id}")
async def task_detail(request: Request, principal: StaffUser, task_id: str) -> HTMLResponse:
    deps = _deps(request)
    access = _monitoring(deps)
    found = await call(deps, tasks.get_task, access, actor=principal, task_id=task_id[:64])
    alert = None
    if principal.can(Permission.ALERT_READ):
        alert = await call(
            deps, alerts.get_alert, access, actor=principal, alert_id=found.task.alert_id
        )
    credit = await call(deps, tasks.customer_credit, access, actor=principal, task=found.task)
    task = found.task
    # A supervisor assigns an unfinished task (not one escalated to another supervisor) to
    # one of their managers.
    assigns = (
        principal.role is Role.SUPERVISOR
        and task.status is not TaskStatus.COMPLETED
        and (task.status is not TaskStatus.ESCALATED or task.assignee == principal.user_id)
    )
    team = await call(deps, tasks.team, access, actor=principal) if assigns else []
    names = await call(deps, staff_names, deps, [*team, task.holder or ""])
    return console_page(
        request,
        principal,
        "monitoring/task.html",
        {
            "stored": found,
            "task": task,
            "holder_name": names.get(task.holder or "", ""),
            "assigns": assigns,
            "team": [(user_id, names[user_id]) for user_id in team if user_id != task.holder],
            "alert": alert,
            "credit": credit,
            "action": _evidence(found.action) if found.action else None,
            "outcomes": tasks.outcomes_open_to(principal, credit),
            "loan_kinds": LOAN_KIND_NAMES,
            "line_statuses": LINE_STATUS_NAMES,
            "category_names_en": CATEGORY_NAMES_EN,
            "category_labels_zh": CATEGORY_LABELS_ZH,
            "outcome_names": OUTCOME_NAMES,
            "statuses": TASK_STATUS_NAMES,
            "severities": SEVERITY_NAMES,
            "reduce": TaskOutcome.REDUCE_LIMIT,
            "me": principal.user_id,
            "notice": _notice(request),
        },
    )


@router.post("/console/tasks/{task_id}/claim")
async def task_claim(request: Request, principal: StaffUser, task_id: str) -> RedirectResponse:
    await session.verified_form(request)
    deps = _deps(request)
    found = await call(
        deps, tasks.claim_task, _monitoring(deps), actor=principal, task_id=task_id[:64]
    )
    return _back(f"/console/tasks/{found.task.task_id}", "claimed")


@router.post("/console/tasks/{task_id}/assign")
async def task_assign(request: Request, principal: StaffUser, task_id: str) -> RedirectResponse:
    """A supervisor hands the task to one of their managers (分派)."""
    form = await session.verified_form(request)
    deps = _deps(request)
    found = await call(
        deps,
        tasks.assign_task,
        _monitoring(deps),
        actor=principal,
        task_id=task_id[:64],
        assignee=form_text(form, "assignee", 64),
    )
    return _back(f"/console/tasks/{found.task.task_id}", "assigned")


@router.post("/console/tasks/{task_id}/complete")
async def task_complete(request: Request, principal: StaffUser, task_id: str) -> RedirectResponse:
    form = await session.verified_form(request)
    deps = _deps(request)
    outcome = _choice(TaskOutcome, str(form.get("outcome", "")))
    if outcome is None:
        raise InvalidInput("choose an outcome", details={"field": "outcome"})
    new_limit: int | None = None
    if outcome is TaskOutcome.REDUCE_LIMIT:
        new_limit = parse_yuan(form_text(form, "new_limit", 24))
    completion = tasks.Completion(
        outcome=outcome, note=form_text(form, "note", 2000), new_limit_fen=new_limit
    )
    found = await call(
        deps,
        tasks.complete_task,
        _monitoring(deps),
        actor=principal,
        task_id=task_id[:64],
        completion=completion,
    )
    return _back(f"/console/tasks/{found.task.task_id}", "completed")


# --- collections ----------------------------------------------------------------------------


def _form_key() -> str:
    """A fresh idempotency key for a form: sending the same form twice records it once."""
    return "page-" + secrets.token_urlsafe(18)


def _key(form: FormData) -> str:
    key = form_text(form, "idempotency_key", 80)
    if not key:
        raise InvalidInput("the form has no key: reload the page", details={"field": "key"})
    return key


@router.get("/console/collections")
async def collection_queue(
    request: Request,
    principal: StaffUser,
    bucket: str | None = None,
    mine: str | None = None,
    cursor: str | None = None,
) -> HTMLResponse:
    deps = _deps(request)
    chosen = _choice(DpdBucket, bucket) or DpdBucket.REMINDER
    only_mine = mine == "1"
    query = QueueFilter(
        bucket=chosen,
        assignee=principal.audit_name() if only_mine else None,
        after=decode_cursor(cursor) if cursor and len(cursor) <= 200 else None,
        limit=PAGE,
    )
    page = await call(deps, post_loan.queue, _post_loan(deps), actor=principal, query=query)
    return console_page(
        request,
        principal,
        "monitoring/collections.html",
        {
            "page": page,
            "bucket": chosen,
            "buckets": BUCKET_NAMES,
            "mine": only_mine,
            "paged": cursor is not None,
            "may_decide": principal.can(Permission.WRITE_OFF_DECIDE),
        },
    )


@router.get("/console/collections/write-offs")
async def write_off_list(
    request: Request, principal: StaffUser, status: str | None = None
) -> HTMLResponse:
    deps = _deps(request)
    chosen = _choice(WriteOffStatus, status) if status != "any" else None
    if status is None:
        chosen = WriteOffStatus.PROPOSED
    found = await call(
        deps,
        post_loan.list_write_offs,
        _post_loan(deps),
        actor=principal,
        status=chosen,
        limit=PAGE,
    )
    return console_page(
        request,
        principal,
        "monitoring/write_offs.html",
        {
            "proposals": found,
            "status": chosen,
            "statuses": WRITE_OFF_STATUS_NAMES,
            "may_decide": principal.can(Permission.WRITE_OFF_DECIDE),
            "me": principal.audit_name(),
            "form_key": _form_key(),
            "notice": _notice(request),
        },
    )


@router.post("/console/collections/write-offs/{proposal_id}/decision")
async def write_off_decide(
    request: Request, principal: StaffUser, proposal_id: str
) -> RedirectResponse:
    form = await session.verified_form(request)
    deps = _deps(request)
    decision = str(form.get("decision", ""))
    if decision not in ("approve", "reject"):
        raise InvalidInput("approve or reject", details={"field": "decision"})
    await call(
        deps,
        post_loan.decide_write_off,
        _post_loan(deps),
        actor=principal,
        proposal_id=proposal_id[:64],
        approve=decision == "approve",
        note=form_text(form, "note", 500) or None,
        idempotency_key=_key(form),
    )
    return _back(
        "/console/collections/write-offs", "approved" if decision == "approve" else "rejected"
    )


@router.get("/console/collections/{case_id}")
async def case_detail(request: Request, principal: StaffUser, case_id: str) -> HTMLResponse:
    deps = _deps(request)
    found = await call(
        deps, post_loan.case_detail, _post_loan(deps), actor=principal, case_id=case_id[:64]
    )
    return console_page(
        request,
        principal,
        "monitoring/case.html",
        {
            "detail": found,
            "case": found.case,
            "buckets": BUCKET_NAMES,
            "channels": CHANNEL_NAMES,
            "results": RESULT_NAMES,
            "write_off_statuses": WRITE_OFF_STATUS_NAMES,
            "promise_statuses": PROMISE_STATUS_NAMES,
            "may_work": principal.can(Permission.COLLECTIONS_WORK),
            "me": principal.audit_name(),
            "legal": DpdBucket.LEGAL,
            "form_key": _form_key(),
            "notice": _notice(request),
        },
    )


@router.post("/console/collections/{case_id}/claim")
async def case_claim(request: Request, principal: StaffUser, case_id: str) -> RedirectResponse:
    await session.verified_form(request)
    deps = _deps(request)
    found = await call(
        deps, post_loan.claim, _post_loan(deps), actor=principal, case_id=case_id[:64]
    )
    return _back(f"/console/collections/{found.case_id}", "case_claimed")


def _contacted_at(text: str) -> datetime:
    if not text:
        raise InvalidInput("enter when the contact was made", details={"field": "contacted_at"})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("not a date and time", details={"field": "contacted_at"}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TIME)


@router.post("/console/collections/{case_id}/contacts")
async def case_contact(request: Request, principal: StaffUser, case_id: str) -> RedirectResponse:
    form = await session.verified_form(request)
    deps = _deps(request)
    channel = _choice(ContactChannel, str(form.get("channel", "")))
    result = _choice(ContactResult, str(form.get("result", "")))
    if channel is None or result is None:
        raise InvalidInput("choose a channel and a result", details={"field": "channel"})
    await call(
        deps,
        post_loan.record_contact,
        _post_loan(deps),
        actor=principal,
        case_id=case_id[:64],
        channel=channel,
        result=result,
        contacted_at=_contacted_at(form_text(form, "contacted_at", 32)),
        note=form_text(form, "note", 2000),
        idempotency_key=_key(form),
    )
    return _back(f"/console/collections/{case_id[:64]}", "contact")


@router.post("/console/collections/{case_id}/promises")
async def case_promise(request: Request, principal: StaffUser, case_id: str) -> RedirectResponse:
    form = await session.verified_form(request)
    deps = _deps(request)
    try:
        promised_on = date.fromisoformat(form_text(form, "promised_on", 10))
        grace = int(form_text(form, "grace_days", 3) or "0")
    except ValueError:
        raise InvalidInput(
            "not a date or a number of days", details={"field": "promised_on"}
        ) from None
    amount = parse_yuan(form_text(form, "amount", 24))
    if amount <= 0:
        raise InvalidAmount("the amount must be positive", details={"field": "amount"})
    await call(
        deps,
        post_loan.promise,
        _post_loan(deps),
        actor=principal,
        case_id=case_id[:64],
        amount_fen=amount,
        promised_on=promised_on,
        grace_days=grace,
        idempotency_key=_key(form),
    )
    return _back(f"/console/collections/{case_id[:64]}", "promise")


@router.post("/console/collections/{case_id}/write-off")
async def case_write_off(request: Request, principal: StaffUser, case_id: str) -> RedirectResponse:
    form = await session.verified_form(request)
    deps = _deps(request)
    access = _post_loan(deps)
    found = await call(deps, post_loan.case_detail, access, actor=principal, case_id=case_id[:64])
    await call(
        deps,
        post_loan.propose_write_off,
        access,
        actor=principal,
        receipt_id=found.case.receipt_id,
        reason=form_text(form, "reason", 400),
        idempotency_key=_key(form),
    )
    return _back(f"/console/collections/{found.case.case_id}", "proposed")
