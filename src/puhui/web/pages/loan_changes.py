"""Loan changes in the console (``/console/loan-changes``): extensions (展期) and
restructurings (重组) awaiting approval, oldest first, approved or rejected by a second user
(four eyes); a loan looked up with its changes and its 2023 classification; the forms that
request an extension or a restructuring and renew a maturing loan (无还本续贷).

Every action is the loan-change service's, with the signed-in user as actor; a refusal is
shown on the page with the status the API would answer. A declined renewal is a result, shown
with its reasons, not an error.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from puhui.domain.errors import (
    ConfigurationError,
    InvalidIdentifier,
    InvalidInput,
    PuhuiError,
)
from puhui.domain.lending.delinquency import FiveCategory
from puhui.domain.lending.schedule import MAX_TERM_MONTHS
from puhui.domain.origination.errors import Forbidden
from puhui.services.loan_changes.access import LoanChangeAccess
from puhui.services.loan_changes.classification import LoanClassification
from puhui.services.loan_changes.ports import LoanChangeRecord
from puhui.services.loan_changes.renewals import RenewalResult
from puhui.services.security.permissions import ROLE_PERMISSIONS, Permission, Principal
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import console_page, staff_names
from puhui.web.pages.errors import refusal_status, user_message
from puhui.web.pages.forms import form_text, optional_day
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.rendering import gettext

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
PAGE = 100
MAX_REASON_LENGTH = 500
LOAN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
"""What a loan or receipt number looks like (``loan_…``, ``rcpt_…``): anything else is refused
before a service is asked."""
_CHANGE_PERMISSIONS = {Permission.LOAN_CHANGE_REQUEST, Permission.LOAN_CHANGE_APPROVE}


def changes_waiting(deps: ApiDependencies, principal: Principal) -> int:
    """Changes waiting for approval, for those who approve them (requesters see none)."""
    if not principal.can(Permission.LOAN_CHANGE_APPROVE):
        return 0
    if deps.loan_changes is None:
        raise ConfigurationError("loan changes are not wired in this site")
    return deps.loan_changes.count_waiting_approval(principal)


NAV = (
    NavItem(
        "/console/loan-changes",
        N_("Loan changes"),
        N_("Extensions, restructurings and renewals: request them, approve them, look a loan up."),
        # Whoever may request a change or approve one (the page shows each only what it may do).
        roles=frozenset(r for r, held in ROLE_PERMISSIONS.items() if held & _CHANGE_PERMISSIONS),
        order=45,
        waiting=changes_waiting,
        waiting_label=N_("Changes waiting for approval: %(count)s"),
    ),
)
# Messages of this area's own errors (a face's messages are shared by every area, so the
# platform-wide ``four_eyes_violation`` message is not redefined here).
ERRORS: dict[str, str] = {
    "change_not_pending": N_("This change is no longer waiting for approval."),
    "loan_in_arrears": N_("The loan is in arrears: this change cannot be made."),
    "loan_not_changeable": N_("This loan cannot be changed any more."),
    "change_already_pending": N_(
        "This loan already has a change waiting for approval: approve or reject it first."
    ),
    "extension_beyond_policy": N_(
        "That is longer than the extension policy allows for this loan's original term."
    ),
    "too_many_changes": N_("This loan has had as many extensions and restructurings as allowed."),
    "outside_renewal_window": N_(
        "A renewal is decided in the window before the loan's maturity, not on this date."
    ),
    "no_renewal_mode": N_("The active strategy has no renewal mode: no loan is renewed."),
}
FIELD_MESSAGES: dict[str, str] = {
    "loan": N_("That is not a loan number. Check it and try again."),
    "months": N_("Enter the number of months as a whole number from 1 to 600."),
    "reason": N_("Give a reason of up to 500 characters."),
    "rate": N_(
        "Enter the new annual rate as a percentage, e.g. 3.85, or leave it empty to keep the rate."
    ),
    "idempotency_key": N_("The form has expired. Reload the page and try again."),
}
"""What a person is told when a form field of this page is refused."""
CLOSED_DAY = N_("That business day is already closed: choose an open day.")
NOTICES: dict[str, str] = {
    "approved": N_("The change is approved: the loan's remaining schedule is replaced."),
    "rejected": N_("The change is rejected: nothing was applied to the loan."),
    "requested": N_("The change is requested: a second person approves it below."),
}
KIND_NAMES: dict[str, str] = {
    "extension": N_("Extension"),
    "restructuring": N_("Restructuring"),
    "renewal": N_("Renewal"),
}
STATUS_NAMES: dict[str, str] = {
    "requested": N_("Awaiting approval"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}
DECLINE_REASONS: dict[str, str] = {
    "monitoring_alerts_open": N_(
        "The enterprise has more post-loan monitoring alerts open than the strategy allows."
    ),
    "category_not_pass": N_("The loan's risk category is worse than the strategy renews."),
    "too_many_renewals": N_("The loan has been renewed as many times in a row as allowed."),
    "term_over_limit": N_("The term asked is longer than the strategy's longest renewal."),
}
CLASSIFICATION_REASONS: dict[str, str] = {
    "days_past_due": N_("Days past due"),
    "restructured": N_("Restructured: in its observation period"),
    "no_upgrade_in_observation": N_("Non-performing before: not upgraded in observation"),
    "restructured_again_in_observation": N_("Restructured again inside an observation period"),
}
CATEGORY_NAMES_EN: dict[str, str] = {
    "pass": N_("Pass"),
    "special-mention": N_("Special mention"),
    "substandard": N_("Substandard"),
    "doubtful": N_("Doubtful"),
    "loss": N_("Loss"),
}
"""The five categories are named in Chinese in both languages (the regulator's terms); the
English page adds these names in brackets."""
CATEGORY_LABELS_ZH: dict[str, str] = {c.value: c.label_zh for c in FiveCategory}
LOAN_STATUS_NAMES: dict[str, str] = {
    "closed": N_("Closed"),
    "written_off": N_("Written off"),
}
"""A queued change's loan that is no longer running (an active loan shows no status)."""


@dataclass(frozen=True, slots=True)
class LoanLookup:
    """One loan as the page shows it: its changes and its classification today."""

    loan_id: str
    changes: list[LoanChangeRecord]
    classification: LoanClassification


def _access(request: Request) -> tuple[ApiDependencies, LoanChangeAccess]:
    deps: ApiDependencies = request.app.state.deps
    if deps.loan_changes is None:
        raise ConfigurationError("loan changes are not wired in this site")
    return deps, deps.loan_changes


def _message(request: Request, error: PuhuiError) -> str:
    """The refusal in the user's words: the field's message for a refused form field, else
    the code's, else its kind's (an ``invalid_term`` is an ``invalid_input``)."""
    field = error.details.get("field")
    if error.code in ("invalid_input", "invalid_identifier") and field in FIELD_MESSAGES:
        return gettext(request, FIELD_MESSAGES[str(field)])
    if error.code == "event_out_of_order":
        return gettext(request, CLOSED_DAY)
    kinds = tuple(
        str(getattr(k, "code", ""))
        for k in type(error).__mro__[1:]
        if isinstance(getattr(k, "code", None), str)
    )
    return user_message(request, error.code, kinds)


def _form_key() -> str:
    """A fresh idempotency key for a form: sending the same form twice records it once."""
    return "page-" + secrets.token_urlsafe(18)


def _key(form: FormData) -> str:
    key = form_text(form, "idempotency_key", 80)
    if not key:
        raise InvalidInput("the form has no key", details={"field": "idempotency_key"})
    return key


def _loan_id(text: str) -> str:
    chosen = text.strip()
    if not LOAN_ID.fullmatch(chosen):
        raise InvalidIdentifier("not a loan number", details={"field": "loan"})
    return chosen


def _months(form: FormData, name: str) -> int:
    text = form_text(form, name, 4)
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_TERM_MONTHS:
        raise InvalidInput(f"{name} is not a number of months", details={"field": "months"})
    return int(text)


_PERCENT = re.compile(r"^[0-9]{1,2}(\.[0-9]{1,4})?$")


def _rate_percent(form: FormData) -> Decimal | None:
    """The optional new annual rate typed as a percentage (3.85 → 0.0385); empty: kept."""
    text = form_text(form, "rate", 8)
    if not text:
        return None
    if not _PERCENT.match(text):
        raise InvalidInput("the rate is not a percentage", details={"field": "rate"})
    return Decimal(text) / 100


def _reason(form: FormData) -> str:
    try:
        text = form_text(form, "reason", MAX_REASON_LENGTH)
    except InvalidInput:
        text = ""
    if not text:
        raise InvalidInput("a reason is required", details={"field": "reason"})
    return text


async def _lookup(request: Request, principal: Principal, loan_id: str) -> LoanLookup:
    deps, access = _access(request)
    classified = await call(deps, access.classify, principal, loan_id)
    changes = await call(deps, access.of_loan, principal, loan_id)
    return LoanLookup(loan_id, changes, classified)


def _user_id(actor: str) -> str:
    """The user in an actor's audit name (``approver:usr_…``)."""
    return actor.rpartition(":")[2]


async def _people(deps: ApiDependencies, changes: list[LoanChangeRecord]) -> dict[str, str]:
    """Who requested, approved or rejected each change, by name; an actor that is no user
    (``cli:root``, or a user since removed) is shown as it was recorded."""
    actors = {a for c in changes for a in (c.requested_by, c.approved_by, c.rejected_by) if a}
    names = await call(deps, staff_names, deps, [_user_id(a) for a in actors])
    return {a: names[_user_id(a)] if names[_user_id(a)] != _user_id(a) else a for a in actors}


async def _page(
    request: Request,
    principal: Principal,
    *,
    loan_id: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    renewal: RenewalResult | None = None,
    entered: dict[str, str] | None = None,
) -> HTMLResponse:
    deps, access = _access(request)
    items = await call(deps, access.queue, principal, limit=PAGE, offset=0)
    lookup: LoanLookup | None = None
    if loan_id is not None:
        try:
            lookup = await _lookup(request, principal, loan_id)
        except PuhuiError as exc:
            if isinstance(exc, Forbidden):
                raise
            if error is None:
                error, status_code = _message(request, exc), refusal_status(exc)
    shown = [i.change for i in items] + ([] if lookup is None else lookup.changes)
    people = await _people(deps, shown)
    response = console_page(
        request,
        principal,
        "loan_changes/pending.html",
        {
            "items": items,
            "kind_names": KIND_NAMES,
            "status_names": STATUS_NAMES,
            "decline_reasons": DECLINE_REASONS,
            "classification_reasons": CLASSIFICATION_REASONS,
            "category_names_en": CATEGORY_NAMES_EN,
            "category_labels_zh": CATEGORY_LABELS_ZH,
            "loan_status_names": LOAN_STATUS_NAMES,
            "english": session.page_locale(request) == "en",
            "me": principal.audit_name(),
            "people": people,
            "may_approve": principal.can(Permission.LOAN_CHANGE_APPROVE),
            "may_request": principal.can(Permission.LOAN_CHANGE_REQUEST),
            "notice": NOTICES.get(request.query_params.get("done") or ""),
            "error": error,
            "asked": loan_id or "",
            "lookup": lookup,
            "renewal": renewal,
            "entered": entered or {},
            "form_key": _form_key(),
        },
    )
    response.status_code = status_code
    return response


@router.get("/console/loan-changes")
async def pending(request: Request, principal: StaffUser, loan: str | None = None) -> Response:
    if loan is None or not loan.strip():
        return await _page(request, principal)
    try:
        chosen = _loan_id(loan[:200])
    except PuhuiError as exc:
        return await _page(
            request, principal, error=_message(request, exc), status_code=refusal_status(exc)
        )
    return await _page(request, principal, loan_id=chosen)


@router.post("/console/loan-changes/{change_id}/approve")
async def approve(request: Request, principal: StaffUser, change_id: str) -> Response:
    await session.verified_form(request)
    chosen = change_id[:64]
    deps, access = _access(request)
    try:
        done = await call(
            deps, access.approve, principal, chosen, idempotency_key=f"console-approve-{chosen}"
        )
    except PuhuiError as exc:
        if isinstance(exc, Forbidden):
            raise
        return await _page(
            request, principal, error=_message(request, exc), status_code=refusal_status(exc)
        )
    return _done("approved", done.loan_id)


@router.post("/console/loan-changes/{change_id}/reject")
async def reject(request: Request, principal: StaffUser, change_id: str) -> Response:
    form = await session.verified_form(request)
    chosen = change_id[:64]
    deps, access = _access(request)
    try:
        # Keyed by the change: a change is rejected once, so a double submit replays it.
        done = await call(
            deps,
            access.reject,
            principal,
            chosen,
            reason=_reason(form),
            idempotency_key=f"console-reject-{chosen}",
        )
    except PuhuiError as exc:
        if isinstance(exc, Forbidden):
            raise
        return await _page(
            request, principal, error=_message(request, exc), status_code=refusal_status(exc)
        )
    return _done("rejected", done.loan_id)


def _entered(form: FormData, *names: str) -> dict[str, str]:
    """What the user typed, given back to the form when it is refused (its hidden ``form``
    field says which of the three forms it was)."""
    return {n: str(form.get(n, ""))[:MAX_REASON_LENGTH] for n in names}


async def _refused(
    request: Request, principal: Principal, loan_id: str, exc: PuhuiError, entered: dict[str, str]
) -> Response:
    if isinstance(exc, Forbidden):
        raise exc
    asked = loan_id if LOAN_ID.fullmatch(loan_id) else None
    return await _page(
        request,
        principal,
        loan_id=asked,
        error=_message(request, exc),
        status_code=refusal_status(exc),
        entered=entered,
    )


def _done(notice: str, loan_id: str) -> RedirectResponse:
    """Back to the queue with the notice, the changed loan looked up below it: its history
    shows what was done (the change waiting, the new maturity, or who rejected it and why)."""
    return RedirectResponse(
        f"/console/loan-changes?loan={quote(loan_id, safe='')}&done={notice}", status_code=303
    )


@router.post("/console/loan-changes/loans/{loan_id}/extension")
async def request_extension(request: Request, principal: StaffUser, loan_id: str) -> Response:
    form = await session.verified_form(request)
    entered = _entered(form, "form", "months", "reason", "in_difficulty")
    deps, access = _access(request)
    try:
        chosen = _loan_id(loan_id[:200])
        await call(
            deps,
            access.request_extension,
            principal,
            loan_id=chosen,
            extension_months=_months(form, "months"),
            reason=_reason(form),
            in_difficulty=form.get("in_difficulty") == "1",
            idempotency_key=f"console-extension-{_key(form)}",
        )
    except PuhuiError as exc:
        return await _refused(request, principal, loan_id, exc, entered)
    return _done("requested", chosen)


@router.post("/console/loan-changes/loans/{loan_id}/restructuring")
async def request_restructuring(request: Request, principal: StaffUser, loan_id: str) -> Response:
    form = await session.verified_form(request)
    entered = _entered(form, "form", "months", "reason", "rate")
    deps, access = _access(request)
    try:
        chosen = _loan_id(loan_id[:200])
        await call(
            deps,
            access.request_restructuring,
            principal,
            loan_id=chosen,
            new_term_months=_months(form, "months"),
            reason=_reason(form),
            idempotency_key=f"console-restructuring-{_key(form)}",
            new_annual_rate=_rate_percent(form),
        )
    except PuhuiError as exc:
        return await _refused(request, principal, loan_id, exc, entered)
    return _done("requested", chosen)


@router.post("/console/loan-changes/loans/{loan_id}/renewal")
async def renew(request: Request, principal: StaffUser, loan_id: str) -> Response:
    """Renew without principal repayment: the answer is the rules' decision, shown on the
    page — approved with the new loan, or declined with its reasons (a 200 either way)."""
    form = await session.verified_form(request)
    entered = _entered(form, "form", "months", "reason", "on")
    deps, access = _access(request)
    try:
        chosen = _loan_id(loan_id[:200])
        result = await call(
            deps,
            access.renew,
            principal,
            loan_id=chosen,
            term_months=_months(form, "months"),
            reason=_reason(form),
            idempotency_key=f"console-renewal-{_key(form)}",
            on=optional_day(form_text(form, "on", 32), "on"),
        )
    except PuhuiError as exc:
        return await _refused(request, principal, loan_id, exc, entered)
    return await _page(request, principal, loan_id=chosen, renewal=result)
