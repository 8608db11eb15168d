"""Loan changes in the console (``/console/loan-changes``): extensions (展期) and
restructurings (重组) awaiting approval, oldest first, approved by a second user (four eyes).

Every action is the loan-change service's, with the signed-in user as actor; a refusal is
shown on the page with the status the API would answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from puhui.domain.errors import ConfigurationError, InvalidInput, NotFound, PuhuiError
from puhui.domain.origination.errors import Forbidden
from puhui.services.loan_changes.access import LoanChangeAccess
from puhui.services.security.permissions import Permission, Principal
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.errors import user_message
from puhui.web.pages.nav import N_, NavItem

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
PAGE = 100

NAV = (
    NavItem(
        "/console/loan-changes",
        N_("Loan changes"),
        N_("Extensions and restructurings awaiting a second approver."),
        Permission.LOAN_CHANGE_APPROVE,
        order=45,
    ),
)
# Messages of this area's own errors (a face's messages are shared by every area, so the
# platform-wide ``four_eyes_violation`` message is not redefined here).
ERRORS: dict[str, str] = {
    "change_not_pending": N_("This change is no longer waiting for approval."),
    "loan_in_arrears": N_("The loan is in arrears: this change cannot be made."),
    "loan_not_changeable": N_("This loan cannot be changed any more."),
}
NOTICES: dict[str, str] = {
    "approved": N_("The change is approved: the loan's remaining schedule is replaced."),
}
KIND_NAMES: dict[str, str] = {
    "extension": N_("Extension"),
    "restructuring": N_("Restructuring"),
    "renewal": N_("Renewal"),
}


def _access(request: Request) -> tuple[ApiDependencies, LoanChangeAccess]:
    deps: ApiDependencies = request.app.state.deps
    if deps.loan_changes is None:
        raise ConfigurationError("loan changes are not wired in this site")
    return deps, deps.loan_changes


def _status_of(error: PuhuiError) -> int:
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, NotFound):
        return 404
    return 409


async def _page(
    request: Request, principal: Principal, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    deps, access = _access(request)
    items = await call(deps, access.pending, principal, limit=PAGE, offset=0)
    response = console_page(
        request,
        principal,
        "loan_changes/pending.html",
        {
            "items": items,
            "kind_names": KIND_NAMES,
            "me": principal.audit_name(),
            "may_approve": principal.can(Permission.LOAN_CHANGE_APPROVE),
            "notice": NOTICES.get(request.query_params.get("done") or ""),
            "error": error,
        },
    )
    response.status_code = status_code
    return response


@router.get("/console/loan-changes")
async def pending(request: Request, principal: StaffUser) -> HTMLResponse:
    return await _page(request, principal)


@router.post("/console/loan-changes/{change_id}/approve")
async def approve(request: Request, principal: StaffUser, change_id: str) -> Response:
    await session.verified_form(request)
    chosen = change_id[:64]
    deps, access = _access(request)
    try:
        await call(
            deps, access.approve, principal, chosen, idempotency_key=f"console-approve-{chosen}"
        )
    except PuhuiError as exc:
        if isinstance(exc, Forbidden):
            raise
        message = user_message(request, exc.code, ())
        return await _page(request, principal, error=message, status_code=_status_of(exc))
    return RedirectResponse("/console/loan-changes?done=approved", status_code=303)
