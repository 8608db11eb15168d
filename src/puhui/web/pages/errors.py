"""Errors on a page become a page: in the user's language, saying what is wrong and what to do.

The services raise the same errors for the API and the pages; the API answers JSON, a page
answers HTML (``errors.install_error_handlers`` hands a page's errors to ``page_error``). A page
that needs a signed-in user sends the browser to its face's sign-in page instead; an HTMX
request is told to go there with ``HX-Redirect``.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from puhui.domain.errors import InvalidInput, NotFound, PuhuiError
from puhui.web.pages.nav import N_
from puhui.web.pages.rendering import gettext, page_area, render
from puhui.web.pages.session import CsrfRejected, Face, SignInRequired

ERROR_MESSAGES: dict[str, str] = {
    "not_found": N_("We could not find what you asked for. It may have been removed."),
    "forbidden": N_("Your role may not open this page. Ask an administrator if you need it."),
    "csrf_rejected": N_(
        "The form has expired or did not come from this site. Reload the page and try again."
    ),
    "four_eyes_violation": N_(
        "A second person must do this: you cannot approve what you proposed yourself."
    ),
    "grant_reason_invalid": N_(
        "Say why you reject the role grant, in at most 500 characters: the requester and the "
        "auditors read it."
    ),
    "rate_limited": N_("Too many attempts. Wait a few minutes, then try again."),
    "conflict": N_("Someone changed this in the meantime. Reload the page to see the latest."),
    "invalid_input": N_("Some of what you entered is not valid. Check it and try again."),
    "invalid_amount": N_("The amount is not valid. Enter yuan with at most two decimals."),
    "invalid_date": N_("The date is not valid. Use the form YYYY-MM-DD."),
    "invalid_identifier": N_("An identifier is not valid. Check the number and try again."),
    "unauthenticated": N_("Your session has ended. Sign in again."),
    "configuration_error": N_("This part of the platform is not set up. Tell the administrator."),
    "http_404": N_("There is no such page."),
    "not_completed": N_("The request could not be completed. Check it and try again."),
    "internal_error": N_("Something went wrong on our side. Try again in a moment."),
}
"""What each error code tells a person; codes not listed fall back to their kind's message."""


def refusal_status(error: PuhuiError) -> int:
    """The status a form's refusal is shown with: 422 bad input, 404 not found, else 409."""
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, NotFound):
        return 404
    return 409


def is_page(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/console", "/h5"))


def face_of(request: Request) -> Face:
    return Face.H5 if request.url.path.startswith("/h5") else Face.CONSOLE


def user_message(request: Request, code: str, kinds: tuple[str, ...] = ()) -> str:
    """The message of ``code``, else of the first of its kinds (parent errors) that has one.

    The answering area's own words come first (its ``ERRORS`` and ``LOCAL_ERRORS``), then what
    any area of the request's face says of the code (their ``ERRORS``), then the common words.
    """
    by_face: dict[str, dict[str, str]] = getattr(request.app.state, "error_messages", {})
    by_area: dict[str, dict[str, str]] = getattr(request.app.state, "area_error_messages", {})
    answering = page_area(request)
    own = by_area.get(answering, {}) if answering is not None else {}
    areas = by_face.get(face_of(request).value, {})
    for candidate in (code, *kinds):
        if candidate in own:
            return gettext(request, own[candidate])
        if candidate in areas:
            return gettext(request, areas[candidate])
        if candidate in ERROR_MESSAGES:
            return gettext(request, ERROR_MESSAGES[candidate])
    return gettext(request, ERROR_MESSAGES["not_completed"])


def error_text(request: Request, error: PuhuiError) -> str:
    """The sentence a page shows for ``error``: the words of its code, else of its kinds
    (its detail goes beside it, as the service said)."""
    return user_message(request, error.code, _kinds(error))


def _kinds(error: PuhuiError) -> tuple[str, ...]:
    return tuple(
        str(getattr(kind, "code", ""))
        for kind in type(error).__mro__[1:]
        if isinstance(getattr(kind, "code", None), str)
    )


def page_error(request: Request, error: PuhuiError, status: int) -> Response:
    """The page answer to ``error`` (``status`` as the API would answer it)."""
    if isinstance(error, SignInRequired):
        target = f"{error.face.sign_in_path}?next={quote(error.next_path, safe='/')}"
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    if isinstance(error, CsrfRejected):
        status = 403
    return error_page(request, user_message(request, error.code, _kinds(error)), status)


def error_page(request: Request, message: str, status: int) -> Response:
    face = face_of(request)
    return render(
        request,
        "common/error.html",
        {"message": message, "status": status, "face": face.value, "home": face.value + "/"},
        status_code=status,
    )


def page_http_error(request: Request, status: int) -> Response:
    code = "http_404" if status == 404 else "internal_error"
    if status == 405:
        code = "invalid_input"
    return error_page(request, user_message(request, code), status)
