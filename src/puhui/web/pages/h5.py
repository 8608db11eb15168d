"""The SME owner's pages on a phone: apply in three steps, accept, and use the credit line.

Step 1 names the enterprise and its owner, step 2 asks consent for each data source, and step
3 answers at once: the consent's form decides right after it is given, so the owner sees the
offer (or why there is none) on the next screen. The owner then reads the very contract text
acceptance signs, accepts (the line opens), and from "my line" draws, repays, reads receipts
(借据), statements (对账单) and the consents given, which they may withdraw.

Every action calls the service the API calls, as the signed-in applicant; nothing is decided
here. Errors say, in the owner's language, what is wrong and what to do.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from puhui.domain.errors import (
    ConfigurationError,
    InvalidAmount,
    InvalidInput,
    NotFound,
    PuhuiError,
)
from puhui.domain.lending.account import LoanAccount, LoanStatus
from puhui.domain.lending.schedule import add_months
from puhui.domain.money import parse_yuan
from puhui.domain.origination.application import Application, ApplicationStatus
from puhui.domain.origination.consent import Consent, DataScope
from puhui.domain.origination.errors import Forbidden
from puhui.domain.origination.reasons import CATALOG as REASONS
from puhui.domain.privacy import mask_phone
from puhui.services.origination import line_access, owner_views, receipt_access
from puhui.services.origination import use_cases as uc
from puhui.services.origination.credit_access import CreditAccess
from puhui.services.origination.line_opening import ONLINE_CREDIT_PRODUCT
from puhui.services.security.permissions import Principal
from puhui.services.servicing.records import CreditLineRecord, LineStatus
from puhui.services.servicing.statements import MovementKind, statement_periods
from puhui.web.dependencies import ApiDependencies, call, client_address
from puhui.web.pages import common, green, session
from puhui.web.pages.errors import user_message
from puhui.web.pages.nav import N_
from puhui.web.pages.rendering import gettext, render

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
Owner = Annotated[Principal, Depends(session.applicant)]

CONSENT_DAYS = 90
"""How long a consent given on the H5 pages lasts (the owner may withdraw it sooner)."""
CONSENT_PURPOSE = "小微企业线上信用贷申请 / online MSE credit application"
DRAW_TERMS = (1, 3, 6, 12)
"""Months an owner may choose to keep a draw, as far as the line's expiry allows."""
STATEMENT_PERIODS = 12
"""How many interest cycles back the statement page offers."""

FACE = session.Face.H5
"""The owner-worded error messages below are for the H5 pages only."""
ERRORS: dict[str, str] = {
    "duplicate_application": N_(
        "This enterprise already has an application in progress. "
        "Open it from “My application” to continue it."
    ),
    "consent_required": N_(
        "We can only give an answer once you agree that we may read your business records. "
        "Tick the data sources you agree to, then press “Agree and get my answer”."
    ),
    "offer_expired": N_(
        "This offer has expired, so it can no longer be accepted. Apply again for a new answer."
    ),
    "insufficient_limit": N_(
        "The amount is more than your available limit. Enter a smaller amount."
    ),
    "line_frozen": N_(
        "Your credit line is frozen, so you cannot draw for now. "
        "You can still repay. Call your branch to find out why."
    ),
    "line_expired": N_("Your credit line has expired. Apply again for a new line."),
    "overpayment": N_(
        "The amount is more than you owe on this receipt. Enter at most what you owe."
    ),
    "receipt_not_active": N_("This receipt is repaid in full or closed: nothing is left to pay."),
    "invalid_transition": N_(
        "This application cannot do that now. Go back to it to see where it stands."
    ),
    "application_changed": N_(
        "Your application changed while we were working on it. Open it again and try once more."
    ),
    "line_opening_failed": N_(
        "You accepted the contract, but the line could not be opened yet. "
        "The bank's staff will finish it; check again later."
    ),
    "end_of_day_pending": N_("The bank is closing the day's books. Try again in a few minutes."),
    "event_out_of_order": N_("Today's books are already closed. Try again tomorrow."),
}
"""What each error of these pages tells the owner: what is wrong and what to do."""

