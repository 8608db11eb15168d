"""Prosperity indices in the console (景气指数): the industry and regional composite indices
over time, one small chart per cell, drawn on the server; suppressed cell-months are gaps,
and the page says why. Reads through ``services.reporting.prosperity`` with the signed-in
user (permission ``reports:read``), as ``GET /api/v1/prosperity`` does."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from puhui.domain.errors import ConfigurationError
from puhui.services.reporting.prosperity import (
    DIMENSIONS,
    ProsperityIndices,
    ProsperityNotBuilt,
    prosperity_view,
)
from puhui.services.security.permissions import Permission, Principal
from puhui.web.dependencies import call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.industries import industry_name
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.prosperity.chart import index_svg
from puhui.web.pages.rendering import gettext

PATH = "/console/prosperity"
NAV = (
    NavItem(
        PATH,
        N_("Prosperity indices"),
        N_("Industry and regional prosperity indices by month, from the platform's own data."),
        permission=Permission.REPORT_READ,
        order=42,
    ),
)
DIMENSION_NAMES = {
    "industry": N_("Industries"),
    "region": N_("Regions"),
    "overall": N_("All enterprises"),
}
router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]


def _indices(request: Request) -> ProsperityIndices:
    indices: ProsperityIndices | None = request.app.state.deps.prosperity
    if indices is None:
        raise ConfigurationError("prosperity indices are not wired on this server")
    return indices


@router.get(PATH)
async def prosperity_page(
    request: Request, principal: StaffUser, dimension: str = "industry"
) -> HTMLResponse:
    if dimension not in DIMENSIONS:
        dimension = "industry"
    deps = request.app.state.deps
    context: dict[str, Any] = {
        "dimension": dimension,
        "dimensions": [(d, gettext(request, DIMENSION_NAMES[d])) for d in DIMENSIONS],
        "view": None,
        "charts": [],
    }
    try:
        view = await call(
            deps, prosperity_view, _indices(request), actor=principal, dimension=dimension
        )
    except ProsperityNotBuilt:
        return console_page(request, principal, "prosperity/index.html", context)
    suppressed = gettext(request, N_("suppressed: too few enterprises"))
    context["view"] = view
    charts = []
    for series in view.series:
        name = industry_name(request, series.cell) if dimension == "industry" else series.cell
        label = gettext(request, N_("Prosperity index of %(cell)s by month"), cell=name)
        charts.append(
            (series, name, index_svg(series.points, label=label, suppressed_label=suppressed))
        )
    context["charts"] = charts
    return console_page(request, principal, "prosperity/index.html", context)
