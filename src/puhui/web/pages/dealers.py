"""Dealer loans (经销商贷) on the pages: the dealer's H5 pages and the bank's console.

H5 (the dealer's enterprise user, an applicant bound to the dealer enterprise): my dealer
lines (limit, drawn, available, expiry, the core it pays) and a line's page with its receipts
and a draw form; every draw pays the core enterprise (受托支付), never the dealer.

Console (staff): the dealer lines by core, a line's page with its receipts; risk officers and
operations decide a line (sized by the strategy from the dealer's purchases) and draw on it.

Every action is the service's (``puhui.services.dealers``) with the signed-in user as actor;
the service checks who may read and draw what (an enterprise user: its own lines only).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from puhui.decision.supply_chain import COMMITMENTS
from puhui.domain.errors import InvalidAmount, InvalidDate, InvalidInput, NotFound, PuhuiError
from puhui.domain.lending.errors import InsufficientLimit
from puhui.domain.money import parse_yuan
from puhui.domain.origination.errors import Forbidden
from puhui.services.dealers import (
    DealerAccess,
    DealerLineDeclined,
    DealerLineView,
    dealer_line,
    default_maturity,
    draw_to_core,
    enterprise_names,
    list_dealer_lines,
    open_dealer_line,
)
from puhui.services.security.permissions import Permission, Principal
from puhui.web.dealer_wiring import dealer_access
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.errors import user_message
from puhui.web.pages.forms import form_text
from puhui.web.pages.i18n import yuan
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.rendering import gettext, render
from puhui.web.pages.session import page_locale

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
Dealer = Annotated[Principal, Depends(session.applicant)]
USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")

NAV = (
    NavItem(
        "/console/dealer-lines",
        N_("Dealer lines"),
        N_("Dealer loans of the core enterprises' dealers: lines, draws paid to the core."),
        Permission.LINE_READ,
        order=43,
    ),
)
STATUS_NAMES = {
    "active": N_("Active"),
    "frozen": N_("Frozen: no new draws"),
    "expired": N_("Expired: no new draws"),
}
COMMITMENT_NAMES = {
    "guarantee": N_("Guarantee (担保)"),
    "repurchase": N_("Repurchase (回购)"),
    "none": N_("No commitment"),
}
RECEIPT_NAMES = {
    "active": N_("Owing"),
    "closed": N_("Repaid"),
    "written_off": N_("Written off"),
}
DRAW_ERRORS = {
    "insufficient_limit": N_(
        "The amount is more than what is available on this dealer line (¥%(available)s). "
        "Enter a smaller amount."
    ),
    "line_frozen": N_(
        "This dealer line is frozen, so nobody can draw on it for now. "
        "Call your branch to find out why."
    ),
    "line_expired": N_("This dealer line has expired: it can no longer be drawn on."),
    "invalid_amount": N_("Enter an amount of more than zero yuan, such as 1000.50."),
    "invalid_date": N_("Choose a repayment date after today and no later than the line's expiry."),
}
NOTICES = {
    "drawn": N_("Done. The amount is paid to the core enterprise; you owe it as a new receipt."),
    "opened": N_("The dealer line is open."),
}


def _deps(request: Request) -> ApiDependencies:
    deps: ApiDependencies = request.app.state.deps
    return deps


def _request_key() -> str:
    """A fresh key per form: a form sent twice acts once."""
    return secrets.token_urlsafe(12)


def _key(posted: Any, prefix: str) -> str:
    sent = posted.get("request_key")
    key = sent.strip() if isinstance(sent, str) and sent.strip() else _request_key()
    return f"{prefix}-{key[:40]}"


def _status_of(error: PuhuiError) -> int:
    if isinstance(error, Forbidden):
        return 403
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, NotFound):
        return 404
    return 409


def _draw_message(request: Request, error: PuhuiError, view: DealerLineView) -> str:
    """What a refused draw tells the person, in the request's language."""
    code = error.code
    if isinstance(error, InvalidAmount) or code == "invalid_amount":
        code = "invalid_amount"
    elif isinstance(error, InvalidDate):
        code = "invalid_date"
    if isinstance(error, InsufficientLimit):
        return gettext(
            request, DRAW_ERRORS["insufficient_limit"], available=yuan(view.available_fen)
        )
    if code in DRAW_ERRORS:
        return gettext(request, DRAW_ERRORS[code])
    kinds = tuple(
        str(getattr(k, "code", ""))
        for k in type(error).__mro__[1:]
        if isinstance(getattr(k, "code", None), str)
    )
    return user_message(request, error.code, kinds)