_FIELD_MESSAGES: dict[str, str] = {
    "uscc": N_(
        "This is not a valid unified social credit code. It has 18 characters, digits and "
        "capital letters, and is printed on your business licence. Check it and enter it again."
    ),
    "id_number": N_(
        "This is not a valid ID number. It has 18 characters and the last one may be X. "
        "Check your ID card and enter it again."
    ),
    "requested_amount_fen": N_(
        "Enter the amount in yuan, such as 200000, up to 10 million, or leave it empty."
    ),
    "requested_term_months": N_("Choose a term from the list, or leave it empty."),
    "phone": N_("Apply with the mobile number you signed in with."),
}


@dataclass(frozen=True, slots=True)
class ScopeText:
    """A data source as the owner reads it: what it is, who holds it, what we use it for."""

    scope: DataScope
    name: str
    source: str
    purpose: str


SCOPES: tuple[ScopeText, ...] = (
    ScopeText(
        DataScope.REGISTRATION,
        N_("Business registration"),
        N_("the market regulator's register"),
        N_("to confirm your enterprise exists and that you are its legal representative"),
    ),
    ScopeText(
        DataScope.TAX,
        N_("Tax records"),
        N_("the tax bureau"),
        N_("to see your sales and the tax you paid, which set how much we can lend"),
    ),
    ScopeText(
        DataScope.INVOICE,
        N_("VAT invoices"),
        N_("the tax bureau's invoice system"),
        N_("to see whom you sell to and buy from, and how steady that trade is"),
    ),
    ScopeText(
        DataScope.UTILITY,
        N_("Water and electricity bills"),
        N_("the utility companies"),
        N_("to see that your premises are in use and your business is running"),
    ),
    ScopeText(
        DataScope.COURT,
        N_("Court records"),
        N_("the people's courts"),
        N_("to check for lawsuits and court orders against the enterprise"),
    ),
    ScopeText(
        DataScope.BUREAU,
        N_("Credit report"),
        N_("the credit reference centre of the People's Bank of China"),
        N_("to see your loans elsewhere and whether you repaid them on time"),
    ),
    ScopeText(
        DataScope.SETTLEMENT,
        N_("Settlement account"),
        N_("your enterprise's bank account"),
        N_("to see money coming in and going out of the business"),
    ),
)
_SCOPE_BY_VALUE = {s.scope.value: s for s in SCOPES}

STATUS_NAMES: dict[ApplicationStatus, str] = {
    ApplicationStatus.CREATED: N_("Waiting for your consent"),
    ApplicationStatus.CONSENTED: N_("Waiting for the answer"),
    ApplicationStatus.ASSESSED: N_("Being decided"),
    ApplicationStatus.OFFERED: N_("Offer ready"),
    ApplicationStatus.DECLINED: N_("Not approved"),
    ApplicationStatus.REFERRED: N_("With a loan officer"),
    ApplicationStatus.ACCEPTED: N_("Accepted, line opening"),
    ApplicationStatus.LINE_OPENED: N_("Line open"),
    ApplicationStatus.LINE_FAILED: N_("Accepted, line not yet open"),
    ApplicationStatus.EXPIRED: N_("Offer expired"),
    ApplicationStatus.CANCELLED: N_("Cancelled"),
}
MOVEMENT_NAMES: dict[MovementKind, str] = {
    MovementKind.DRAW: N_("Draw"),
    MovementKind.REPAYMENT: N_("Repayment"),
    MovementKind.REPAYMENT_REVERSAL: N_("Repayment reversed"),
    MovementKind.ACCRUAL: N_("Interest accrued"),
    MovementKind.WRITE_OFF: N_("Written off"),
    MovementKind.RECOVERY: N_("Recovered after write-off"),
}
RECEIPT_STATUS_NAMES: dict[LoanStatus, str] = {
    LoanStatus.ACTIVE: N_("Outstanding"),
    LoanStatus.CLOSED: N_("Repaid in full"),
    LoanStatus.WRITTEN_OFF: N_("Written off"),
}
DONE_MESSAGES: dict[str, str] = {
    "draw": N_("Done. The money is on its way to your enterprise's settlement account."),
    "repay": N_("Done. Your repayment is received."),
    "revoke": N_("Done. We will no longer read that data under this consent."),
    "accepted": N_("Your contract is signed and your credit line is open."),
}


