"""Guarantee agencies (银担合作) on the console: agencies and their agreements, exposure and
claims by agreement, and the claims raised and paid.

Read-only: every figure is the service's (``puhui.services.guarantees``) through the same
permission check as the API; changes go through the API or ``puhui guarantee``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from puhui.domain.errors import ConfigurationError
from puhui.services.guarantees.access import GuaranteeAccess
from puhui.services.security.permissions import Permission, Principal
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.nav import N_, NavItem

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]

NAV = (
    NavItem(
        "/console/guarantees",
        N_("Guarantee agencies"),
        N_("Batch guarantee agreements: covered exposure, fees, claims and recoveries by agency."),
        Permission.GUARANTEE_READ,
        order=45,
    ),
)
ERRORS: dict[str, str] = {
    "claim_not_triggered": N_("The loan has not reached the agreement's claim trigger yet."),
    "borrower_cap_exceeded": N_("Covering this loan would exceed the cap for the borrower."),
    "portfolio_cap_exceeded": N_("Covering this loan would exceed the agreement's portfolio cap."),
    "invalid_agreement": N_("The agreement's terms are not valid."),
}
FEE_MODES = {"at_draw": N_("At draw"), "periodic": N_("Periodic")}
CLAIM_STATUSES = {"raised": N_("Raised"), "paid": N_("Paid")}


def _access(request: Request) -> GuaranteeAccess:
    deps: ApiDependencies = request.app.state.deps
    if deps.guarantees is None:
        raise ConfigurationError("guarantees are not wired in this site")
    return deps.guarantees


@router.get("/console/guarantees")
async def guarantees(request: Request, principal: StaffUser) -> HTMLResponse:
    access = _access(request)
    deps: ApiDependencies = request.app.state.deps
    agencies = await call(deps, access.agencies, principal)
    names = {a.agency_id: a.name for a in agencies}
    agreements = await call(deps, access.agreements, principal)
    exposure = await call(deps, access.exposure, principal)
    claims = await call(deps, access.claims, principal)
    return console_page(
        request,
        principal,
        "guarantees/index.html",
        {
            "agencies": agencies,
            "agreements": agreements,
            "agency_names": names,
            "exposure": exposure,
            "claims": claims,
            "fee_modes": FEE_MODES,
            "claim_statuses": CLAIM_STATUSES,
        },
    )
