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


def _iso_date_only(value: object) -> object:
    """A business date is ``YYYY-MM-DD``: no time, no zone, no week or ordinal forms."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    raise ValueError("a date is written YYYY-MM-DD")


Fen = Annotated[int, PydanticStrict()]
"""An amount in fen: a JSON integer only (``true``, ``"100"`` and ``100.0`` are refused)."""
Count = Annotated[int, PydanticStrict()]
"""A whole number of days, months or items: a JSON integer only."""
Flag = Annotated[bool, PydanticStrict()]
"""``true`` or ``false`` only (not ``1``, ``"yes"``)."""
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]


class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
