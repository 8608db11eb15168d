"""What every API body shares: strict types for money, counts and dates, and the error body."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic import Strict as PydanticStrict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})"
)


def _iso_date_only(value: object) -> object:
    """A business date is ``YYYY-MM-DD``: no time, no zone, no week or ordinal forms."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("a date is written YYYY-MM-DD")


def _iso_datetime_only(value: object) -> object:
    """A moment is ISO 8601 with its zone (``2026-03-02T09:30:00+08:00``), never a number:
    pydantic alone would read ``0`` or ``0.5`` as seconds since 1970, in UTC."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATETIME.fullmatch(value):
        return value
    raise ValueError("a time is written YYYY-MM-DDTHH:MM:SS with its zone, e.g. +08:00 or Z")


Fen = Annotated[int, PydanticStrict()]
"""An amount in fen: a JSON integer only (``true``, ``"100"`` and ``100.0`` are refused)."""
Count = Annotated[int, PydanticStrict()]
"""A whole number of days, months or items: a JSON integer only."""
Flag = Annotated[bool, PydanticStrict()]
"""``true`` or ``false`` only (not ``1``, ``"yes"``)."""
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
"""A business date, ``YYYY-MM-DD`` only (not ``0``, ``20260302`` or a week date)."""
IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime_only)]
"""A moment, ISO 8601 with its zone only (not a number of seconds)."""


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
