"""Lending with partners on the console: agreements, each partner's position, and the day's
settlement file of an agreement to download; risk officers create and activate agreements,
operations run the day's settlement.

Every figure and every action is the partner service's (``puhui.services.partners``) with the
signed-in user's rights (``PartnerAccess``); a refusal is shown on the page with the status
the API would answer. Nothing is decided here.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from puhui.domain.errors import (
    ConfigurationError,
    InvalidDate,
    InvalidIdentifier,
    InvalidInput,
    PuhuiError,
)
from puhui.domain.money import parse_yuan
from puhui.domain.origination.errors import Forbidden
from puhui.domain.partners.agreements import (
    Agreement,
    AgreementKind,
    Approver,
    ConcentrationLimits,
    FeeTerms,
)
from puhui.domain.partners.settlement import Position
from puhui.domain.partners.shares import parse_partner_share
from puhui.services.partners.access import MANAGERS, OPERATORS, PartnerAccess
from puhui.services.security.permissions import Principal
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.errors import refusal_status, user_message
from puhui.web.pages.forms import form_text, optional_day
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.rendering import gettext

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
PAGE_PATH = "/console/partners"

NAV = (
    NavItem(
        PAGE_PATH,
        N_("Partners"),
        N_("Joint-lending and facilitation agreements, and each partner's position."),
        order=45,
    ),
)
ERRORS: dict[str, str] = {
    "invalid_share": N_("A share is a percentage from 0 to 100, such as 30 or 12.5."),
    "invalid_partner_share": N_("The partner's funding share is not a valid percentage."),
    "bank_share_below_minimum": N_(
        "The partner may fund at most 70%: the bank keeps at least 30% of each loan."
    ),
    "agreement_exists": N_("An agreement with this id already exists with other terms."),
    "agreement_not_found": N_("There is no agreement with this id."),
    "agreement_not_active": N_("The agreement is not active on that day."),
    "concentration_limit_breached": N_(
        "The partner's loans would exceed the agreement's concentration limits."
    ),
}
NOTICES: dict[str, str] = {
    "created": N_("The agreement is created as a draft: a risk officer activates it."),
    "activated": N_("The agreement is active."),
    "settled": N_("The day's settlement has run: the positions below include it."),
}

FIELDS: dict[str, str] = {
    "agreement_id": N_("Agreement"),
    "partner_id": N_("Partner id"),
    "partner_name": N_("Partner name"),
    "kind": N_("Kind"),
    "funding_share": N_("Partner's funding share, percent"),
    "approver": N_("Approver"),
    "max_outstanding": N_("Maximum outstanding (yuan)"),
    "max_portfolio_share": N_("Maximum share of the book, percent"),
    "fee_per_loan": N_("Fee per loan (yuan)"),
    "fee_interest_share": N_("Fee share of interest, percent"),
    "valid_from": N_("Valid from"),
    "valid_to": N_("Valid to"),
    "on": N_("Settlement date"),
    "settle_agreement": N_("Agreements to settle"),
}
FIELD_REFUSAL = N_("%(field)s: %(reason)s")
KIND_NAMES = {"joint-lending": N_("Joint lending"), "facilitation": N_("Facilitation")}
STATUS_NAMES = {"draft": N_("Draft"), "active": N_("Active"), "suspended": N_("Suspended")}
APPROVER_NAMES = {"bank": N_("The bank alone"), "both": N_("The bank and the partner")}
HUNDRED = Decimal(100)


class InvalidShare(InvalidInput):
    """A share typed on the page is not a percentage from 0 to 100."""

    code = "invalid_share"


@dataclass
class PartnerPosition:
    """One partner's position summed over its agreements (for display only)."""

    partner_id: str
    partner_name: str
    agreements: list[str] = field(default_factory=list)
    principal_funded_fen: int = 0
    principal_repaid_fen: int = 0
    principal_outstanding_fen: int = 0
    interest_fen: int = 0
    losses_fen: int = 0
    recoveries_fen: int = 0
    fees_fen: int = 0

    def add(self, agreement_id: str, position: Position) -> None:
        self.agreements.append(agreement_id)
        self.principal_funded_fen += position.principal_funded_fen
        self.principal_repaid_fen += position.principal_repaid_fen
        self.principal_outstanding_fen += position.principal_outstanding_fen
        self.interest_fen += position.interest_fen
        self.losses_fen += position.losses_fen
        self.recoveries_fen += position.recoveries_fen
        self.fees_fen += position.fees_fen