def _notice(request: Request) -> str | None:
    done = request.query_params.get("done") or ""
    return gettext(request, NOTICES[done]) if done in NOTICES else None


def _parse_draw(posted: Any, view: DealerLineView, today: date) -> tuple[int, date]:
    """The draw form's amount (yuan) and repayment date (default: the service's)."""
    text = form_text(posted, "amount", 20)
    try:
        amount = int(parse_yuan(text)) if text else 0
    except InvalidAmount:
        amount = 0
    if amount <= 0:
        raise InvalidAmount("enter an amount of more than zero yuan")
    chosen = form_text(posted, "maturity", 10)
    if not chosen:
        return amount, default_maturity(view, today)
    try:
        maturity = date.fromisoformat(chosen)
    except ValueError:
        raise InvalidDate("the repayment date is not a date") from None
    return amount, maturity


def _view_context(view: DealerLineView, today: date, names: dict[str, str]) -> dict[str, Any]:
    return {
        "line": view,
        "names": names,
        "status_names": STATUS_NAMES,
        "receipt_names": RECEIPT_NAMES,
        "may_draw": view.status == "active" and view.available_fen > 0,
        "maturity": default_maturity(view, today),
        "today": today,
        "request_key": _request_key(),
    }


async def _names(
    request: Request, access: DealerAccess, views: Sequence[DealerLineView]
) -> dict[str, str]:
    """Registered names of the lines' cores and dealers, shown beside their codes."""
    usccs = [u for v in views for u in (v.core_uscc, v.dealer_uscc)]
    return await call(_deps(request), enterprise_names, access, usccs)


# --- H5: the dealer's own lines -----------------------------------------------------------


@router.get("/h5/dealer-lines")
async def my_dealer_lines(request: Request, dealer: Dealer) -> HTMLResponse:
    access = dealer_access(_deps(request))
    found = await call(_deps(request), list_dealer_lines, access, actor=dealer)
    return render(
        request,
        "dealers/h5_lines.html",
        {
            "lines": found,
            "names": await _names(request, access, found),
            "status_names": STATUS_NAMES,
            "notice": _notice(request),
        },
    )


