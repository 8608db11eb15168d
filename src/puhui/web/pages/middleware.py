"""Response headers and cookies of the pages: one pure ASGI pass, nothing for API calls.

Every page gets a Content Security Policy that admits only this origin's files (no inline
script, no inline style, nothing from another host), is never framed or cached, and receives
the cookies its request decided on (session, CSRF, language).
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from puhui.web.pages.session import PendingCookies

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
PAGE_PREFIXES = ("/console", "/h5", "/api/v1/docs")
_PAGE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


def _cookie_header(name: str, value: str, path: str, max_age: int | None, *, secure: bool) -> bytes:
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = path
    morsel["httponly"] = True
    morsel["samesite"] = "Strict"
    if secure:
        morsel["secure"] = True
    if max_age is not None:
        morsel["max-age"] = max_age
    return morsel.OutputString().encode("latin-1")


class PageHeaders:
    """Security headers and pending cookies on every page response."""

    def __init__(self, app: ASGIApp, *, secure_cookies: bool = True) -> None:
        self.app = app
        self.secure_cookies = secure_cookies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PAGE_PREFIXES):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in _PAGE_HEADERS if h[0] not in present)
                headers.extend(self._cookies(state))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _cookies(self, state: dict[str, object]) -> list[tuple[bytes, bytes]]:
        pending = state.get("pending_cookies")
        if not isinstance(pending, PendingCookies):
            return []
        out: list[tuple[bytes, bytes]] = []
        for name, (value, path, max_age) in pending.set.items():
            header = _cookie_header(name, value, path, max_age, secure=self.secure_cookies)
            out.append((b"set-cookie", header))
        for name, path in pending.delete.items():
            if name in pending.set:
                continue
            header = _cookie_header(name, "", path, 0, secure=self.secure_cookies)
            out.append((b"set-cookie", header))
        return out