def _access(request: Request) -> tuple[ApiDependencies, PartnerAccess]:
    deps: ApiDependencies = request.app.state.deps
    if deps.partners is None:
        raise ConfigurationError("partner lending is not wired in this site")
    return deps, deps.partners


def _form_key() -> str:
    """A fresh idempotency key for a form: sending the same form twice records it once."""
    return "page-" + secrets.token_urlsafe(18)


def _key(form: FormData) -> str:
    key = form_text(form, "idempotency_key", 80)
    if not key:
        raise InvalidInput("the form has no key: reload the page", details={"field": "key"})
    return key


def _refusal(request: Request, error: PuhuiError) -> str:
    """The user's message of ``error``, naming the form field it is about when there is one."""
    message = user_message(request, error.code, ())
    label = FIELDS.get(str(error.details.get("field", "")))
    if label is None:
        return message
    return gettext(request, FIELD_REFUSAL, field=gettext(request, label), reason=message)


def _required(form: FormData, name: str, limit: int) -> str:
    value = form_text(form, name, limit)
    if not value:
        raise InvalidInput(f"{name} is required", details={"field": name})
    return value


def _identifier(form: FormData, name: str) -> str:
    """An id as the API takes it: printable ASCII without spaces (it goes into paths and files)."""
    value = _required(form, name, 64)
    if not all("\x21" <= c <= "\x7e" for c in value):
        raise InvalidIdentifier(f"{name} is not printable ASCII", details={"field": name})
    return value


def _share(form: FormData, name: str) -> Decimal:
    """A percentage typed on the page (``30``, ``12.5``; empty is 0) as a fraction (0.3)."""
    text = form_text(form, name, 12).removesuffix("%").strip() or "0"
    whole, _, places = text.partition(".")
    if not (whole.isdigit() and whole.isascii()) or (places and not places.isdigit()):
        raise InvalidShare(f"{name} is not a percentage: {text!r}", details={"field": name})
    share = (Decimal(text) / HUNDRED).normalize()
    if share > 1 or len(places) > 6:
        raise InvalidShare(f"{name} is not a percentage: {text!r}", details={"field": name})
    return share


@contextmanager
def _about(name: str) -> Iterator[None]:
    """Name the form field a refusal raised inside is about (the page says which field)."""
    try:
        yield
    except PuhuiError as exc:
        exc.details.setdefault("field", name)
        raise


def _yuan(form: FormData, name: str) -> int:
    with _about(name):
        return parse_yuan(form_text(form, name, 20) or "0")


def _day(form: FormData, name: str) -> date:
    day = optional_day(form_text(form, name, 10), name)
    if day is None:
        raise InvalidDate("choose the date (YYYY-MM-DD)", details={"field": name})
    return day


def agreement_from(form: FormData) -> Agreement:
    """The draft agreement the create form describes; a malformed term is refused, naming it."""
    identity = (
        _identifier(form, "agreement_id"),
        _identifier(form, "partner_id"),
        _required(form, "partner_name", 200),
    )
    with _about("kind"):
        kind = AgreementKind.parse(form_text(form, "kind", 20))
    with _about("funding_share"):
        funding_share = parse_partner_share(_share(form, "funding_share"))
    with _about("approver"):
        approver = Approver.parse(form_text(form, "approver", 20) or "bank")
    limits = (_yuan(form, "max_outstanding"), _share(form, "max_portfolio_share"))
    fees = (_yuan(form, "fee_per_loan"), _share(form, "fee_interest_share"))
    valid_from, valid_to = _day(form, "valid_from"), _day(form, "valid_to")
    return Agreement(
        agreement_id=identity[0],
        partner_id=identity[1],
        partner_name=identity[2],
        kind=kind,
        funding_share=funding_share,
        approver=approver,
        limits=ConcentrationLimits(max_outstanding_fen=limits[0], max_portfolio_share=limits[1]),
        fees=FeeTerms(per_loan_fen=fees[0], interest_share=fees[1]),
        valid_from=valid_from,
        valid_to=valid_to,
    )


