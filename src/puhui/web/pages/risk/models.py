"""Model pages: the registry, a version's validation figures and monitoring (with charts),
and the four-eyes steps: approve (not by its builder), promote to champion."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from puhui.domain.errors import ConfigurationError, Conflict, InvalidInput, PuhuiError
from puhui.services import governance
from puhui.services.security.permissions import Permission, Principal, require
from puhui.web.dependencies import call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.errors import error_text
from puhui.web.pages.nav import N_
from puhui.web.pages.rendering import gettext
from puhui.web.pages.risk.common import (
    STATUS_BADGES,
    STATUS_NAMES,
    deps_of,
    detail_of,
    jobs,
    model_registry,
    person,
    strategy_units,
)
from puhui.web.pages.risk.jobs import Job

if TYPE_CHECKING:
    from puhui.risk.monitoring import MonitoringResult
    from puhui.risk.registry import RegistryEntry

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
MONITORING = "monitoring"
OUT_OF_SAMPLE = "out_of_sample"
"""The registry's key of the figures measured on rows the model did not see."""
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
DONE_MESSAGES: dict[str, str] = {
    "approved": N_("Approved. It can now be promoted to champion."),
    "promoted": N_("Champion: it scores from the next application on."),
}
METRICS = ("auc", "ks", "gini", "brier", "n")
AXIS_LABEL = {"color": "#57606a"}


def _common(request: Request) -> dict[str, Any]:
    return {
        "status_names": STATUS_NAMES,
        "status_badges": STATUS_BADGES,
        "person": lambda actor: person(request, actor),
        "out_of_sample": OUT_OF_SAMPLE,
    }


@router.get("/console/models")
async def model_list(request: Request, principal: StaffUser) -> HTMLResponse:
    entries = await call(
        deps_of(request), governance.list_models, model_registry(request), actor=principal
    )
    return console_page(
        request,
        principal,
        "risk/models.html",
        {**_common(request), "entries": entries, "chart": _registry_chart(request, entries)},
    )


def _registry_chart(request: Request, entries: list[RegistryEntry]) -> dict[str, Any]:
    """Out-of-sample AUC and KS of every registered version, oldest first."""
    shown = [e for e in reversed(entries) if OUT_OF_SAMPLE in e.metrics][-12:]
    labels = [f"{e.name} …{e.version[-6:]}" for e in shown]
    series = [
        {
            "name": gettext(request, label),
            "type": "bar",
            "data": [round(e.metrics[OUT_OF_SAMPLE].get(key, 0.0), 4) for e in shown],
        }
        for label, key in ((N_("Out-of-sample AUC"), "auc"), (N_("Out-of-sample KS"), "ks"))
    ]
    return {
        "aria": {"enabled": True},
        "animation": False,
        "tooltip": {"trigger": "axis", "renderMode": "richText"},
        "legend": {"top": 0},
        "grid": {"top": 40, "left": 50, "right": 20, "bottom": 30},
        "xAxis": {"type": "category", "data": labels, "axisLabel": AXIS_LABEL},
        "yAxis": {"type": "value", "min": 0, "max": 1, "axisLabel": AXIS_LABEL},
        "series": series,
    }


def _month(day: dt.date, back: int) -> str:
    index = day.year * 12 + day.month - 1 - back
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _metrics_chart(request: Request, metrics: dict[str, dict[str, float]]) -> dict[str, Any]:
    """AUC, KS and Gini in development and out of sample, side by side."""
    names = ("auc", "ks", "gini")
    series = [
        {
            "name": gettext(request, N_("Out of sample") if key == OUT_OF_SAMPLE else key),
            "type": "bar",
            "data": [round(figures.get(m, 0.0), 4) for m in names],
        }
        for key, figures in metrics.items()
    ]
    return {
        "aria": {"enabled": True},
        "animation": False,
        "tooltip": {"trigger": "axis", "renderMode": "richText"},
        "legend": {"top": 0},
        "grid": {"top": 40, "left": 50, "right": 20, "bottom": 30},
        "xAxis": {"type": "category", "data": ["AUC", "KS", "Gini"], "axisLabel": AXIS_LABEL},
        "yAxis": {"type": "value", "min": 0, "max": 1, "axisLabel": AXIS_LABEL},
        "series": series,
    }


