"""The web pages: the staff console (``/console/``) and the SMEs' mobile pages (``/h5/``).

Server-rendered Jinja2 over the same services and permissions as the API — no business logic
here — with HTMX for partial updates and ECharts for charts, both served by the app itself
(``make assets`` copies them from the npm lock file into ``static/vendor``). Each page area is a
module with a ``router``, for the console its ``NAV`` entries, and maybe ``ERRORS`` (what its
errors tell a person, by error code) for the users of its ``FACE`` (both faces when it names
none) and ``LOCAL_ERRORS`` (its own wording of other areas' errors, on its pages only);
``AREAS`` lists them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import ModuleType

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from puhui.web.pages import (
    applications,
    branches,
    common,
    dashboard,
    dealers,
    documents,
    green,
    guarantees,
    h5,
    h5_health,
    lines,
    loan_changes,
    monitoring,
    ops,
    outbox,
    partners,
    prospects,
    prosperity,
    risk,
    supply_chain,
    suspense,
)
from puhui.web.pages.middleware import PageHeaders
from puhui.web.pages.nav import NavItem
from puhui.web.pages.session import Face

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
AREAS: tuple[ModuleType, ...] = (
    common,
    dashboard,
    prosperity,
    green,
    applications,
    lines,
    monitoring,
    prospects,
    ops,
    suspense,
    outbox,
    risk,
    branches,
    documents,
    supply_chain,
    dealers,
    partners,
    guarantees,
    loan_changes,
    h5,
    h5_health,
)
"""Every page area; an area adds itself here (``router``, and maybe ``NAV`` and ``ERRORS``)."""


def install_pages(app: FastAPI, *, secure_cookies: bool = True) -> None:
    """Mount the console, the H5 pages, their static files and the API's self-hosted docs."""
    nav: list[NavItem] = []
    messages: dict[str, dict[str, str]] = {face.value: {} for face in Face}
    own: dict[str, dict[str, str]] = {}
    for area in AREAS:
        app.include_router(area.router)
        name = area.__name__.removeprefix("puhui.web.pages.")
        nav.extend(replace(item, area=name) for item in getattr(area, "NAV", ()))
        # On its own pages an area's words come first, its LOCAL_ERRORS included (what it
        # says of another area's error, differently, without changing it elsewhere).
        own[name] = {**getattr(area, "ERRORS", {}), **getattr(area, "LOCAL_ERRORS", {})}
        # An area's error messages speak to its face's users (an owner is told otherwise
        # than a loan officer); an area serving both faces names no FACE.
        faces = [area.FACE] if hasattr(area, "FACE") else list(Face)
        for face in faces:
            messages[face.value].update(getattr(area, "ERRORS", {}))
    app.state.console_nav = tuple(nav)
    app.state.error_messages = messages
    app.state.area_error_messages = own
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.add_middleware(PageHeaders, secure_cookies=secure_cookies)

    @app.get("/api/v1/docs", include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        """Swagger UI from this app's own static files (no CDN)."""
        from puhui.web.pages.rendering import render  # noqa: PLC0415 - template env on use

        return render(request, "common/api_docs.html", {"openapi_url": app.openapi_url})
