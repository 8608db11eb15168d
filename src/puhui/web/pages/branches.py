"""Branch QR codes in the console: a branch or village service point prints its code, and
the owners who scan it land on the H5 pages with that branch and channel recorded."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from puhui.domain.errors import InvalidInput
from puhui.domain.origination.channel import Channel
from puhui.domain.origination.errors import Forbidden
from puhui.services.documents.branch_qr import BranchCode, branch_code_qr
from puhui.services.security.permissions import Principal, Role
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.errors import user_message
from puhui.web.pages.nav import N_, NavItem

QR_ROLES = frozenset({Role.ADMIN, Role.OPERATIONS, Role.ACCOUNT_MANAGER, Role.SUPERVISOR})
NAV = (
    NavItem(
        "/console/qr",
        N_("QR codes"),
        N_("Print the QR code of a branch or village service point for owners to apply."),
        roles=QR_ROLES,
        order=90,
    ),
)
ERRORS = {
    "invalid_branch_code": N_(
        "A branch code is 2 to 16 capital letters, digits or hyphens, such as TZ-001."
    ),
    "invalid_channel": N_("Choose one of the listed channels."),
}
CHANNELS = (Channel.H5_QR, Channel.BRANCH)
router = APIRouter(include_in_schema=False)


def _staff_for_qr(principal: Principal) -> Principal:
    if principal.role not in QR_ROLES:
        raise Forbidden("your role does not print branch QR codes")
    return principal


async def qr_staff(request: Request) -> Principal:
    return _staff_for_qr(await session.staff(request))


QrStaff = Annotated[Principal, Depends(qr_staff)]


def _code(request: Request, branch: str, channel: str) -> BranchCode:
    base = request.app.state.deps.public_base_url or str(request.base_url)
    return branch_code_qr(base_url=base, branch_code=branch, channel=channel)


@router.get("/console/qr")
async def qr_page(
    request: Request, principal: QrStaff, branch: str = "", channel: str = Channel.H5_QR.value
) -> HTMLResponse:
    code: BranchCode | None = None
    error: str | None = None
    if branch:
        try:
            code = _code(request, branch, channel)
        except InvalidInput as exc:
            error = user_message(request, exc.code)
    return console_page(
        request,
        principal,
        "branches/qr.html",
        {
            "code": code,
            "branch": branch,
            "channel": channel,
            "channels": [c.value for c in CHANNELS],
            "error": error,
        },
    )


@router.get("/console/qr/code.png")
async def qr_png(
    request: Request,
    principal: QrStaff,
    branch: str,
    channel: str = Channel.H5_QR.value,
    download: bool = False,
) -> Response:
    code = _code(request, branch, channel)
    headers = {"Cache-Control": "private, no-store"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="qr-{code.branch_code}.png"'
    return Response(code.png(), media_type="image/png", headers=headers)
