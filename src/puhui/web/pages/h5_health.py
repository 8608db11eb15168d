"""The owner's business-health report on the H5 pages (智能财务顾问), and its PDF.

The page calls the service the API calls (``services.advisor.access``) as the signed-in owner:
the report of the enterprise of their newest application, for the last complete month unless
asked. The charts are SVG drawn here, on the server (no script, no library).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from puhui.domain.errors import ConfigurationError, InvalidInput, NotFound, PuhuiError
from puhui.domain.origination.errors import Forbidden
from puhui.services.advisor.access import Advisor, health_report, report_pdf
from puhui.services.advisor.report import HealthReport, month_add
from puhui.services.origination import owner_views
from puhui.services.security.permissions import Principal
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import common, session
from puhui.web.pages.h5 import SCOPES
from puhui.web.pages.i18n import yuan
from puhui.web.pages.nav import N_
from puhui.web.pages.rendering import gettext, render

router = APIRouter(include_in_schema=False)
Owner = Annotated[Principal, Depends(session.applicant)]
FACE = session.Face.H5

WIDTH, HEIGHT, PAD = 340, 160, 24
MEASURE_NAMES = {
    "sales_12m_fen": N_("Sales, last 12 months (yuan)"),
    "sales_yoy": N_("Sales, year on year"),
    "net_margin": N_("Net account inflow over inflow"),
}
CAP_NAMES = {
    "requested": N_("the amount you asked for"),
    "need": N_("our estimate of your need"),
    "affordability": N_("what your verified sales and tax support at your grade"),
    "product_cap": N_("the product's ceiling"),
    "concentration_headroom": N_("the bank's room in your industry or region"),
    "cluster_limit_multiplier": N_("your customer group's factor"),
}


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def show(measure: str, value: float | int | None) -> str:
    if value is None:
        return "—"
    if measure.endswith("_fen"):
        return yuan(int(value))
    return pct(float(value))


@dataclass(frozen=True, slots=True)
class Chart:
    """Two monthly series as SVG polylines on one scale, with the axis' first and last month."""

    sales: str
    inflow: str
    top_fen: int
    first: date
    last: date
    band: str
    """The forecast's interval as a polygon (empty: none)."""
    net: str


def _points(values: list[int | None], top: int, n: int, offset: int = 0) -> str:
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    points = []
    for i, value in enumerate(values):
        if value is None:
            continue
        x = PAD + plot_w * (i + offset) / max(n - 1, 1)
        y = HEIGHT - PAD - plot_h * max(value, 0) / top
        points.append(f"{x:.1f},{y:.1f}")
    return " ".join(points)


def chart(report: HealthReport) -> Chart:
    rows = report.months
    forecast = report.forecast.months if report.forecast else ()
    values = [v for r in rows for v in (r.sales_fen, r.inflow_fen) if v is not None]
    values += [m.net_high_fen for m in forecast if m.net_high_fen is not None]
    values += [m.inflow_fen for m in forecast]
    top = max([*values, 1])
    n = len(rows) + len(forecast)
    band = ""
    net = ""
    if forecast:
        net = _points([m.net_fen for m in forecast], top, n, offset=len(rows))
        if all(m.net_low_fen is not None for m in forecast):
            upper = _points([m.net_high_fen for m in forecast], top, n, offset=len(rows))
            lower = _points([m.net_low_fen for m in forecast], top, n, offset=len(rows))
            band = upper + " " + " ".join(reversed(lower.split()))
    return Chart(
        sales=_points([r.sales_fen for r in rows], top, n),
        inflow=_points([r.inflow_fen for r in rows], top, n),
        top_fen=top,
        first=rows[0].month,
        last=month_add(rows[-1].month, len(forecast)),
        band=band,
        net=net,
    )


def _advisor(request: Request) -> Advisor:
    deps: ApiDependencies = request.app.state.deps
    if deps.advisor is None:
        raise ConfigurationError("the health report is not wired in this app")
    return deps.advisor


