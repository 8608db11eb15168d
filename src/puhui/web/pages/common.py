"""The pages every user meets: sign-in and sign-out of both faces, the console's home page
per role, and the H5 landing page a branch's QR code opens."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from puhui.domain.errors import InvalidInput, NotFound, PuhuiError
from puhui.domain.origination.channel import (
    Channel,
    is_branch_code,
    parse_branch_code,
    parse_channel,
)
from puhui.domain.origination.errors import RateLimited, Unauthenticated
from puhui.services.security import accounts
from puhui.services.security.permissions import Principal, Role
from puhui.services.security.users import get_user
from puhui.web.dependencies import ApiDependencies, call, client_address
from puhui.web.pages import session
from puhui.web.pages.i18n import translations
from puhui.web.pages.nav import N_, NavItem, shown, visible
from puhui.web.pages.rendering import gettext, render

ROLE_NAMES: dict[Role, str] = {
    Role.APPLICANT: N_("Applicant"),
    Role.ACCOUNT_MANAGER: N_("Account manager"),
    Role.APPROVER: N_("Approver"),
    Role.RISK_OFFICER: N_("Risk officer"),
    Role.OPERATIONS: N_("Operations"),
    Role.ADMIN: N_("Administrator"),
    Role.PARTNER: N_("Partner"),
    Role.AUDITOR: N_("Auditor"),
    Role.SUPERVISOR: N_("Supervisor"),
}
ORIGIN_COOKIE = "puhui_h5_origin"
"""The channel and branch of the QR code an applicant arrived by (recorded on the application)."""


class InvalidQrCode(InvalidInput):
    code = "invalid_qr_code"


ERRORS = {
    "invalid_qr_code": N_(
        "This QR code is not valid. Ask the branch or service point for a new one, "
        "or start without it."
    )
}
router = APIRouter(include_in_schema=False)
logger = logging.getLogger(__name__)
StaffUser = Annotated[Principal, Depends(session.staff)]


def console_nav(request: Request) -> tuple[NavItem, ...]:
    items: tuple[NavItem, ...] = request.app.state.console_nav
    return items


def display_name(request: Request, principal: Principal) -> str:
    """The user's username (user ids are opaque); remembered per process, names never change."""
    names: dict[str, str] | None = getattr(request.app.state, "user_names", None)
    if names is None:
        names = request.app.state.user_names = {}
    name = names.get(principal.user_id)
    if name is None:
        security = request.app.state.deps.security
        with security.reader_factory() as uow:
            user = uow.users.get(principal.user_id)
        name = user.username if user is not None else principal.user_id
        names[principal.user_id] = name
    return name


def _page_context(request: Request, principal: Principal) -> dict[str, object]:
    return {
        "principal": principal,
        "user_name": display_name(request, principal),
        "role_name": ROLE_NAMES[principal.role],
        "nav": shown(console_nav(request), principal, session.page_locale(request)),
    }


def staff_names(deps: ApiDependencies, user_ids: Iterable[str]) -> dict[str, str]:
    """Each user id with the user's name (a blocking read: called through ``call``); an id
    that names no user (a command-line operator, or a user since removed) stands for itself."""
    names: dict[str, str] = {}
    for user_id in set(user_ids):
        names[user_id] = user_id
        if user_id.startswith("usr_"):
            with suppress(NotFound):
                names[user_id] = get_user(deps.security, user_id).username
    return names


def console_page(
    request: Request, principal: Principal, template: str, context: dict[str, object] | None = None
) -> HTMLResponse:
    """A console page in its layout: the sections the user may open, the user, the language."""
    return render(request, template, {**_page_context(request, principal), **(context or {})})


# --- the console ---------------------------------------------------------------------------


@router.get("/console/sign-in")
async def console_sign_in_form(request: Request, next: str | None = None) -> HTMLResponse:
    return render(
        request,
        "common/console_sign_in.html",
        {"next": session.safe_next(next, session.Face.CONSOLE), "error": None, "username": ""},
    )


@router.post("/console/sign-in")
async def console_sign_in(request: Request) -> Response:
    form = await session.verified_form(request)
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = session.safe_next(str(form.get("next", "")), session.Face.CONSOLE)
    deps = request.app.state.deps
    try:
        if not username or not password:
            raise Unauthenticated("enter a username and a password")
        token = await call(
            deps,
            accounts.login,
            deps.security,
            username=username,
            password=password,
            client=client_address(request),
        )
        principal = accounts.authenticate_token(deps.security, token.access_token)
        if not session.Face.CONSOLE.admits(principal):
            raise Unauthenticated("wrong username or password")
    except (Unauthenticated, RateLimited) as exc:
        message = (
            N_("Too many attempts. Wait a few minutes, then try again.")
            if isinstance(exc, RateLimited)
            else N_("Wrong username or password.")
        )
        return render(
            request,
            "common/console_sign_in.html",
            {"next": target, "error": gettext(request, message), "username": username},
            status_code=429 if isinstance(exc, RateLimited) else 401,
        )
    session.start_session(request, session.Face.CONSOLE, token.access_token)
    return RedirectResponse(target, status_code=303)


@router.post("/console/sign-out")
async def console_sign_out(request: Request) -> Response:
    return await _sign_out(request, session.Face.CONSOLE)


async def _sign_out(request: Request, face: session.Face) -> Response:
    await session.verified_form(request)
    token = session.end_session(request, face)
    if token:
        deps = request.app.state.deps
        with suppress(Unauthenticated):  # expired or revoked already: signed out either way
            await call(deps, accounts.logout, deps.security, token)
    return RedirectResponse(face.sign_in_path, status_code=303)


@router.get("/console/")
async def console_home(request: Request, principal: StaffUser) -> HTMLResponse:
    """The sections the user may open, each that counts it saying what waits there for them
    (referrals to review, tasks, failed messages, days not reconciled: ADR 0060)."""
    return console_page(
        request,
        principal,
        "common/console_home.html",
        {"waiting": await _waiting(request, principal)},
    )


async def _waiting(request: Request, principal: Principal) -> dict[str, str]:
    """Section path -> what waits there, worded; a section whose count fails is left out (the
    home never fails for one section), and logged."""
    deps = request.app.state.deps
    locale = session.page_locale(request)
    said: dict[str, str] = {}
    for item in visible(console_nav(request), principal):
        if item.waiting is None:
            continue
        try:
            count = await call(deps, item.waiting, deps, principal)
        except PuhuiError as exc:
            logger.warning("the home could not count %s: %s", item.path, exc.message)
            continue
        if count > 0:
            words = translations(locale, item.area)
            said[item.path] = words.gettext(item.waiting_label) % {"count": f"{count:,}"}
    return said


@router.get("/console")
async def console_root() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=307)


# --- the H5 pages ----------------------------------------------------------------------------


def origin_of(request: Request) -> tuple[str, str | None]:
    """The channel and branch the applicant arrived by: a branch's QR code (``h5_qr`` and its
    branch), else ``h5`` and none — whatever else the cookie says."""
    raw = request.cookies.get(ORIGIN_COOKIE, "")
    channel, _, branch = raw.partition(":")
    if channel == Channel.H5_QR.value and is_branch_code(branch):
        return channel, branch
    return Channel.H5.value, None


@router.get("/h5/")
async def h5_landing(
    request: Request, branch: str | None = None, channel: str | None = None
) -> HTMLResponse:
    """Where a branch's or a village service point's QR code lands."""
    if branch is not None or channel is not None:
        # A QR code names its branch and the QR channel; nothing else may be set from a link.
        try:
            if parse_channel(channel or Channel.H5_QR.value) is not Channel.H5_QR:
                raise InvalidQrCode("a QR code's channel is h5_qr")
            code = parse_branch_code(branch or "")
        except InvalidInput:
            raise InvalidQrCode("this QR code is not valid: ask the branch for a new one") from None
        session.pending_cookies(request).set[ORIGIN_COOKIE] = (
            f"{Channel.H5_QR.value}:{code}",
            "/h5",
            None,
        )
        origin: tuple[str, str | None] = (Channel.H5_QR.value, code)
    else:
        origin = origin_of(request)
    return render(request, "common/h5_landing.html", {"channel": origin[0], "branch": origin[1]})


@router.get("/h5")
async def h5_root(request: Request) -> RedirectResponse:
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/h5/{query}", status_code=307)


@router.get("/h5/sign-in")
async def h5_sign_in_form(request: Request, next: str | None = None) -> HTMLResponse:
    return render(
        request,
        "common/h5_sign_in.html",
        {
            "next": session.safe_next(next, session.Face.H5),
            "phone": "",
            "code_sent": False,
            "error": None,
        },
    )


@router.post("/h5/sign-in/code")
async def h5_send_code(request: Request) -> HTMLResponse:
    form = await session.verified_form(request)
    phone = str(form.get("phone", "")).strip()
    target = session.safe_next(str(form.get("next", "")), session.Face.H5)
    deps = request.app.state.deps
    context: dict[str, object] = {"next": target, "phone": phone, "code_sent": True, "error": None}
    status = 200
    try:
        await call(
            deps, accounts.request_code, deps.security, phone=phone, client=client_address(request)
        )
    except InvalidInput:
        context.update(
            code_sent=False,
            error=gettext(request, N_("Enter an 11-digit mainland mobile number, such as 138…")),
        )
        status = 422
    except RateLimited:
        context["error"] = gettext(
            request, N_("A code was sent a moment ago. Wait a few minutes before asking again.")
        )
        status = 429
    return render(request, "common/h5_sign_in.html", context, status_code=status)


@router.post("/h5/sign-in")
async def h5_sign_in(request: Request) -> Response:
    form = await session.verified_form(request)
    phone = str(form.get("phone", "")).strip()
    code = str(form.get("code", "")).strip()
    target = session.safe_next(str(form.get("next", "")), session.Face.H5)
    deps = request.app.state.deps
    try:
        token = await call(deps, accounts.verify_code, deps.security, phone=phone, code=code)
    except (Unauthenticated, InvalidInput, RateLimited):
        return render(
            request,
            "common/h5_sign_in.html",
            {
                "next": target,
                "phone": phone,
                "code_sent": True,
                "error": gettext(
                    request,
                    N_("The code is wrong or has expired. Check the text message or ask again."),
                ),
            },
            status_code=401,
        )
    session.start_session(request, session.Face.H5, token.access_token)
    return RedirectResponse(target, status_code=303)


@router.post("/h5/sign-out")
async def h5_sign_out(request: Request) -> Response:
    return await _sign_out(request, session.Face.H5)