async def _h5_line_page(
    request: Request,
    dealer: Principal,
    line_id: str,
    *,
    error: str | None = None,
    amount: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    access = dealer_access(_deps(request))
    view = await call(_deps(request), dealer_line, access, actor=dealer, line_id=line_id[:64])
    return render(
        request,
        "dealers/h5_line.html",
        {
            **_view_context(view, access.today(), await _names(request, access, [view])),
            "draw_error": error,
            "amount": amount,
            "notice": _notice(request),
        },
        status_code=status_code,
    )


@router.get("/h5/dealer-lines/{line_id}")
async def my_dealer_line(request: Request, dealer: Dealer, line_id: str) -> HTMLResponse:
    return await _h5_line_page(request, dealer, line_id)


@router.post("/h5/dealer-lines/{line_id}/draws")
async def dealer_draw(request: Request, dealer: Dealer, line_id: str) -> Response:
    return await _draw_from_form(request, dealer, line_id, face="h5", page=_h5_line_page)


class _LinePage(Protocol):
    async def __call__(
        self,
        request: Request,
        actor: Principal,
        line_id: str,
        /,
        *,
        error: str | None = None,
        amount: str = "",
        status_code: int = 200,
    ) -> HTMLResponse: ...


async def _draw_from_form(
    request: Request, actor: Principal, line_id: str, *, face: str, page: _LinePage
) -> Response:
    """A draw posted from a line's page (H5 or console): paid to the core; a refusal shows
    the page again with the message next to the amount."""
    posted = await session.verified_form(request)
    chosen = line_id[:64]
    deps = _deps(request)
    access = dealer_access(deps)
    # Another enterprise's line is absent (404) before any form is read.
    view = await call(deps, dealer_line, access, actor=actor, line_id=chosen)
    try:
        amount, maturity = _parse_draw(posted, view, access.today())
        await call(
            deps,
            draw_to_core,
            access,
            actor=actor,
            line_id=chosen,
            amount_fen=amount,
            maturity_date=maturity,
            idempotency_key=_key(posted, f"{face}-dealer-draw-{chosen}"),
        )
    except PuhuiError as exc:
        if isinstance(exc, (Forbidden, NotFound)):
            raise
        return await page(
            request,
            actor,
            chosen,
            error=_draw_message(request, exc, view),
            amount=form_text(posted, "amount", 20),
            status_code=_status_of(exc),
        )
    prefix = "/h5" if face == "h5" else "/console"
    return RedirectResponse(f"{prefix}/dealer-lines/{chosen}?done=drawn", status_code=303)


# --- the console: dealer lines by core, decide and draw -----------------------------------


async def _console_list(
    request: Request,
    principal: Principal,
    *,
    error: str | None = None,
    reasons: list[str] | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    sent = (request.query_params.get("core") or "").strip().upper()
    core = sent if USCC.match(sent) else None
    access = dealer_access(_deps(request))
    found = await call(_deps(request), list_dealer_lines, access, actor=principal, core_uscc=core)
    response = console_page(
        request,
        principal,
        "dealers/lines.html",
        {
            "lines": found,
            "names": await _names(request, access, found),
            "core": core or "",
            "status_names": STATUS_NAMES,
            "commitments": [(c, COMMITMENT_NAMES[c]) for c in COMMITMENTS],
            "may_manage": principal.can(Permission.LINE_MANAGE),
            "notice": _notice(request),
            "error": error,
            "reasons": reasons or [],
            "form": form or {},
            "request_key": _request_key(),
        },
    )
    response.status_code = status_code
    return response


@router.get("/console/dealer-lines")
async def console_lines(request: Request, principal: StaffUser) -> HTMLResponse:
    return await _console_list(request, principal)


@router.post("/console/dealer-lines")
async def console_decide(request: Request, principal: StaffUser) -> Response:
    posted = await session.verified_form(request)
    form = {name: str(posted.get(name, "")).strip()[:20] for name in ("core", "dealer", "amount")}
    form["core"], form["dealer"] = form["core"].upper(), form["dealer"].upper()
    form["commitment"] = str(posted.get("commitment", ""))[:20]
    deps = _deps(request)
    try:
        for name in ("core", "dealer"):
            if not USCC.match(form[name]):
                raise InvalidInput(f"bad {name}", details={"field": name})
        requested = int(parse_yuan(form["amount"])) if form["amount"] else None
        if requested is not None and requested <= 0:
            raise InvalidAmount("the amount must be more than zero")
        line, _ = await call(
            deps,
            open_dealer_line,
            dealer_access(deps),
            actor=principal,
            core_uscc=form["core"],
            dealer_uscc=form["dealer"],
            commitment=form["commitment"],
            requested_fen=requested,
            idempotency_key=_key(posted, "console-dealer-line"),
        )
    except PuhuiError as exc:
        if isinstance(exc, Forbidden):
            raise
        field = exc.details.get("field") if isinstance(exc, InvalidInput) else None
        if field in ("core", "dealer"):
            message = gettext(
                request, N_("Enter the 18-character unified social credit code of each party.")
            )
        elif isinstance(exc, InvalidAmount):
            message = gettext(request, DRAW_ERRORS["invalid_amount"])
        elif isinstance(exc, DealerLineDeclined):
            message = gettext(request, N_("The strategy declines this dealer line."))
        else:
            kinds = tuple(
                str(getattr(k, "code", ""))
                for k in type(exc).__mro__[1:]
                if isinstance(getattr(k, "code", None), str)
            )
            message = user_message(request, exc.code, kinds)
        reasons: list[str] = []
        if isinstance(exc, DealerLineDeclined):
            if page_locale(request).startswith("zh"):
                reasons = [str(r) for r in exc.details.get("reasons_zh", [])]
            else:
                reasons = exc.message.removeprefix("no dealer line: ").split("; ")
        return await _console_list(
            request,
            principal,
            error=message,
            reasons=reasons,
            form=form,
            status_code=_status_of(exc),
        )
    return RedirectResponse(f"/console/dealer-lines/{line.line_id}?done=opened", status_code=303)


async def _console_line(
    request: Request,
    principal: Principal,
    line_id: str,
    *,
    error: str | None = None,
    amount: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    access = dealer_access(_deps(request))
    view = await call(_deps(request), dealer_line, access, actor=principal, line_id=line_id[:64])
    response = console_page(
        request,
        principal,
        "dealers/line.html",
        {
            **_view_context(view, access.today(), await _names(request, access, [view])),
            "may_manage": principal.can(Permission.LINE_MANAGE),
            "draw_error": error,
            "amount": amount,
            "notice": _notice(request),
        },
    )
    response.status_code = status_code
    return response


@router.get("/console/dealer-lines/{line_id}")
async def console_line(request: Request, principal: StaffUser, line_id: str) -> HTMLResponse:
    return await _console_line(request, principal, line_id)


@router.post("/console/dealer-lines/{line_id}/draws")
async def console_draw(request: Request, principal: StaffUser, line_id: str) -> Response:
    return await _draw_from_form(request, principal, line_id, face="console", page=_console_line)
