"""Who is signed in to a page, in which language, and the CSRF token of its forms.

The pages use the API's own tokens and services: signing in issues the same short-lived access
token the API issues, kept in an HttpOnly, Secure, SameSite=Strict cookie scoped to its face —
``/console`` for staff, ``/h5`` for applicants — so a staff session is never sent to the H5
pages nor an applicant's to the console, and each face checks the role as well. An active user
gets a fresh token once half of the lifetime has passed (a sliding session); an idle one is
signed out when the token expires.

Every unsafe request carries a CSRF token: the value of a signed random cookie, repeated in a
hidden form field (``csrf_token``) or, for HTMX requests, in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import quote

from fastapi import Request
from starlette.datastructures import FormData

from puhui.domain.errors import PuhuiError
from puhui.domain.origination.errors import Forbidden, Unauthenticated
from puhui.services.security.accounts import Security, authenticate_token
from puhui.services.security.permissions import Principal, Role
from puhui.web.pages import i18n

LANGUAGE_COOKIE = "puhui_lang"
CSRF_COOKIE = "puhui_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class Face(Enum):
    """The two faces of the platform: each its own path, cookie and role check."""

    CONSOLE = "/console"
    H5 = "/h5"

    @property
    def cookie(self) -> str:
        return "puhui_console" if self is Face.CONSOLE else "puhui_h5"

    @property
    def sign_in_path(self) -> str:
        return f"{self.value}/sign-in"

    def admits(self, principal: Principal) -> bool:
        if self is Face.CONSOLE:
            return principal.is_staff
        return principal.role is Role.APPLICANT


class SignInRequired(PuhuiError):
    """A page needs a signed-in user of its face: the page answers with the sign-in page."""

    code = "sign_in_required"

    def __init__(self, face: Face, next_path: str) -> None:
        super().__init__("sign in to open this page")
        self.face = face
        self.next_path = next_path


class CsrfRejected(Forbidden):
    code = "csrf_rejected"


@dataclass
class PendingCookies:
    """Cookies a request decided to set; the page middleware writes them on the response."""

    set: dict[str, tuple[str, str, int | None]] = field(default_factory=dict)
    """name -> (value, path, max-age seconds or None for a session cookie)."""
    delete: dict[str, str] = field(default_factory=dict)
    """name -> path."""


def pending_cookies(request: Request) -> PendingCookies:
    pending: PendingCookies | None = getattr(request.state, "pending_cookies", None)
    if pending is None:
        pending = PendingCookies()
        request.state.pending_cookies = pending
    return pending


def _security(request: Request) -> Security:
    security: Security = request.app.state.deps.security
    return security


# --- language -----------------------------------------------------------------------------


def page_locale(request: Request) -> str:
    """The request's language: ``?lang=`` (remembered), else the language cookie, else zh-CN."""
    cached: str | None = getattr(request.state, "locale", None)
    if cached is not None:
        return cached
    asked = request.query_params.get("lang")
    if asked is not None:
        locale = i18n.parse_locale(asked)
        pending_cookies(request).set[LANGUAGE_COOKIE] = (locale, "/", 365 * 24 * 3600)
    else:
        locale = i18n.parse_locale(request.cookies.get(LANGUAGE_COOKIE))
    request.state.locale = locale
    return locale


# --- CSRF ---------------------------------------------------------------------------------


def _csrf_key(request: Request) -> bytes:
    return hmac.new(_security(request).config.jwt_secret, b"puhui-csrf-v1", hashlib.sha256).digest()


def _csrf_signature(request: Request, nonce: str) -> str:
    return hmac.new(_csrf_key(request), nonce.encode(), hashlib.sha256).hexdigest()[:32]


def _valid_csrf(request: Request, token: str | None) -> bool:
    if not token or "." not in token:
        return False
    nonce, _, signature = token.partition(".")
    return hmac.compare_digest(signature, _csrf_signature(request, nonce))


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (made, and set as a cookie, on its first page)."""
    current = getattr(request.state, "csrf_token", None) or request.cookies.get(CSRF_COOKIE)
    if not _valid_csrf(request, current):
        nonce = secrets.token_urlsafe(24)
        current = f"{nonce}.{_csrf_signature(request, nonce)}"
        pending_cookies(request).set[CSRF_COOKIE] = (current, "/", None)
    request.state.csrf_token = current
    return str(current)


async def verified_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matches this browser's cookie (else refused)."""
    form = await request.form()
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    cookie = request.cookies.get(CSRF_COOKIE)
    if not (
        isinstance(sent, str)
        and cookie is not None
        and _valid_csrf(request, cookie)
        and hmac.compare_digest(sent, cookie)
    ):
        raise CsrfRejected("the form has expired or did not come from this site: reload the page")
    return form


# --- sessions -----------------------------------------------------------------------------


def start_session(request: Request, face: Face, access_token: str) -> None:
    """Keep a freshly issued access token as the face's session cookie."""
    pending_cookies(request).set[face.cookie] = (access_token, face.value, None)


def end_session(request: Request, face: Face) -> str | None:
    """Forget the face's session cookie; the token it held is returned for revocation."""
    pending_cookies(request).delete[face.cookie] = face.value
    return request.cookies.get(face.cookie)


def _principal(request: Request, face: Face) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = request.cookies.get(face.cookie)
    if not token:
        raise SignInRequired(face, _next_path(request))
    security = _security(request)
    try:
        principal = authenticate_token(security, token)
    except Unauthenticated:
        pending_cookies(request).delete[face.cookie] = face.value
        raise SignInRequired(face, _next_path(request)) from None
    if not face.admits(principal):
        raise Forbidden("this page is not for this kind of user")
    claims = security.tokens.decode(token)
    lifetime = security.config.token_lifetime.total_seconds()
    remaining = claims.expires_at - security.clock.now().timestamp()
    if remaining < lifetime / 2:
        start_session(request, face, security.tokens.issue(principal).access_token)
    request.state.principal = principal
    return principal


def _next_path(request: Request) -> str:
    path = request.url.path
    if request.url.query:
        path = f"{path}?{request.url.query}"
    return quote(path, safe="/?=&-_.")


async def staff(request: Request) -> Principal:
    """The signed-in staff user of a console page (else the sign-in page answers)."""
    return _principal(request, Face.CONSOLE)


async def applicant(request: Request) -> Principal:
    """The signed-in applicant of an H5 page (else the H5 sign-in page answers)."""
    return _principal(request, Face.H5)


def safe_next(value: str | None, face: Face) -> str:
    """Where to go after signing in: a path of the same face only (no open redirect)."""
    if value and value.startswith(face.value + "/") and "//" not in value and "\\" not in value:
        return value
    return face.value + "/"