async def _enterprise(request: Request, owner: Principal, uscc: str | None) -> str:
    if uscc:
        return uscc
    deps: ApiDependencies = request.app.state.deps
    mine = await call(deps, owner_views.own_applications, deps.origination, actor=owner)
    if not mine:
        raise NotFound("you have no application yet", details={"field": "uscc"})
    return mine[0].applicant.uscc


def _default_month(request: Request) -> str:
    today = _advisor(request).origination.clock.today()
    return f"{month_add(date(today.year, today.month, 1), -1):%Y-%m}"


def _status(error: PuhuiError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, Forbidden):
        return 403
    return 409


def _scope_names(request: Request, report: HealthReport) -> str:
    """The data sources the report read, named as the consent page names them."""
    names = {item.scope.value: item.name for item in SCOPES}
    return "、".join(gettext(request, names.get(s, s)) for s in report.scopes)


def _context(
    request: Request,
    report: HealthReport,
    month: str,
    *,
    owner_view: bool,
    form_action: str,
    pdf_url: str,
) -> dict[str, Any]:
    months = [month_add(report.as_of, h) for h in range(1, 4)]
    return {
        "scope_names": _scope_names(request, report),
        "notice": None,
        "report": report,
        "chart": chart(report),
        "month": month,
        "pct": pct,
        "show": show,
        "measure_names": MEASURE_NAMES,
        "cap_names": CAP_NAMES,
        "forecast_months": [f"{m:%Y-%m}" for m in months],
        "owner_view": owner_view,
        "form_action": form_action,
        "pdf_url": pdf_url,
    }


@router.get("/h5/health")
async def health_page(
    request: Request, owner: Owner, uscc: str | None = None, as_of: str | None = None
) -> Response:
    """The report page: trends, peers, seasonality, forecast, reminders, the limit."""
    month = as_of or _default_month(request)
    try:
        enterprise = await _enterprise(request, owner, uscc)
        report = await run_in_threadpool(
            health_report, _advisor(request), actor=owner, uscc=enterprise, as_of=month
        )
    except PuhuiError as error:
        return render(
            request,
            "h5/health_unavailable.html",
            {"notice": None, "error_code": error.code, "as_of": month},
            status_code=_status(error),
        )
    return render(
        request,
        "h5/health.html",
        _context(
            request,
            report,
            month,
            owner_view=True,
            form_action="/h5/health",
            pdf_url=f"/h5/health.pdf?uscc={report.uscc}&as_of={month}",
        ),
    )


@router.get("/h5/health.pdf")
async def health_pdf(request: Request, owner: Owner, uscc: str, as_of: str) -> Response:
    """The same report as a PDF in Chinese."""
    pdf = await run_in_threadpool(
        report_pdf, _advisor(request), actor=owner, uscc=uscc, as_of=as_of
    )
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="health-{uscc}-{as_of}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


# --- the console: staff read a customer's report, read only ----------------------------------

Staff = Annotated[Principal, Depends(session.staff)]


@router.get("/console/enterprises/{uscc}/health")
async def console_health_page(
    request: Request, staff: Staff, uscc: str, as_of: str | None = None
) -> Response:
    """The same report as the owner sees it, for a loan officer (errors: the console's page)."""
    month = as_of or _default_month(request)
    report = await run_in_threadpool(
        health_report, _advisor(request), actor=staff, uscc=uscc, as_of=month
    )
    base = f"/console/enterprises/{report.uscc}/health"
    return common.console_page(
        request,
        staff,
        "applications/health.html",
        _context(
            request,
            report,
            month,
            owner_view=False,
            form_action=base,
            pdf_url=f"{base}.pdf?as_of={month}",
        ),
    )


@router.get("/console/enterprises/{uscc}/health.pdf")
async def console_health_pdf(request: Request, staff: Staff, uscc: str, as_of: str) -> Response:
    pdf = await run_in_threadpool(
        report_pdf, _advisor(request), actor=staff, uscc=uscc, as_of=as_of
    )
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="health-{uscc}-{as_of}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )
