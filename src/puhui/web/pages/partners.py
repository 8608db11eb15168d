"""Lending with partners on the console: agreements, each partner's position, and the day's
settlement file of an agreement to download (read-only).

Every figure is the partner service's (``puhui.services.partners``) read with the signed-in
user's rights; nothing is decided here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from puhui.domain.errors import ConfigurationError, InvalidDate
from puhui.services.partners.access import PartnerAccess
from puhui.services.security.permissions import Principal
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.forms import optional_day
from puhui.web.pages.nav import N_, NavItem

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]

NAV = (
    NavItem(
        "/console/partners",
        N_("Partners"),
        N_("Joint-lending and facilitation agreements, and each partner's position."),
        order=45,
    ),
)
KIND_NAMES = {"joint-lending": N_("Joint lending"), "facilitation": N_("Facilitation")}
STATUS_NAMES = {"draft": N_("Draft"), "active": N_("Active"), "suspended": N_("Suspended")}


def _access(request: Request) -> PartnerAccess:
    deps: ApiDependencies = request.app.state.deps
    if deps.partners is None:
        raise ConfigurationError("partner lending is not wired in this site")
    return deps.partners


@router.get("/console/partners")
async def partners_page(request: Request, principal: StaffUser) -> HTMLResponse:
    access = _access(request)
    deps: ApiDependencies = request.app.state.deps
    agreements = await call(deps, access.agreements, principal)
    rows = []
    for agreement in agreements:
        position = await call(deps, access.position, principal, agreement.agreement_id, None)
        rows.append({"agreement": agreement, "position": position})
    return console_page(
        request,
        principal,
        "partners/agreements.html",
        {"rows": rows, "kind_names": KIND_NAMES, "status_names": STATUS_NAMES},
    )


@router.get("/console/partners/{agreement_id}/settlement-file")
async def settlement_file(
    request: Request,
    principal: StaffUser,
    agreement_id: Annotated[str, Path(min_length=1, max_length=64)],
    on: str | None = None,
) -> Response:
    """The agreement's settlement file of the day ``on`` (CSV, one row per loan and
    component), as the partner receives it; a missing or malformed date is refused."""
    day = optional_day(on, "on")
    if day is None:
        raise InvalidDate("choose the settlement date (YYYY-MM-DD)", details={"field": "on"})
    deps: ApiDependencies = request.app.state.deps
    text = await call(deps, _access(request).settlement_file, principal, agreement_id, day)
    name = f"settlement-{agreement_id}-{day.isoformat()}.csv"
    return Response(
        content=text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
