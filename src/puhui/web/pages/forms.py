"""Reading what a page's form or query sent: trimmed text within a length, optional dates."""

from __future__ import annotations

from datetime import date

from starlette.datastructures import FormData

from puhui.domain.errors import InvalidDate, InvalidInput


def form_text(form: FormData, name: str, limit: int) -> str:
    """The trimmed text of field ``name``; longer than ``limit`` is refused, naming the field."""
    value = str(form.get(name, "")).strip()
    if len(value) > limit:
        raise InvalidInput(f"{name} is too long", details={"field": name})
    return value


def optional_day(text: str | None, field: str) -> date | None:
    """A ``YYYY-MM-DD`` date, or None when left empty; anything else is refused."""
    if not text or not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidDate("a date is written YYYY-MM-DD", details={"field": field}) from None


def page_offset(text: str | None) -> int:
    """Where a list's page starts (``?offset=``): anything unreadable is the first page."""
    try:
        value = int(text or "0")
    except ValueError:
        return 0
    return max(0, min(value, 10_000_000))
