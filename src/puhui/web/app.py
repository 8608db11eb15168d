"""The FastAPI application factory of the open API."""

from __future__ import annotations

from fastapi import FastAPI

import puhui
from puhui.web.dependencies import ApiDependencies
from puhui.web.errors import install_error_handlers
from puhui.web.routes import applications, auth, servicing


def create_app(deps: ApiDependencies) -> FastAPI:
    """Build the app around already-wired services; no work happens at import time."""
    app = FastAPI(
        title=deps.title,
        version=puhui.__version__,
        description=(
            "Puhui (普惠) open API: applications, consent, decisions, offers; credit lines, "
            "draws, repayments, schedules; strategies and models (read)."
        ),
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.deps = deps
    install_error_handlers(app)
    app.include_router(auth.router)
    app.include_router(applications.router)
    if deps.credit is not None:
        app.include_router(servicing.router)

    @app.get("/api/v1/health", tags=["ops"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
