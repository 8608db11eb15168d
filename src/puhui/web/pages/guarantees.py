"""Guarantee agencies (银担合作) on the console: agencies and their agreements, exposure and
claims by agreement, the claims raised and paid; operations raise a claim, record its
payment and run the daily claims job.

Every figure and every action is the service's (``puhui.services.guarantees``) through the
same permission check as the API, with the signed-in user as actor; a refusal is shown on the
page with the status the API would answer. Agencies and agreements are set up through the API
or ``puhui guarantee``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from puhui.domain.errors import ConfigurationError, InvalidDate, InvalidInput, PuhuiError
from puhui.domain.origination.errors import Forbidden
from puhui.services.guarantees.access import GuaranteeAccess
from puhui.services.security.permissions import Permission, Principal
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.errors import refusal_status, user_message
from puhui.web.pages.forms import form_text, optional_day
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.rendering import gettext

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
PAGE_PATH = "/console/guarantees"

NAV = (
    NavItem(
        PAGE_PATH,
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
    "cover_not_found": N_("This loan is not covered by a guarantee agreement."),
    "claim_not_found": N_("No claim has been raised on this loan."),
    "claim_exists": N_("A claim on this loan was already raised on another day."),
    "claim_not_payable": N_("This claim was already paid on another day."),
}
NOTICES: dict[str, str] = {
    "claim_raised": N_("The claim is raised: the agency owes it."),
    "claim_paid": N_("The agency's payment of the claim is recorded."),
    "claims_run": N_(
        "The claims job has run: %(raised)s claims raised, %(released)s released, "
        "%(withdrawn)s withdrawn and %(returned)s returned (the loan cured)."
    ),
}
FIELDS: dict[str, str] = {
    "loan_id": N_("Loan"),
    "raised_on": N_("Raised on"),
    "paid_on": N_("Paid on"),
    "as_of": N_("As of"),
}
FIELD_REFUSAL = N_("%(field)s: %(reason)s")
FEE_MODES = {"at_draw": N_("At draw"), "periodic": N_("Periodic")}
CLAIM_STATUSES = {
    "raised": N_("Raised"),
    "paid": N_("Paid"),
    "withdrawn": N_("Withdrawn"),
    "returned": N_("Returned"),
}


def _access(request: Request) -> tuple[ApiDependencies, GuaranteeAccess]:
    deps: ApiDependencies = request.app.state.deps
    if deps.guarantees is None:
        raise ConfigurationError("guarantees are not wired in this site")
    return deps, deps.guarantees


def share_percent(value: Decimal | str) -> str:
    """A share as a percentage with no trailing zeros: 0.8 -> ``80%``, 0.015 -> ``1.5%``."""
    text = f"{(Decimal(str(value)) * 100).normalize():f}"
    return f"{text}%"


def _refusal(request: Request, error: PuhuiError) -> str:
    """The user's message of ``error``, naming the form field it is about when there is one."""
    message = user_message(request, error.code, ())
    field = FIELDS.get(str(error.details.get("field", "")))
    if field is None:
        return message
    return gettext(request, FIELD_REFUSAL, field=gettext(request, field), reason=message)


def _notice(request: Request) -> str | None:
    done = request.query_params.get("done") or ""
    if done not in NOTICES:
        return None
    counts = {
        name: int(value) if (value := request.query_params.get(name, "0")).isdigit() else 0
        for name in ("raised", "released", "withdrawn", "returned")
    }
    return gettext(request, NOTICES[done], **counts)


def _day(form: FormData, field: str) -> date:
    day = optional_day(form_text(form, field, 10), field)
    if day is None:
        raise InvalidDate("choose the date (YYYY-MM-DD)", details={"field": field})
    return day


def _loan(form: FormData) -> str:
    loan_id = form_text(form, "loan_id", 64)
    if not loan_id:
        raise InvalidInput("enter the loan", details={"field": "loan_id"})
    return loan_id


async def _page(
    request: Request,
    principal: Principal,
    *,
    error: str | None = None,
    status_code: int = 200,
    entered: dict[str, str] | None = None,
) -> HTMLResponse:
    deps, access = _access(request)
    agencies = await call(deps, access.agencies, principal)
    agreements = await call(deps, access.agreements, principal)
    exposure = await call(deps, access.exposure, principal)
    claims = await call(deps, access.claims, principal)
    response = console_page(
        request,
        principal,
        "guarantees/index.html",
        {
            "agencies": agencies,
            "agreements": agreements,
            "agency_names": {a.agency_id: a.name for a in agencies},
            "exposure": exposure,
            "claims": claims,
            "fee_modes": FEE_MODES,
            "claim_statuses": CLAIM_STATUSES,
            "share_percent": share_percent,
            "may_operate": principal.can(Permission.GUARANTEE_OPERATE),
            "today": access.service.clock.today(),
            "entered": entered or {},
            "notice": _notice(request),
            "error": error,
        },
    )
    response.status_code = status_code
    return response


async def _refused(
    request: Request, principal: Principal, error: PuhuiError, form: FormData
) -> HTMLResponse:
    if isinstance(error, Forbidden):
        raise error
    entered = {name: str(value)[:64] for name, value in form.items() if name in FIELDS}
    return await _page(
        request,
        principal,
        error=_refusal(request, error),
        status_code=refusal_status(error),
        entered=entered,
    )


@router.get(PAGE_PATH)
async def guarantees(request: Request, principal: StaffUser) -> HTMLResponse:
    return await _page(request, principal)


@router.post(f"{PAGE_PATH}/claims")
async def raise_claim(request: Request, principal: StaffUser) -> Response:
    """Raise the claim on a covered loan that reached its trigger (idempotent by loan and day)."""
    form = await session.verified_form(request)
    deps, access = _access(request)
    try:
        loan_id, on = _loan(form), _day(form, "raised_on")
        await call(deps, access.raise_claim, principal, loan_id=loan_id, on=on)
    except PuhuiError as exc:
        return await _refused(request, principal, exc, form)
    return RedirectResponse(f"{PAGE_PATH}?done=claim_raised", status_code=303)


@router.post(f"{PAGE_PATH}/claims/run")
async def run_claims(request: Request, principal: StaffUser) -> Response:
    """The daily claims job as of a day: running it twice changes nothing."""
    form = await session.verified_form(request)
    deps, access = _access(request)
    try:
        as_of = _day(form, "as_of")
        run = await call(deps, access.run_claims, principal, as_of=as_of)
    except PuhuiError as exc:
        return await _refused(request, principal, exc, form)
    return RedirectResponse(
        f"{PAGE_PATH}?done=claims_run&raised={len(run.raised)}&released={len(run.released)}"
        f"&withdrawn={len(run.withdrawn)}&returned={len(run.returned)}",
        status_code=303,
    )


@router.post(PAGE_PATH + "/claims/{loan_id}/pay")
async def pay_claim(request: Request, principal: StaffUser, loan_id: str) -> Response:
    """Record the agency's payment of a raised claim (idempotent by loan and day)."""
    form = await session.verified_form(request)
    deps, access = _access(request)
    try:
        on = _day(form, "paid_on")
        await call(deps, access.pay_claim, principal, loan_id=loan_id[:64], on=on)
    except PuhuiError as exc:
        return await _refused(request, principal, exc, form)
    return RedirectResponse(f"{PAGE_PATH}?done=claim_paid", status_code=303)
