"""Templates: one Jinja2 environment per language, autoescaped, with the shared formats."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from puhui.web.pages import i18n
from puhui.web.pages.session import csrf_token, page_locale

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


@cache
def environment(locale: str, area: str | None = None) -> Environment:
    """The templates of ``area`` in ``locale``: built once each, never mutated per request."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(locale, area), newstyle=True)  # type: ignore[attr-defined]
    env.filters["yuan"] = i18n.yuan
    env.filters["isodate"] = i18n.iso_date
    env.filters["percent"] = i18n.percent
    env.globals["locale"] = locale
    env.globals["languages"] = i18n.language_choices(locale)
    return env


def page_area(request: Request) -> str | None:
    """The page area whose route answers the request (its module under ``web.pages``)."""
    endpoint = request.scope.get("endpoint")
    module = getattr(endpoint, "__module__", "")
    prefix = "puhui.web.pages."
    return module[len(prefix) :].split(".")[0] if module.startswith(prefix) else None


def gettext(request: Request, message: str, **values: Any) -> str:
    """``message`` in the request's language as the answering area words it (for text a page
    module builds itself)."""
    text: str = i18n.translations(page_locale(request), page_area(request)).gettext(message)
    return text % values if values else text


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` in the request's language with the CSRF token and the request."""
    locale = page_locale(request)
    page = environment(locale, template.split("/", maxsplit=1)[0]).get_template(template)
    body = page.render(
        request=request,
        csrf_token=csrf_token(request),
        path=request.url.path,
        **(context or {}),
    )
    return HTMLResponse(body, status_code=status_code, headers=dict(headers or {}))
