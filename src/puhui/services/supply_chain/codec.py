"""Views to JSON and back: the stored first result an idempotency key replays.

Only the shapes the views use: str, int, bool, None, date, datetime, Decimal, tuples of
those or of views, and mappings of str/int to int.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
from collections import abc
from dataclasses import fields, is_dataclass
from decimal import Decimal
from typing import Any, TypeVar

View = TypeVar("View")


_SCALARS = (str, int, bool, type(None))
_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    """A dataclass's field names (looked up once per class), None for any other type."""
    try:
        return _FIELDS[cls]
    except KeyError:
        names = tuple(f.name for f in fields(cls)) if is_dataclass(cls) else None
        if names is not None:
            _FIELDS[cls] = names
        return names


def _plain(value: Any) -> Any:  # noqa: PLR0911 - one return per shape
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, dt.date):  # a datetime is a date too
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    names = _field_names(type(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    return value


def dumps(view: object) -> str:
    return json.dumps(_plain(view), sort_keys=True, ensure_ascii=False)


_HINTS: dict[str, dict[str, Any]] = {}


def _hints(cls: Any) -> dict[str, Any]:
    name = f"{cls.__module__}.{cls.__qualname__}"
    found = _HINTS.get(name)
    if found is None:
        found = _HINTS[name] = typing.get_type_hints(cls)
    return found


def _build(kind: Any, value: Any) -> Any:  # noqa: PLR0911 - one return per shape
    if value is None:
        return None
    origin = typing.get_origin(kind)
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in typing.get_args(kind) if a is not type(None)]
        return _build(inner[0], value)
    if origin is tuple:
        item = typing.get_args(kind)[0]
        return tuple(_build(item, v) for v in value)
    if origin in (dict, abc.Mapping):
        key_type, value_type = typing.get_args(kind)
        return {_build(key_type, k): _build(value_type, v) for k, v in value.items()}
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if kind is dt.date:
        return dt.date.fromisoformat(value)
    if kind is Decimal:
        return Decimal(value)
    if kind is int:
        return int(value)
    if isinstance(kind, type) and is_dataclass(kind):
        return loads_into(kind, value)
    return value


def loads_into(cls: type[View], data: dict[str, Any]) -> View:
    hints = _hints(cls)
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: _build(hints[k], v) for k, v in data.items() if k in names})


def loads(cls: type[View], text: str) -> View:
    return loads_into(cls, json.loads(text))
