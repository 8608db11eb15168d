"""The one place where errors become HTTP: ``{code, message, details}`` with the right status."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from puhui.domain.errors import ConfigurationError, Conflict, InvalidInput, NotFound, PuhuiError
from puhui.domain.monitoring import OutcomeNotPermitted
from puhui.domain.origination.errors import (
    Forbidden,
    FourEyesViolation,
    RateLimited,
    Unauthenticated,
)
from puhui.domain.supply_chain import NotHolder
from puhui.web.pages import errors as pages

logger = logging.getLogger(__name__)

_STATUS: tuple[tuple[type[PuhuiError], int], ...] = (
    # A Conflict in the domain (only the holder acts on a voucher); the caller may not.
    (NotHolder, 403),
    (InvalidInput, 422),
    (NotFound, 404),
    (Conflict, 409),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (FourEyesViolation, 403),
    (OutcomeNotPermitted, 403),
    (RateLimited, 429),
    (ConfigurationError, 503),
)


def status_of(error: PuhuiError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or {}}


def _headers(error: PuhuiError) -> dict[str, str]:
    if isinstance(error, Unauthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, RateLimited):
        return {"Retry-After": str(error.details.get("retry_after_seconds", 60))}
    return {}


def _validation_details(exc: RequestValidationError) -> dict[str, Any]:
    # The offending input is dropped: it may be an ID number or a phone.
    return {
        "errors": [
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
    }


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the API documents for a concrete path (for ``Allow`` on a 405)."""
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        app.state, "allowed_methods", None
    )
    if table is None:
        table = []
        for template, item in app.openapi().get("paths", {}).items():
            literal = [re.escape(part) for part in re.split(r"\{[^{}/]+\}", template)]
            table.append(
                (re.compile("^" + "[^/]+".join(literal) + "$"), frozenset(m.upper() for m in item))
            )
        app.state.allowed_methods = table
    return sorted({m for pattern, methods in table if pattern.match(path) for m in methods})


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(PuhuiError)
    async def _puhui(request: Request, exc: PuhuiError) -> Response:
        status = status_of(exc)
        if status >= 500:
            logger.error("platform error %s: %s", exc.code, exc.message)
        if pages.is_page(request):
            return pages.page_error(request, exc, status)
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details),
            status_code=status,
            headers=_headers(exc),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if pages.is_page(request):
            return pages.page_error(request, InvalidInput("the request is not valid"), 422)
        return JSONResponse(
            error_body("validation_error", "the request is not valid", _validation_details(exc)),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if pages.is_page(request):
            return pages.page_http_error(request, exc.status_code)
        codes = {
            400: "malformed_request",
            401: "unauthenticated",
            404: "not_found",
            405: "method_not_allowed",
        }
        message = str(exc.detail)
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 400:
            message = "the request body could not be read: send UTF-8 JSON"
        if exc.status_code == 405:
            # Starlette names only the methods of the first route on the path it tried.
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.url.path))
        return JSONResponse(
            error_body(codes.get(exc.status_code, "http_error"), message),
            status_code=exc.status_code,
            headers=headers or None,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unexpected error: %s", type(exc).__name__)
        if pages.is_page(request):
            return pages.page_http_error(request, 500)
        return JSONResponse(
            error_body("internal_error", "an unexpected error occurred"), status_code=500
        )
