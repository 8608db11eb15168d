"""Strategy pages: versions by kind, a version's tables, the diff of two versions, the
lifecycle (draft, submit, approve, activate) and backtests of a version."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from puhui.bootstrap.wiring import strategy_input_schema
from puhui.decision.backtest import BacktestReport, Group
from puhui.domain.errors import Conflict, InvalidInput, PuhuiError
from puhui.services import governance, strategies
from puhui.services.security.permissions import Permission, Principal, require
from puhui.web.dependencies import call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.errors import error_text
from puhui.web.pages.nav import N_
from puhui.web.pages.rendering import gettext
from puhui.web.pages.risk import document_view
from puhui.web.pages.risk.common import (
    KIND_NAMES,
    STATUS_BADGES,
    STATUS_NAMES,
    deps_of,
    detail_of,
    jobs,
    person,
    strategy_units,
)
from puhui.web.pages.risk.jobs import Job

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
BACKTEST = "backtest"
MAX_UPLOAD_BYTES = 256 * 1024
DONE_MESSAGES: dict[str, str] = {
    "drafted": N_("The draft is saved. Check its tables, then submit it for approval."),
    "submitted": N_("Submitted. A second person must now approve it."),
    "approved": N_("Approved. It can now be activated."),
    "rejected": N_("Sent back to draft, with what to change: its author reads it on this page."),
    "activated": N_("Active: it decides from the next application on."),
}
ACTIONS = {
    "submit": (governance.submit, "submitted"),
    "approve": (governance.approve, "approved"),
}


def _common(request: Request) -> dict[str, Any]:
    return {
        "status_names": STATUS_NAMES,
        "status_badges": STATUS_BADGES,
        "kind_names": KIND_NAMES,
        "person": lambda actor: person(request, actor),
    }


def _kind(value: str | None) -> strategies.DocumentKind | None:
    try:
        return strategies.DocumentKind(value) if value else None
    except ValueError:
        raise InvalidInput("unknown document kind", details={"field": "kind"}) from None


@router.get("/console/strategies")
async def strategy_list(
    request: Request, principal: StaffUser, kind: str | None = None
) -> HTMLResponse:
    chosen = _kind(kind)
    versions = await call(
        deps_of(request),
        governance.list_documents,
        strategy_units(request),
        actor=principal,
        kind=chosen,
    )
    return console_page(
        request,
        principal,
        "risk/strategies.html",
        {
            **_common(request),
            "versions": versions,
            "kind": chosen.value if chosen else "",
            "kinds": [k.value for k in strategies.DocumentKind],
            "can_manage": principal.can(Permission.STRATEGY_MANAGE),
        },
    )


# --- drafting --------------------------------------------------------------------------


def _draft_page(
    request: Request,
    principal: Principal,
    *,
    text: str,
    kind: str,
    error: PuhuiError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    page = console_page(
        request,
        principal,
        "risk/strategy_draft.html",
        {
            **_common(request),
            "text": text,
            "kind": kind,
            "kinds": [k.value for k in strategies.DocumentKind],
            "error": None if error is None else error_text(request, error),
            "error_detail": detail_of(error),
        },
    )
    page.status_code = status_code
    return page


@router.get("/console/strategies/new")
async def draft_form(
    request: Request,
    principal: StaffUser,
    name: str | None = None,
    version: int | None = None,
    edit: bool = False,
) -> HTMLResponse:
    """A draft to edit: a copy of ``name@version`` renumbered as the next version (or, with
    ``edit``, the draft's own text)."""
    require(principal, Permission.STRATEGY_MANAGE)
    text, kind = "", strategies.DocumentKind.STRATEGY.value
    if name is not None and version is not None:
        units = strategy_units(request)
        deps = deps_of(request)
        source = await call(
            deps, governance.get_document, units, actor=principal, name=name, version=version
        )
        if edit and source.status is strategies.StrategyStatus.DRAFT:
            text = source.document
        else:
            text = await call(
                deps, governance.next_draft_text, units, actor=principal, name=name, version=version
            )
        kind = source.kind.value
    return _draft_page(request, principal, text=text, kind=kind)


@router.post("/console/strategies/new")
async def save_draft(request: Request, principal: StaffUser) -> Response:
    form = await session.verified_form(request)
    text = str(form.get("document", ""))
    upload = form.get("file")
    if upload is not None and not isinstance(upload, str) and upload.filename:
        raw = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(raw) > MAX_UPLOAD_BYTES:
            raise InvalidInput("the file is larger than 256 KB", details={"field": "file"})
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the file is not UTF-8 text", details={"field": "file"}) from None
    kind_value = str(form.get("kind", strategies.DocumentKind.STRATEGY.value))
    kind = _kind(kind_value) or strategies.DocumentKind.STRATEGY
    deps = deps_of(request)
    try:
        saved = await call(
            deps,
            governance.save_draft,
            strategy_units(request),
            actor=principal,
            text=text,
            kind=kind,
            clock=deps.origination.clock,
        )
    except (InvalidInput, Conflict) as exc:
        status = 409 if isinstance(exc, Conflict) else 422
        return _draft_page(
            request, principal, text=text, kind=kind.value, error=exc, status_code=status
        )
    return RedirectResponse(_version_path(saved, done="drafted"), status_code=303)


def _version_path(item: strategies.StrategyVersion, *, done: str | None = None) -> str:
    path = f"/console/strategies/{item.name}/{item.version}"
    return f"{path}?done={done}" if done else path


# --- one version -------------------------------------------------------------------------


async def _version_page(
    request: Request,
    principal: Principal,
    name: str,
    version: int,
    *,
    done: str | None = None,
    error: PuhuiError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    deps, units = deps_of(request), strategy_units(request)
    item = await call(
        deps, governance.get_document, units, actor=principal, name=name, version=version
    )
    others = await call(deps, governance.versions_of, units, actor=principal, name=name)
    data = document_view.parse(item.document)
    active = next((v.version for v in others if v.status is strategies.StrategyStatus.ACTIVE), None)
    previous = next((v.version for v in others if v.version < version), None)
    # Compare with the active version by default, else with the one before; a first version
    # is compared with the next one.
    compare_old = active if active not in (None, version) else previous
    compare_new = version
    if compare_old is None:
        compare_old = version
        compare_new = next((v.version for v in reversed(others) if v.version > version), version)
    latest_job = jobs(request).latest(BACKTEST, item.label)
    today = deps.origination.clock.today()
    page = console_page(
        request,
        principal,
        "risk/strategy_version.html",
        {
            **_common(request),
            "item": item,
            "others": others,
            "compare_old": compare_old,
            "compare_new": compare_new,
            "sections": document_view.sections(data),
            "description": str(data.get("description", "")),
            "done": gettext(request, DONE_MESSAGES[done]) if done in DONE_MESSAGES else None,
            "error": None if error is None else error_text(request, error),
            "error_detail": detail_of(error),
            "can_manage": principal.can(Permission.STRATEGY_MANAGE),
            "can_approve": principal.can(Permission.STRATEGY_APPROVE),
            "latest_job": latest_job,
            "backtest_from": _month_start(today, 2).isoformat(),
            "backtest_to": (today - dt.timedelta(days=1)).isoformat(),
        },
    )
    page.status_code = status_code
    return page


def _month_start(day: dt.date, months_back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


@router.get("/console/strategies/{name}/{version:int}")
async def version_page(
    request: Request, principal: StaffUser, name: str, version: int, done: str | None = None
) -> HTMLResponse:
    return await _version_page(request, principal, name, version, done=done)


async def lifecycle_step(
    request: Request, principal: StaffUser, name: str, version: int, action: str
) -> Response:
    """Submit, approve, reject or activate; a refusal is shown on the version's page. A
    version is sent back (rejected) with what its author should change."""
    form = await session.verified_form(request)
    deps, units = deps_of(request), strategy_units(request)
    clock = deps.origination.clock
    try:
        if action == "activate":
            await call(
                deps,
                governance.activate,
                units,
                actor=principal,
                name=name,
                version=version,
                clock=clock,
                schema=strategy_input_schema(),
            )
            done = "activated"
        elif action == "reject":
            await call(
                deps,
                governance.reject,
                units,
                actor=principal,
                name=name,
                version=version,
                clock=clock,
                reason=str(form.get("reason", ""))[: strategies.MAX_RETURN_REASON + 1],
            )
            done = "rejected"
        elif action in ACTIONS:
            step, done = ACTIONS[action]
            await call(deps, step, units, actor=principal, name=name, version=version, clock=clock)
        else:
            raise InvalidInput(f"unknown action {action!r}", details={"field": "action"})
    except (Conflict, InvalidInput) as exc:
        status = 409 if isinstance(exc, Conflict) else 422
        return await _version_page(request, principal, name, version, error=exc, status_code=status)
    return RedirectResponse(f"/console/strategies/{name}/{version}?done={done}", status_code=303)


# --- diff ------------------------------------------------------------------------------------


@router.get("/console/strategies/{name}/diff/{old:int}/{new:int}")
async def diff_page(
    request: Request, principal: StaffUser, name: str, old: int, new: int
) -> HTMLResponse:
    deps, units = deps_of(request), strategy_units(request)
    before = await call(
        deps, governance.get_document, units, actor=principal, name=name, version=old
    )
    after = await call(
        deps, governance.get_document, units, actor=principal, name=name, version=new
    )
    text = await call(
        deps, governance.diff_documents, units, actor=principal, name=name, old=old, new=new
    )
    others = await call(deps, governance.versions_of, units, actor=principal, name=name)
    changes = document_view.section_changes(
        document_view.parse(governance.canonical_text(before)),
        document_view.parse(governance.canonical_text(after)),
    )
    return console_page(
        request,
        principal,
        "risk/strategy_diff.html",
        {
            **_common(request),
            "name": name,
            "before": before,
            "after": after,
            "others": others,
            "lines": document_view.diff_lines(text),
            "changes": changes,
            "section_titles": document_view.SECTION_TITLES,
        },
    )


@router.get("/console/strategies/{name}/diff")
async def diff_choice(name: str, old: int, new: int) -> RedirectResponse:
    """The compare form's answer (a GET form) goes to the diff's own address."""
    return RedirectResponse(f"/console/strategies/{name}/diff/{old}/{new}", status_code=303)


# --- backtests ------------------------------------------------------------------------------


def _date(value: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("a date is written YYYY-MM-DD", details={"field": field}) from None


@router.post("/console/strategies/{name}/{version:int}/backtests")
async def start_backtest(
    request: Request, principal: StaffUser, name: str, version: int
) -> Response:
    """Start a backtest over the decisions stored in a period; its page follows it."""
    form = await session.verified_form(request)
    governance.require_any(principal, Permission.STRATEGY_MANAGE, Permission.STRATEGY_APPROVE)
    first = _date(str(form.get("decided_from", "")), "decided_from")
    last = _date(str(form.get("decided_to", "")), "decided_to")
    if last < first:
        raise InvalidInput("the period ends before it starts", details={"field": "decided_to"})
    deps, units = deps_of(request), strategy_units(request)
    item = await call(
        deps, governance.get_document, units, actor=principal, name=name, version=version
    )
    if item.kind is not strategies.DocumentKind.STRATEGY:
        raise InvalidInput("only credit strategies can be backtested", details={"field": "kind"})
    reader = deps.origination.reader_factory or deps.origination.uow_factory
    job = jobs(request).start(
        BACKTEST,
        item.label,
        principal.audit_name(),
        {"name": name, "version": str(version), "from": first.isoformat(), "to": last.isoformat()},
        lambda: governance.backtest(
            units,
            reader,
            actor=principal,
            name=name,
            version=version,
            first_day=first,
            last_day=last,
        ),
    )
    return RedirectResponse(f"/console/strategies/backtests/{job.id}", status_code=303)


def _group_row(label: str, group: Group) -> dict[str, Any]:
    return {
        "label": label,
        "applicants": group.applicants,
        "approved": group.approved,
        "referred": group.referred,
        "declined": group.declined,
        "approval_rate": group.approval_rate,
        "bad_rate": group.expected_bad_rate,
        "limit_fen": group.limit_fen_approved,
        "loss_fen": int(group.expected_loss_fen),
    }


def _grade_chart(request: Request, report: BacktestReport) -> dict[str, Any]:
    """Approval rate (bars) and expected bad rate (line) by grade, candidate and current."""
    grades = sorted(
        set(report.candidate.by_grade) | set(report.current.by_grade if report.current else ())
    )
    series: list[dict[str, Any]] = []
    share_label = gettext(request, N_("approval rate %"))
    bad_label = gettext(request, N_("expected bad rate %"))
    for result, label in (
        (report.candidate, N_("Candidate")),
        (report.current, N_("Active version")),
    ):
        if result is None:
            continue
        name = f"{gettext(request, label)} {result.strategy_version}"
        shares = [
            round(result.by_grade[g].approval_rate * 100, 2) if g in result.by_grade else 0
            for g in grades
        ]
        bad = [
            round(result.by_grade[g].expected_bad_rate * 100, 2) if g in result.by_grade else 0
            for g in grades
        ]
        series.append(
            {
                "name": f"{name} · {share_label}",
                "type": "bar",
                "data": shares,
            }
        )
        series.append(
            {
                "name": f"{name} · {bad_label}",
                "type": "line",
                "yAxisIndex": 1,
                "data": bad,
            }
        )
    return {
        "aria": {"enabled": True},
        "animation": False,
        "tooltip": {"trigger": "axis", "renderMode": "richText"},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"top": 60, "left": 50, "right": 50, "bottom": 30},
        "xAxis": {"type": "category", "data": grades, "name": gettext(request, N_("Grade"))},
        "yAxis": [
            {"type": "value", "name": "%"},
            {"type": "value", "name": "%", "splitLine": {"show": False}},
        ],
        "series": series,
    }


def _report_context(request: Request, job: Job) -> dict[str, Any]:
    context: dict[str, Any] = {"job": job, "report": None, "error": None, "error_detail": None}
    if job.error is not None:
        context["error"] = error_text(request, job.error)
        context["error_detail"] = job.error.message
    report: BacktestReport | None = job.result if job.finished else None
    if report is None:
        return context
    results = [report.candidate] + ([report.current] if report.current else [])
    context.update(
        report=report,
        summary=[_group_row(r.strategy_version, r.total) for r in results],
        by_grade=[
            (r.strategy_version, [_group_row(g, r.by_grade[g]) for g in sorted(r.by_grade)])
            for r in results
        ],
        reasons=report.candidate.reasons.most_common(10),
        chart=_grade_chart(request, report),
    )
    return context


@router.get("/console/strategies/backtests/{job_id}")
async def backtest_page(request: Request, principal: StaffUser, job_id: str) -> HTMLResponse:
    require(principal, Permission.STRATEGY_READ)
    job = jobs(request).get(job_id, BACKTEST)
    return console_page(
        request,
        principal,
        "risk/backtest.html",
        {**_common(request), **_report_context(request, job)},
    )


@router.get("/console/strategies/backtests/{job_id}/report")
async def backtest_fragment(request: Request, principal: StaffUser, job_id: str) -> HTMLResponse:
    """The report, or while it runs the waiting notice that asks again (HTMX polling)."""
    require(principal, Permission.STRATEGY_READ)
    job = jobs(request).get(job_id, BACKTEST)
    if job.finished and request.headers.get("hx-request"):
        # The whole page again: its charts are drawn when a page loads.
        return HTMLResponse("", headers={"HX-Refresh": "true"})
    return console_page(
        request,
        principal,
        "risk/backtest_report.html",
        {**_common(request), **_report_context(request, job)},
    )


# Last: its ``{action}`` would otherwise also match ``.../backtests``.
router.post("/console/strategies/{name}/{version:int}/{action}")(lifecycle_step)