# --- small helpers --------------------------------------------------------------------------


def _deps(request: Request) -> ApiDependencies:
    deps: ApiDependencies = request.app.state.deps
    return deps


def _credit(request: Request) -> CreditAccess:
    credit = _deps(request).credit
    if credit is None:
        raise ConfigurationError("servicing is not wired in this app")
    return credit


def _rate(rate: Decimal) -> str:
    """An annual rate as a percentage with two decimals: 0.0435 -> ``4.35%``."""
    return f"{(rate * 100).quantize(Decimal('0.01'))}%"


def _request_key() -> str:
    """A fresh key per form: sending the same form twice draws or repays once."""
    return secrets.token_urlsafe(12)


def _owner_phone(request: Request, principal: Principal) -> str:
    """The mobile number the owner signed in with (applications are made with it)."""
    security = _deps(request).security
    with security.reader_factory() as uow:
        user = uow.users.get(principal.user_id)
    return user.phone if user is not None and user.phone else ""


def _message(request: Request, error: PuhuiError) -> str:
    kinds = tuple(
        str(getattr(k, "code", ""))
        for k in type(error).__mro__[1:]
        if isinstance(getattr(k, "code", None), str)
    )
    return user_message(request, error.code, kinds)


def _status_of(error: PuhuiError) -> int:
    """The status a form's refusal answers with, as the API would (a page, not JSON)."""
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Forbidden):
        return 403
    return 409


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _yuan_to_fen(text: str, field: str) -> int:
    try:
        amount = int(parse_yuan(text))
    except InvalidAmount:
        raise InvalidAmount("not an amount in yuan", details={"field": field}) from None
    if amount <= 0:
        raise InvalidAmount("an amount is more than zero", details={"field": field})
    return amount


