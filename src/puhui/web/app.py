"""The FastAPI application factory of the open API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

import puhui
from puhui.services.origination.graph_check import NOT_CONFIGURED
from puhui.web.dependencies import (
    API_KEY_SCHEME,
    BEARER_SCHEME,
    SECURITY_SCHEMES,
    ApiDependencies,
    get_principal,
)
from puhui.web.errors import install_error_handlers
from puhui.web.limits import BodyLimit
from puhui.web.neighbourhoods import install_graph_cache
from puhui.web.pages import install_pages
from puhui.web.routes import (
    admin,
    advisor,
    applications,
    auth,
    collections,
    dealers,
    guarantees,
    loan_changes,
    monitoring,
    partners,
    prospects,
    prosperity,
    reports,
    servicing,
    supply_chain,
    suspense,
)


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
        docs_url=None,  # served by the pages from the app's own files (no CDN)
        redoc_url=None,
    )
    app.state.deps = deps
    install_graph_cache(app)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=deps.max_body_bytes)
    # Routes are matched in order, one regular expression each: the open API's three hot
    # calls (create, consent, decide) come first instead of after auth's and admin's 17.
    routers = [applications.router, auth.router, admin.router]
    if deps.credit is not None:
        routers.append(servicing.router)
        routers.append(suspense.router)
        routers.append(dealers.router)
    if deps.post_loan is not None:
        routers.append(collections.router)
    if deps.monitoring is not None:
        routers.append(monitoring.router)
    if deps.reports is not None:
        routers.append(reports.router)
    if deps.prospects is not None:
        routers.append(prospects.router)
    if deps.supply_chain is not None:
        routers.append(supply_chain.router)
    if deps.partners is not None:
        routers.append(partners.router)
    if deps.guarantees is not None:
        routers.append(guarantees.router)
    if deps.loan_changes is not None:
        routers.append(loan_changes.router)
    if deps.prosperity is not None:
        routers.append(prosperity.router)
    if deps.advisor is not None:
        routers.append(advisor.router)
    for router in routers:
        app.include_router(router)

    @app.get("/api/v1/health", tags=["ops"])
    def health() -> dict[str, Any]:
        """Liveness, and whether the relationship graph serves (ok / stale / missing /
        loading): a graph that does not serve leaves the decisions without its evidence.
        It reports what serves, never loads (a load takes seconds): a plain ``def``, so the
        little it does runs in the thread pool, not on the event loop."""
        origination = deps.origination
        if origination.graph is None:
            graph = NOT_CONFIGURED.health
        else:
            graph = origination.graph.health(origination.clock.today())
        return {"status": "ok", "graph": graph.to_dict()}

    install_security_schemes(app, routers)
    install_pages(app, secure_cookies=deps.secure_cookies)
    return app


UNREADABLE_BODY = {
    "description": "The body could not be read (not UTF-8 JSON)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


def _needs_principal(dependant: Dependant) -> bool:
    return any(d.call is get_principal or _needs_principal(d) for d in dependant.dependencies)


def install_security_schemes(app: FastAPI, routers: list[APIRouter]) -> None:
    """Publish how to authenticate: the schemes, and on every operation that needs a caller."""
    secured = {
        (method.lower(), route.path)
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and _needs_principal(route.dependant)
        for method in route.methods or ()
    }
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if (method, path) in secured:
                    operation["security"] = [{BEARER_SCHEME: []}, {API_KEY_SCHEME: []}]
                if "requestBody" in operation:
                    operation["responses"].setdefault("400", UNREADABLE_BODY)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