async def _model_page(
    request: Request,
    principal: Principal,
    version: str,
    *,
    done: str | None = None,
    error: PuhuiError | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    deps = deps_of(request)
    entry = await call(
        deps, governance.get_model, model_registry(request), actor=principal, version=version
    )
    today = deps.origination.clock.today()
    latest = jobs(request).latest(MONITORING, version)
    page = console_page(
        request,
        principal,
        "risk/model.html",
        {
            **_common(request),
            "entry": entry,
            "metric_names": METRICS,
            "metrics_chart": _metrics_chart(request, entry.metrics),
            "done": gettext(request, DONE_MESSAGES[done]) if done in DONE_MESSAGES else None,
            "error": None if error is None else error_text(request, error),
            "error_detail": detail_of(error),
            "can_approve": principal.can(Permission.MODEL_APPROVE),
            "can_manage": principal.can(Permission.MODEL_MANAGE),
            "can_monitor": principal.can(Permission.MODEL_MANAGE)
            or principal.can(Permission.MODEL_APPROVE),
            "monitoring_wired": deps.decision_history is not None,
            "month_from": _month(today, 3),
            "month_to": _month(today, 1),
            "latest_job": latest,
            **(_monitoring_context(request, latest) if latest is not None else {}),
        },
    )
    page.status_code = status_code
    return page


@router.get("/console/models/{version}")
async def model_page(
    request: Request, principal: StaffUser, version: str, done: str | None = None
) -> HTMLResponse:
    return await _model_page(request, principal, version, done=done)


@router.post("/console/models/{version}/{action}")
async def model_step(request: Request, principal: StaffUser, version: str, action: str) -> Response:
    """Approve (a second person) or promote to champion; a refusal shows on the model's page."""
    await session.verified_form(request)
    deps, registry = deps_of(request), model_registry(request)
    now = deps.origination.clock.now()
    try:
        if action == "approve":
            await call(
                deps, governance.approve_model, registry, actor=principal, version=version, at=now
            )
            done = "approved"
        elif action == "promote":
            await call(
                deps, governance.promote_model, registry, actor=principal, version=version, at=now
            )
            done = "promoted"
        elif action == "monitoring":
            return await _start_monitoring(request, principal, version)
        else:
            raise InvalidInput(f"unknown action {action!r}", details={"field": "action"})
    except (Conflict, InvalidInput) as exc:
        status = 409 if isinstance(exc, Conflict) else 422
        return await _model_page(request, principal, version, error=exc, status_code=status)
    return RedirectResponse(f"/console/models/{version}?done={done}", status_code=303)


async def _start_monitoring(request: Request, principal: Principal, version: str) -> Response:
    form = await session.verified_form(request)
    governance.require_any(principal, Permission.MODEL_MANAGE, Permission.MODEL_APPROVE)
    first, last = str(form.get("from_month", "")).strip(), str(form.get("to_month", "")).strip()
    if not (_MONTH.match(first) and _MONTH.match(last)):
        raise InvalidInput("a month is written YYYY-MM", details={"field": "from_month"})
    deps = deps_of(request)
    history = deps.decision_history
    if history is None:
        raise ConfigurationError("model monitoring is not wired on this server")
    registry = model_registry(request)
    await call(deps, governance.get_model, registry, actor=principal, version=version)
    today = deps.origination.clock.today()
    audit = strategy_units(request)
    job = jobs(request).start(
        MONITORING,
        version,
        principal.audit_name(),
        {"version": version, "from": first, "to": last},
        lambda: governance.monitor(
            registry,
            history,
            audit,
            actor=principal,
            version=version,
            first_month=first,
            last_month=last,
            today=today,
        ),
    )
    return RedirectResponse(f"/console/models/{version}/monitoring/{job.id}", status_code=303)


# --- monitoring report ---------------------------------------------------------------------


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)


