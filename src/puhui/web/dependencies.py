"""What routes need: the wired services (built by bootstrap), the caller's principal, aliases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, ParamSpec, TypeVar

import anyio.to_thread
from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool

from puhui.bootstrap.api import ApiDependencies
from puhui.domain.origination.errors import Unauthenticated
from puhui.services.security import network
from puhui.services.security.accounts import authenticate_api_key, authenticate_token
from puhui.services.security.permissions import Principal

__all__ = [
    "API_KEY_HEADER",
    "API_KEY_SCHEME",
    "BEARER_SCHEME",
    "SECURITY_SCHEMES",
    "TOKEN_URL",
    "ApiDependencies",
    "CurrentPrincipal",
    "Deps",
    "bearer_token",
    "call",
    "client_address",
    "get_deps",
    "get_principal",
]

P = ParamSpec("P")
T = TypeVar("T")


async def call(
    deps: ApiDependencies, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """Call a (blocking) service function the way ``deps`` says: inline or in a thread."""
    if deps.run_inline:
        return fn(*args, **kwargs)
    if deps.handler_threads is not None:
        # This event loop's threadpool (anyio's default limiter, one per loop).
        limiter = anyio.to_thread.current_default_thread_limiter()
        if limiter.total_tokens != deps.handler_threads:
            limiter.total_tokens = deps.handler_threads
    return await run_in_threadpool(fn, *args, **kwargs)


async def get_deps(request: Request) -> ApiDependencies:
    # async: FastAPI runs a plain `def` dependency in its threadpool, a thread hand-off on
    # every request for one attribute read.
    deps: ApiDependencies = request.app.state.deps
    return deps


Deps = Annotated[ApiDependencies, Depends(get_deps)]

BEARER_SCHEME = "OAuth2PasswordBearer"
API_KEY_SCHEME = "APIKeyHeader"
API_KEY_HEADER = "X-API-Key"
TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 - the login endpoint, not a secret
SECURITY_SCHEMES = {
    BEARER_SCHEME: {"type": "oauth2", "flows": {"password": {"tokenUrl": TOKEN_URL}}},
    API_KEY_SCHEME: {"type": "apiKey", "in": "header", "name": API_KEY_HEADER},
}
"""Published in the OpenAPI document (``app.install_security_schemes``), not resolved as
dependencies: FastAPI's dependency solving cost more per request than the JWT check, so the
principal reads its two headers itself."""


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def get_principal(request: Request) -> Principal:
    deps: ApiDependencies = request.app.state.deps
    api_key = request.headers.get(API_KEY_HEADER)
    if api_key:
        return await call(deps, authenticate_api_key, deps.security, api_key)
    token = bearer_token(request)
    if token:
        # A JWT check is a few microseconds of HMAC: never worth a thread.
        return authenticate_token(deps.security, token)
    raise Unauthenticated("sign in: a bearer token or an X-API-Key header is required")


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def client_address(request: Request) -> str:
    """The caller's address: ``X-Forwarded-For`` counts only when the peer is a trusted proxy."""
    peer = request.client.host if request.client is not None else "unknown"
    deps: ApiDependencies = request.app.state.deps
    return network.client_address(
        peer, request.headers.get("x-forwarded-for"), deps.security.config.trusted_proxies
    )


IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=64,
        pattern=r"^[\x21-\x7e]+$",
        description="required: retrying with the same key and body returns the first result; "
        "the same key with another body is 409 idempotency_conflict",
    ),
]
"""The header every write that may be retried takes (one definition for every router)."""
