"""Lending with partners on the console: agreements and each partner's position (read-only).

Every figure is the partner service's (``puhui.services.partners``) read with the signed-in
user's rights; nothing is decided here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from puhui.domain.errors import ConfigurationError
from puhui.services.partners.access import PartnerAccess
from puhui.services.security.permissions import Principal
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
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