def _page(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    done = request.query_params.get("done")
    notice = gettext(request, DONE_MESSAGES[done]) if done in DONE_MESSAGES else None
    return render(
        request,
        template,
        {"notice": notice, "status_names": STATUS_NAMES, "rate": _rate, **context},
        status_code=status_code,
    )


async def _own_applications(request: Request, owner: Principal) -> list[Application]:
    deps = _deps(request)
    return await call(deps, owner_views.own_applications, deps.origination, actor=owner)


async def _view(request: Request, owner: Principal, application_id: str) -> uc.ApplicationView:
    deps = _deps(request)
    return await call(
        deps, uc.get_application, deps.origination, actor=owner, application_id=application_id
    )


def _to(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# --- step 1: the enterprise and its owner ------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApplyForm:
    uscc: str = ""
    id_number: str = ""
    amount: str = ""
    term: str = ""


TERM_CHOICES = (3, 6, 12, 24, 36)
"""Terms an owner may ask for (the offer says what the bank grants)."""


def _new_application(
    request: Request, form: ApplyForm, *, phone: str, amount_fen: int | None, term: int | None
) -> uc.NewApplication:
    """The service's request for this form, from the phone the owner arrived on, with the
    channel and branch of the QR code the owner scanned (``h5`` and none without one)."""
    channel, branch = common.origin_of(request)
    return uc.NewApplication(
        uscc=form.uscc,
        id_number=form.id_number,
        phone=phone,
        requested_amount_fen=amount_fen,
        requested_term_months=term,
        ip_address=client_address(request),
        channel=channel,
        branch_code=branch,
    )


def _apply_page(
    request: Request,
    owner: Principal,
    form: ApplyForm,
    *,
    field_errors: dict[str, str] | None = None,
    error: str | None = None,
    open_line: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    phone = _owner_phone(request, owner)
    _, branch = common.origin_of(request)
    return _page(
        request,
        "h5/apply.html",
        {
            "form": form,
            "phone_masked": mask_phone(phone) if phone else "",
            "branch": branch,
            "terms": TERM_CHOICES,
            "field_errors": field_errors or {},
            "error": error,
            "open_line": open_line,
        },
        status_code=status_code,
    )


@router.get("/h5/apply")
async def apply_form(request: Request, owner: Owner) -> Response:
    """Step 1, or the owner's application in progress when there is one."""
    mine = await _own_applications(request, owner)
    current = next((a for a in mine if a.is_open), None)
    if current is not None:
        return _to(f"/h5/apply/{current.application_id}")
    has_line = any(a.credit_line_id for a in mine)
    return _apply_page(request, owner, ApplyForm(), open_line=has_line)


@router.post("/h5/apply")
async def apply(request: Request, owner: Owner) -> Response:
    posted = await session.verified_form(request)
    form = ApplyForm(
        uscc=_text(posted.get("uscc")).upper(),
        id_number=_text(posted.get("id_number")).upper(),
        amount=_text(posted.get("amount")),
        term=_text(posted.get("term")),
    )
    field_errors: dict[str, str] = {}
    amount_fen: int | None = None
    term: int | None = None
    if form.amount:
        try:
            amount_fen = _yuan_to_fen(form.amount, "requested_amount_fen")
        except InvalidAmount:
            field_errors["requested_amount_fen"] = gettext(
                request, _FIELD_MESSAGES["requested_amount_fen"]
            )
    if form.term:
        term = int(form.term) if form.term.isdecimal() else None
        if term not in TERM_CHOICES:
            field_errors["requested_term_months"] = gettext(
                request, _FIELD_MESSAGES["requested_term_months"]
            )
    if not form.uscc:
        field_errors["uscc"] = gettext(request, _FIELD_MESSAGES["uscc"])
    if not form.id_number:
        field_errors["id_number"] = gettext(request, _FIELD_MESSAGES["id_number"])
    if field_errors:
        return _apply_page(request, owner, form, field_errors=field_errors, status_code=422)
    deps = _deps(request)
    try:
        created = await call(
            deps,
            uc.create_application,
            deps.origination,
            actor=owner,
            request=_new_application(
                request, form, phone=_owner_phone(request, owner), amount_fen=amount_fen, term=term
            ),
        )
    except PuhuiError as exc:
        field = exc.details.get("field") if isinstance(exc.details, dict) else None
        if isinstance(field, str) and field in _FIELD_MESSAGES:
            return _apply_page(
                request,
                owner,
                form,
                field_errors={field: gettext(request, _FIELD_MESSAGES[field])},
                status_code=_status_of(exc),
            )
        return _apply_page(
            request, owner, form, error=_message(request, exc), status_code=_status_of(exc)
        )
    return _to(f"/h5/apply/{created.application_id}")


# --- steps 2 and 3: consent, then the answer ---------------------------------------------


def _consent_page(
    request: Request,
    view: uc.ApplicationView,
    *,
    error: str | None = None,
    ticked: frozenset[str] = frozenset(),
    status_code: int = 200,
) -> HTMLResponse:
    today = _deps(request).origination.clock.today()
    return _page(
        request,
        "h5/consent.html",
        {
            "application": view.application,
            "scopes": SCOPES,
            "ticked": ticked,
            "valid_until": today + timedelta(days=CONSENT_DAYS),
            "consent_days": CONSENT_DAYS,
            "error": error,
        },
        status_code=status_code,
    )


def _reasons(request: Request, codes: tuple[str, ...]) -> list[str]:
    """The reasons the owner may read in words (the anti-fraud and manual ones)."""
    english = session.page_locale(request) == "en"
    found = [REASONS[c] for c in codes if c in REASONS]
    return [r.en if english else r.zh for r in found]


def _answer_page(request: Request, view: uc.ApplicationView) -> HTMLResponse:
    application = view.application
    now = _deps(request).origination.clock.now()
    offer = view.offer
    expired = offer is not None and offer.is_expired(now)
    reasons = (
        _reasons(request, application.assessment.reasons)
        if application.assessment is not None
        and application.status in (ApplicationStatus.DECLINED, ApplicationStatus.REFERRED)
        else []
    )
    return _page(
        request,
        "h5/answer.html",
        {
            "application": application,
            "offer": offer,
            "offer_expired": expired,
            "reasons": reasons,
            "contract": view.contract,
            "green_category_name": green.category_name(request, application.green_category)
            if application.green_label == "green"
            else None,
        },
    )


@router.get("/h5/apply/{application_id}")
async def application_page(request: Request, owner: Owner, application_id: str) -> Response:
    """Where the application stands: consent (step 2), or the answer (step 3) and after."""
    view = await _view(request, owner, application_id)
    status = view.application.status
    if status in (ApplicationStatus.CREATED, ApplicationStatus.CONSENTED):
        return _consent_page(request, view)
    return _answer_page(request, view)


def _scopes(posted: FormData) -> frozenset[str]:
    return frozenset(
        str(v) for v in posted.getlist("scope") if isinstance(v, str) and v in _SCOPE_BY_VALUE
    )


@router.post("/h5/apply/{application_id}/consent")
async def consent_and_decide(request: Request, owner: Owner, application_id: str) -> Response:
    """Step 2 then step 3: the consent as ticked, and the decision right after it."""
    posted = await session.verified_form(request)
    ticked = _scopes(posted)
    deps = _deps(request)
    view = await _view(request, owner, application_id)
    if view.application.status is ApplicationStatus.CREATED:
        if not ticked:
            return _consent_page(
                request,
                view,
                error=gettext(request, ERRORS["consent_required"]),
                status_code=422,
            )
        await call(
            deps,
            uc.give_consent,
            deps.origination,
            actor=owner,
            application_id=application_id,
            scopes=tuple(DataScope(v) for v in sorted(ticked)),
            purpose=CONSENT_PURPOSE,
            valid_days=CONSENT_DAYS,
        )
    await call(
        deps,
        uc.assess_application,
        deps.origination,
        actor=owner,
        application_id=application_id,
    )
    return _to(f"/h5/apply/{application_id}")


# --- the contract ----------------------------------------------------------------------------


@router.get("/h5/apply/{application_id}/contract")
async def contract_page(request: Request, owner: Owner, application_id: str) -> Response:
    """The contract: the text acceptance will sign, or the signed one once accepted."""
    return await _contract_page(request, owner, application_id)


async def _contract_page(
    request: Request,
    owner: Principal,
    application_id: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    view = await _view(request, owner, application_id)
    deps = _deps(request)
    if view.contract is not None:
        text = view.contract.text
    else:
        text = await call(
            deps,
            owner_views.contract_preview,
            deps.origination,
            actor=owner,
            application_id=application_id,
        )
    return _page(
        request,
        "h5/contract.html",
        {
            "application": view.application,
            "offer": view.offer,
            "contract": view.contract,
            "text": text,
            "error": error,
        },
        status_code=status_code,
    )


@router.post("/h5/apply/{application_id}/acceptance")
async def accept(request: Request, owner: Owner, application_id: str) -> Response:
    """The owner accepts the offer: the contract is signed and the line opens."""
    posted = await session.verified_form(request)
    if posted.get("read") != "yes":
        message = gettext(request, N_("Tick the box to confirm you have read the contract."))
        return await _contract_page(request, owner, application_id, error=message, status_code=422)
    deps = _deps(request)
    view = await call(
        deps, uc.accept_offer, deps.origination, actor=owner, application_id=application_id
    )
    line_id = view.application.credit_line_id
    if line_id is None:
        return _to(f"/h5/apply/{application_id}")
    return _to(f"/h5/line/{line_id}?done=accepted")


# --- my line ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DrawTerm:
    months: int
    maturity: date


def _draw_terms(line: CreditLineRecord, today: date) -> list[DrawTerm]:
    """The terms a draw may take today: within the line's expiry (else up to the expiry);
    none on a frozen line, which takes no draws."""
    if line.status is LineStatus.FROZEN:
        return []
    terms = [
        DrawTerm(m, add_months(today, m))
        for m in DRAW_TERMS
        if add_months(today, m) <= line.expiry_date
    ]
    if not terms and line.expiry_date > today:
        months = (line.expiry_date.year - today.year) * 12 + line.expiry_date.month - today.month
        terms = [DrawTerm(max(months, 0), line.expiry_date)]
    return terms


def _periods(line: CreditLineRecord, today: date) -> list[str]:
    """The statement periods of the line, newest first (the current cycle included)."""
    return statement_periods(
        line.opened_on,
        today,
        settlement_day=ONLINE_CREDIT_PRODUCT.settlement_day,
        limit=STATEMENT_PERIODS,
    )


async def _line_page(
    request: Request,
    owner: Owner,
    line_id: str,
    *,
    draw_error: str | None = None,
    amount: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    deps = _deps(request)
    credit = _credit(request)
    line = await call(deps, line_access.get_line, credit, actor=owner, line_id=line_id)
    receipts = await call(
        deps, line_access.line_receipts, credit, actor=owner, line_id=line_id, limit=50, offset=0
    )
    mine = await _own_applications(request, owner)
    application = next((a for a in mine if a.credit_line_id == line_id), None)
    others = [a.credit_line_id for a in mine if a.credit_line_id and a.credit_line_id != line_id]
    today = credit.today()
    periods = _periods(line, today)
    return _page(
        request,
        "h5/line.html",
        {
            "line": line,
            "receipts": receipts,
            "called_in": any(
                r.called_in_on is not None and r.status is LoanStatus.ACTIVE for r in receipts
            ),
            "receipt_status": RECEIPT_STATUS_NAMES,
            "application": application,
            "green_category_name": green.category_name(request, application.green_category)
            if application is not None and application.green_label == "green"
            else None,
            "other_lines": others,
            "terms": _draw_terms(line, today),
            "today": today,
            "period": periods[0] if periods else None,
            "draw_error": draw_error,
            "amount": amount,
            "request_key": _request_key(),
        },
        status_code=status_code,
    )


@router.get("/h5/line")
async def my_line(request: Request, owner: Owner) -> Response:
    """The owner's credit line (the newest, when they have several), or how to get one."""
    mine = await _own_applications(request, owner)
    line_id = next((a.credit_line_id for a in mine if a.credit_line_id), None)
    if line_id is not None:
        return _to(f"/h5/line/{line_id}")
    current = next((a for a in mine if a.is_open), None)
    return _page(request, "h5/no_line.html", {"application": current})


@router.get("/h5/line/{line_id}")
async def line_page(request: Request, owner: Owner, line_id: str) -> Response:
    return await _line_page(request, owner, line_id)


@router.post("/h5/line/{line_id}/draws")
async def draw(request: Request, owner: Owner, line_id: str) -> Response:
    posted = await session.verified_form(request)
    amount = _text(posted.get("amount"))
    months = _text(posted.get("term"))
    key = _text(posted.get("request_key")) or _request_key()
    deps = _deps(request)
    credit = _credit(request)
    try:
        amount_fen = _yuan_to_fen(amount, "amount")
        line = await call(deps, line_access.get_line, credit, actor=owner, line_id=line_id)
        terms = {str(t.months): t for t in _draw_terms(line, credit.today())}
        term = terms.get(months)
        if term is None:
            raise InvalidInput("choose a term from the list", details={"field": "term"})
        await call(
            deps,
            line_access.draw,
            credit,
            actor=owner,
            line_id=line_id,
            amount_fen=amount_fen,
            maturity_date=term.maturity,
            idempotency_key=f"h5-draw-{key}",
        )
    except PuhuiError as exc:
        message = _message(request, exc)
        if isinstance(exc, InvalidAmount) and exc.code == "invalid_amount":
            message = gettext(request, N_("Enter the amount in yuan, such as 5000."))
        return await _line_page(
            request,
            owner,
            line_id,
            draw_error=message,
            amount=amount,
            status_code=_status_of(exc),
        )
    return _to(f"/h5/line/{line_id}?done=draw")


async def _receipt_page(
    request: Request,
    owner: Owner,
    receipt_id: str,
    *,
    repay_error: str | None = None,
    amount: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    deps = _deps(request)
    schedule = await call(
        deps, receipt_access.receipt_schedule, _credit(request), actor=owner, receipt_id=receipt_id
    )
    receipt: LoanAccount = schedule.receipt
    return _page(
        request,
        "h5/receipt.html",
        {
            "receipt": receipt,
            "instalments": schedule.instalments,
            "receipt_status": RECEIPT_STATUS_NAMES,
            "repay_error": repay_error,
            "amount": amount,
            "request_key": _request_key(),
        },
        status_code=status_code,
    )


@router.get("/h5/receipts/{receipt_id}")
async def receipt_page(request: Request, owner: Owner, receipt_id: str) -> Response:
    """A receipt (借据): what it owes now, its schedule, and the repayment form."""
    return await _receipt_page(request, owner, receipt_id)


@router.post("/h5/receipts/{receipt_id}/repayments")
async def repay(request: Request, owner: Owner, receipt_id: str) -> Response:
    posted = await session.verified_form(request)
    amount = _text(posted.get("amount"))
    key = _text(posted.get("request_key")) or _request_key()
    deps = _deps(request)
    try:
        amount_fen = _yuan_to_fen(amount, "amount")
        await call(
            deps,
            receipt_access.repay,
            _credit(request),
            actor=owner,
            receipt_id=receipt_id,
            amount_fen=amount_fen,
            idempotency_key=f"h5-repay-{key}",
        )
    except PuhuiError as exc:
        message = _message(request, exc)
        if exc.code == "invalid_amount":
            message = gettext(request, N_("Enter the amount in yuan, such as 1000."))
        return await _receipt_page(
            request,
            owner,
            receipt_id,
            repay_error=message,
            amount=amount,
            status_code=_status_of(exc),
        )
    return _to(f"/h5/receipts/{receipt_id}?done=repay")


@router.get("/h5/line/{line_id}/statement")
async def statement_page(
    request: Request, owner: Owner, line_id: str, period: str | None = None
) -> Response:
    """The statement (对账单) of one interest cycle; the current one unless asked."""
    deps = _deps(request)
    credit = _credit(request)
    line = await call(deps, line_access.get_line, credit, actor=owner, line_id=line_id)
    periods = _periods(line, credit.today())
    chosen = period if period in periods else (periods[0] if periods else "")
    found = await call(
        deps, line_access.line_statement, credit, actor=owner, line_id=line_id, period=chosen
    )
    return _page(
        request,
        "h5/statement.html",
        {
            "line": line,
            "statement": found,
            "periods": periods,
            "chosen": chosen,
            "movement_names": MOVEMENT_NAMES,
        },
    )


# --- consents --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsentRow:
    application: Application
    consent: Consent
    scopes: tuple[ScopeText, ...]
    active: bool


@router.get("/h5/consents")
async def consents_page(request: Request, owner: Owner) -> Response:
    """Every consent the owner gave: what it covers, until when, and withdrawing it."""
    mine = await _own_applications(request, owner)
    now: datetime = _deps(request).origination.clock.now()
    rows: list[ConsentRow] = []
    for application in mine:
        view = await _view(request, owner, application.application_id)
        for consent in sorted(view.consents, key=lambda c: c.granted_at, reverse=True):
            scopes = tuple(s for s in SCOPES if s.scope in consent.scopes)
            rows.append(ConsentRow(application, consent, scopes, consent.is_active(now)))
    return _page(request, "h5/consents.html", {"rows": rows})


@router.post("/h5/consents/{application_id}/{consent_id}/revocation")
async def revoke(request: Request, owner: Owner, application_id: str, consent_id: str) -> Response:
    await session.verified_form(request)
    deps = _deps(request)
    await call(
        deps,
        uc.revoke_consent,
        deps.origination,
        actor=owner,
        application_id=application_id,
        consent_id=consent_id,
    )
    return _to("/h5/consents?done=revoke")