async def _page(
    request: Request,
    principal: Principal,
    *,
    error: str | None = None,
    status_code: int = 200,
    entered: dict[str, str] | None = None,
) -> HTMLResponse:
    deps, access = _access(request)
    agreements = await call(deps, access.agreements, principal)
    rows = []
    partners: dict[str, PartnerPosition] = {}
    for agreement in agreements:
        position = await call(deps, access.position, principal, agreement.agreement_id, None)
        rows.append({"agreement": agreement, "position": position})
        partners.setdefault(
            agreement.partner_id, PartnerPosition(agreement.partner_id, agreement.partner_name)
        ).add(agreement.agreement_id, position)
    done = request.query_params.get("done") or ""
    response = console_page(
        request,
        principal,
        "partners/agreements.html",
        {
            "rows": rows,
            "partners": sorted(partners.values(), key=lambda p: p.partner_id),
            "kind_names": KIND_NAMES,
            "status_names": STATUS_NAMES,
            "approver_names": APPROVER_NAMES,
            "may_manage": principal.role in MANAGERS,
            "may_settle": principal.role in OPERATORS,
            "today": access.service.clock.today(),
            "form_key": _form_key(),
            "entered": entered or {},
            "notice": NOTICES.get(done),
            "routed": _routed(request) if done == "routed" else None,
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
    entered = {name: str(value)[:200] for name, value in form.items() if name in FIELDS}
    return await _page(
        request,
        principal,
        error=_refusal(request, error),
        status_code=refusal_status(error),
        entered=entered,
    )


@router.get(PAGE_PATH)
async def partners_page(request: Request, principal: StaffUser) -> HTMLResponse:
    return await _page(request, principal)


@router.post(f"{PAGE_PATH}/agreements")
async def create_agreement(request: Request, principal: StaffUser) -> Response:
    """Create an agreement as a draft (risk officers); nothing is stored on a refusal."""
    form = await session.verified_form(request)
    deps, access = _access(request)
    try:
        agreement = agreement_from(form)
        await call(deps, access.create_agreement, principal, agreement, key=_key(form))
    except PuhuiError as exc:
        return await _refused(request, principal, exc, form)
    return RedirectResponse(f"{PAGE_PATH}?done=created", status_code=303)


@router.post(PAGE_PATH + "/agreements/{agreement_id}/activate")
async def activate(request: Request, principal: StaffUser, agreement_id: str) -> Response:
    """Activate a draft (risk officers); one that would start over its limits is refused."""
    form = await session.verified_form(request)
    chosen = agreement_id[:64]
    deps, access = _access(request)
    try:
        await call(deps, access.activate, principal, chosen, key=f"console-activate-{chosen}")
    except PuhuiError as exc:
        return await _refused(request, principal, exc, form)
    return RedirectResponse(f"{PAGE_PATH}?done=activated", status_code=303)


@router.post(f"{PAGE_PATH}/settlements")
async def settle(request: Request, principal: StaffUser) -> Response:
    """Run the day's settlement (operations) of every active agreement or of one; a day
    already settled replays."""
    form = await session.verified_form(request)
    deps, access = _access(request)
    try:
        on = _day(form, "on")
        agreement_id = form_text(form, "settle_agreement", 64) or None
        await call(deps, access.settle, principal, on, agreement_id, key=_key(form))
    except PuhuiError as exc:
        return await _refused(request, principal, exc, form)
    return RedirectResponse(f"{PAGE_PATH}?done=settled", status_code=303)


def _routed(request: Request) -> dict[str, int]:
    counts = {}
    for name in ("linked", "held"):
        text = request.query_params.get(name) or "0"
        counts[name] = int(text) if text.isdigit() and len(text) < 8 else 0
    return counts


@router.post(f"{PAGE_PATH}/routing")
async def route(request: Request, principal: StaffUser) -> Response:
    """Put partners' customers' loans drawn through the day under their agreements
    (operations; before the day's settlement)."""
    form = await session.verified_form(request)
    deps, access = _access(request)
    try:
        on = _day(form, "route_on")
        reports = await call(deps, access.route, principal, on, key=_key(form))
    except PuhuiError as exc:
        return await _refused(request, principal, exc, form)
    linked = sum(len(r.linked) for r in reports)
    held = sum(len(r.not_linked) for r in reports)
    return RedirectResponse(f"{PAGE_PATH}?done=routed&linked={linked}&held={held}", status_code=303)


@router.get(PAGE_PATH + "/{agreement_id}/settlement-file")
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
    deps, access = _access(request)
    text = await call(deps, access.settlement_file, principal, agreement_id, day)
    name = f"settlement-{agreement_id}-{day.isoformat()}.csv"
    return Response(
        content=text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