def _chart(
    request: Request, x: list[str], series: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    del request
    return {
        "aria": {"enabled": True},
        "animation": False,
        "tooltip": {"trigger": "axis", "renderMode": "richText"},
        "legend": {"top": 0, "type": "scroll"},
        "grid": {"top": 40, "left": 55, "right": 45, "bottom": 40},
        "xAxis": {"type": "category", "data": x, "axisLabel": AXIS_LABEL},
        "yAxis": {"type": "value", "axisLabel": AXIS_LABEL},
        "series": series,
        **extra,
    }


def monitoring_charts(request: Request, result: MonitoringResult) -> dict[str, dict[str, Any]]:
    """ECharts options from the monitoring result's own numbers."""
    t = gettext
    charts: dict[str, dict[str, Any]] = {}
    if result.score_by_month:
        months = [m.month for m in result.score_by_month]
        charts["score-psi"] = _chart(
            request,
            months,
            [
                {
                    "name": t(request, N_("Score PSI")),
                    "type": "bar",
                    "data": [_round(m.psi) for m in result.score_by_month],
                    "markLine": {
                        "symbol": "none",
                        "data": [
                            {"yAxis": 0.1, "name": t(request, N_("watch"))},
                            {"yAxis": 0.25, "name": t(request, N_("shifted"))},
                        ],
                    },
                }
            ],
        )
    if result.score is not None:
        shown = [b for b in result.score.bins if b.development_share or b.actual_share]
        charts["score-distribution"] = _chart(
            request,
            [b.label for b in shown],
            [
                {
                    "name": t(request, N_("Development")),
                    "type": "bar",
                    "data": [_round(b.development_share * 100, 2) for b in shown],
                },
                {
                    "name": t(request, N_("Window")),
                    "type": "bar",
                    "data": [_round(b.actual_share * 100, 2) for b in shown],
                },
            ],
        )
    if result.characteristics:
        top = result.characteristics[:12]
        charts["input-psi"] = _chart(
            request,
            [c.name for c in top],
            [
                {
                    "name": t(request, N_("Input PSI")),
                    "type": "bar",
                    "data": [_round(c.psi) for c in top],
                }
            ],
            xAxis={
                "type": "category",
                "data": [c.name for c in top],
                "axisLabel": {**AXIS_LABEL, "rotate": 30, "fontSize": 10},
            },
            grid={"top": 40, "left": 55, "right": 20, "bottom": 110},
        )
    if result.vintages:
        booked = [v.booking_month for v in result.vintages]
        charts["calibration"] = _chart(
            request,
            booked,
            [
                {
                    "name": t(request, N_("Predicted (mean PD) %")),
                    "type": "line",
                    "data": [_round(v.mean_pd * 100, 3) for v in result.vintages],
                },
                {
                    "name": t(request, N_("Realised bad rate to date %")),
                    "type": "line",
                    "data": [
                        _round(v.bad_rate_by_month[-1] * 100, 3) if v.bad_rate_by_month else None
                        for v in result.vintages
                    ],
                },
            ],
        )
    if result.decision_rates:
        charts["decisions"] = _chart(
            request,
            [r.month for r in result.decision_rates],
            [
                {
                    "name": t(request, label),
                    "type": "bar",
                    "stack": "all",
                    "data": [_round(getattr(r, field) * 100, 2) for r in result.decision_rates],
                }
                for label, field in (
                    (N_("Approved %"), "approval_rate"),
                    (N_("Referred %"), "referral_rate"),
                    (N_("Declined %"), "decline_rate"),
                )
            ],
            yAxis={"type": "value", "max": 100, "axisLabel": AXIS_LABEL},
        )
    return charts


def _monitoring_context(request: Request, job: Job) -> dict[str, Any]:
    context: dict[str, Any] = {
        "job": job,
        "result": None,
        "charts": {},
        "job_error": None,
        "job_error_detail": None,
    }
    if job.error is not None:
        context["job_error"] = error_text(request, job.error)
        context["job_error_detail"] = job.error.message
    if job.finished and job.result is not None:
        context["result"] = job.result
        context["charts"] = monitoring_charts(request, job.result)
    return context


@router.get("/console/models/{version}/monitoring/{job_id}")
async def monitoring_page(
    request: Request, principal: StaffUser, version: str, job_id: str
) -> HTMLResponse:
    deps = deps_of(request)
    entry = await call(
        deps, governance.get_model, model_registry(request), actor=principal, version=version
    )
    job = jobs(request).get(job_id, MONITORING)
    return console_page(
        request,
        principal,
        "risk/monitoring.html",
        {**_common(request), "entry": entry, **_monitoring_context(request, job)},
    )


@router.get("/console/models/{version}/monitoring/{job_id}/report")
async def monitoring_fragment(
    request: Request, principal: StaffUser, version: str, job_id: str
) -> HTMLResponse:
    require(principal, Permission.MODEL_READ)
    job = jobs(request).get(job_id, MONITORING)
    if job.finished and request.headers.get("hx-request"):
        # The whole page again: its charts are drawn when a page loads.
        return HTMLResponse("", headers={"HX-Refresh": "true"})
    if job.subject != version:
        raise InvalidInput("the job is of another model", details={"field": "version"})
    return console_page(
        request,
        principal,
        "risk/monitoring_report.html",
        {**_common(request), **_monitoring_context(request, job)},
    )
