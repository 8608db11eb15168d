"""Decision-table cells: one syntax for ranges, comparisons and sets, compiled to predicates.

=============================  ==================================================
cell                           matches
=============================  ==================================================
``-`` (or an omitted column)   anything, including a missing value
``null`` / ``not null``        a missing value / any present value
``< 5``, ``<= 5``, ``> 5``,    a number compared with the bound
``>= 5``, ``== 5``, ``!= 5``
``[30..50)``                   a number in the interval (``[``/``]`` include the
                               bound, ``(``/``)`` exclude it)
``in {A, B}``                  one of the listed values (names or numbers)
``not in {A, B}``              a present value that is none of them
``A``, ``'A B'``, ``3``,       exactly that value
``true``, ``false``
=============================  ==================================================

A comma is only allowed inside ``{...}``. In GoRules ZEN a comma in a cell means OR, so
``>= 30, < 50`` there matches every number; here such a cell is refused, and the author writes
``[30..50)`` instead. A missing value matches only ``-`` and ``null``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from puhui.decision.errors import InvalidCell

CellValue = float | int | str | bool | None
Predicate = Callable[[Any], bool]
"""Values are typed ``Any`` on the hot path: inputs are type-checked before evaluation."""


class CellError(InvalidCell):
    """A cell does not follow the cell syntax."""


@dataclass(frozen=True, slots=True)
class Cell:
    """A parsed cell: a set of values, represented so that containment can be decided.

    ``kind`` is ``any``, ``null``, ``present``, ``interval`` (numbers between ``low`` and
    ``high``), ``set`` (exactly ``values``) or ``not_set`` (present, none of ``values``).
    """

    kind: Literal["any", "null", "present", "interval", "set", "not_set"]
    source: str
    low: float = -math.inf
    high: float = math.inf
    low_closed: bool = False
    high_closed: bool = False
    values: frozenset[str | float | bool] = frozenset()

    def contains(self, other: Cell) -> bool:  # noqa: PLR0911
        """Whether every value ``other`` matches is also matched by ``self`` (conservative)."""
        if self.kind == "any":
            return True
        if other.kind == "any":
            return False
        if self.kind == "null" or other.kind == "null":
            return self.kind == other.kind
        if self.kind == "present":
            return True
        if other.kind == "present":
            return False
        if self.kind == "interval":
            if other.kind == "interval":
                return _interval_contains(self, other)
            if other.kind == "set":
                return all(_is_number(v) and self.test_number(float(v)) for v in other.values)
            return False
        if self.kind == "set":
            return other.kind == "set" and other.values <= self.values
        # self is not_set
        if other.kind == "set":
            return not (other.values & self.values)
        if other.kind == "not_set":
            return self.values <= other.values
        return all(not (_is_number(v) and other.test_number(float(v))) for v in self.values)

    def test_number(self, x: float) -> bool:
        low_ok = x > self.low or (self.low_closed and x == self.low)
        high_ok = x < self.high or (self.high_closed and x == self.high)
        return low_ok and high_ok

    def predicate(self) -> Predicate:
        """A closure testing one value; built once, called per decision."""
        if self.kind == "any":
            return _always
        if self.kind == "null":
            return _is_none
        if self.kind == "present":
            return _is_present
        if self.kind == "set":
            return _member(self.values)
        if self.kind == "not_set":
            return _not_member(self.values)
        return _interval_predicate(self.low, self.high, self.low_closed, self.high_closed)

    def to_zen(self) -> str:  # noqa: PLR0911
        """The same cell in GoRules ZEN unary syntax (used by the JDM export)."""
        if self.kind == "any":
            return ""
        if self.kind == "null":
            return "$ == null"
        if self.kind == "present":
            return "$ != null"
        if self.kind in ("set", "not_set"):
            items = ", ".join(_zen_literal(v) for v in sorted(self.values, key=_sort_key))
            if self.kind == "not_set":
                # ZEN's `not in [...]` also matches a missing value; ours does not.
                return f"$ != null and not($ in [{items}])"
            if len(self.values) == 1:
                return items
            return f"in [{items}]"
        if math.isinf(self.low) and math.isinf(self.high):
            return "$ != null"
        if math.isinf(self.low):
            return f"{'<=' if self.high_closed else '<'} {_num_text(self.high)}"
        if math.isinf(self.high):
            return f"{'>=' if self.low_closed else '>'} {_num_text(self.low)}"
        return (
            f"{'[' if self.low_closed else '('}{_num_text(self.low)}.."
            f"{_num_text(self.high)}{']' if self.high_closed else ')'}"
        )


def _always(_: CellValue) -> bool:
    return True


def _is_none(value: CellValue) -> bool:
    return value is None


def _is_present(value: CellValue) -> bool:
    return value is not None


def _member(values: frozenset[str | float | bool]) -> Predicate:
    # bool is an int in Python: keep `true` from matching 1 by tagging booleans apart.
    if any(isinstance(v, bool) for v in values):
        return lambda value: value is not None and _tag(value) in {_tag(v) for v in values}
    return lambda value: value in values and not isinstance(value, bool)


def _not_member(values: frozenset[str | float | bool]) -> Predicate:
    positive = _member(values)
    return lambda value: value is not None and not positive(value)


def _tag(value: CellValue) -> tuple[str, CellValue]:
    return ("b", value) if isinstance(value, bool) else ("v", value)


def _interval_predicate(low: float, high: float, low_closed: bool, high_closed: bool) -> Predicate:  # noqa: PLR0911
    # Specialised closures: this is the hot path of every table. Inputs are type-checked
    # before evaluation, so a value here is a number or None (a missing value never matches).
    if math.isinf(low):
        if math.isinf(high):
            return _is_present
        if high_closed:
            return lambda v: v is not None and v <= high
        return lambda v: v is not None and v < high
    if math.isinf(high):
        if low_closed:
            return lambda v: v is not None and v >= low
        return lambda v: v is not None and v > low
    if low_closed and not high_closed:
        return lambda v: v is not None and low <= v < high
    if low_closed and high_closed:
        return lambda v: v is not None and low <= v <= high
    if high_closed:
        return lambda v: v is not None and low < v <= high
    return lambda v: v is not None and low < v < high


def env_matcher(name: str, cell: Cell) -> Callable[[Mapping[str, Any]], bool]:  # noqa: PLR0911, PLR0912
    """A closure testing the cell against ``env[name]``: one call per cell, no indirection."""
    kind = cell.kind
    if kind == "any":
        return lambda env: True
    if kind == "null":
        return lambda env: env.get(name) is None
    if kind == "present":
        return lambda env: env.get(name) is not None
    if kind in ("set", "not_set"):
        predicate = cell.predicate()
        if (
            kind == "set"
            and len(cell.values) == 1
            and not any(isinstance(v, bool) for v in cell.values)
        ):
            (only,) = cell.values
            if isinstance(only, str):
                return lambda env: env.get(name) == only
        if (
            kind == "set"
            and all(isinstance(v, bool) for v in cell.values)
            and len(cell.values) == 1
        ):
            (flag,) = cell.values
            return lambda env: env.get(name) is flag
        return lambda env: predicate(env.get(name))
    low, high, low_closed, high_closed = cell.low, cell.high, cell.low_closed, cell.high_closed
    if math.isinf(low) and math.isinf(high):
        return lambda env: env.get(name) is not None
    if math.isinf(low):
        if high_closed:
            return lambda env: (v := env.get(name)) is not None and v <= high
        return lambda env: (v := env.get(name)) is not None and v < high
    if math.isinf(high):
        if low_closed:
            return lambda env: (v := env.get(name)) is not None and v >= low
        return lambda env: (v := env.get(name)) is not None and v > low
    if low_closed and not high_closed:
        return lambda env: (v := env.get(name)) is not None and low <= v < high
    if low_closed and high_closed:
        return lambda env: (v := env.get(name)) is not None and low <= v <= high
    if high_closed:
        return lambda env: (v := env.get(name)) is not None and low < v <= high
    return lambda env: (v := env.get(name)) is not None and low < v < high


def _interval_contains(outer: Cell, inner: Cell) -> bool:
    low_ok = outer.low < inner.low or (
        outer.low == inner.low and (outer.low_closed or not inner.low_closed)
    )
    high_ok = outer.high > inner.high or (
        outer.high == inner.high and (outer.high_closed or not inner.high_closed)
    )
    return low_ok and high_ok


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _sort_key(value: object) -> tuple[int, str]:
    return (0, f"{value:020.6f}") if _is_number(value) else (1, str(value))


def _num_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _zen_literal(value: str | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    return _num_text(value)


_NUMBER = r"-?\d+(?:\.\d+)?"
_INTERVAL = re.compile(rf"^([\[(])\s*({_NUMBER})\s*\.\.\s*({_NUMBER})\s*([\])])$")
_COMPARISON = re.compile(rf"^(<=|>=|==|!=|<|>)\s*({_NUMBER}|'[^']*'|\"[^\"]*\"|[\w.-]+)$")
_SET = re.compile(r"^(not\s+)?in\s*\{(.*)\}$", re.DOTALL)
_WORD = re.compile(r"^[\w.-]+$")


def _literal(text: str) -> str | float | bool:
    text = text.strip()
    if not text:
        raise CellError("an empty value")
    if text[0] in "'\"":
        if len(text) < 2 or text[-1] != text[0]:
            raise CellError(f"an unterminated quoted value {text!r}")
        return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(_NUMBER, text):
        number = float(text)
        return int(number) if number.is_integer() else number
    if _WORD.match(text):
        return text
    raise CellError(f"{text!r} is not a value (quote it if it has spaces or symbols)")


def parse_cell(source: object) -> Cell:  # noqa: PLR0911, PLR0912
    """Parse one cell; raise :class:`CellError` explaining the syntax when it is wrong."""
    if source is None:
        return Cell("any", "-")
    if isinstance(source, bool):
        return Cell("set", str(source).lower(), values=frozenset({source}))
    if isinstance(source, int | float):
        value = int(source) if float(source).is_integer() else float(source)
        return Cell("set", str(source), values=frozenset({value}))
    if not isinstance(source, str):
        raise CellError(f"a cell must be text or a number, got {type(source).__name__}")
    text = source.strip()
    if text in ("", "-"):
        return Cell("any", "-")
    if text == "null":
        return Cell("null", text)
    if text == "not null":
        return Cell("present", text)
    set_match = _SET.match(text)
    if set_match:
        body = set_match.group(2).strip()
        if not body:
            raise CellError("an empty set {} matches nothing")
        values = frozenset(_literal(part) for part in _split_items(body))
        kind: Literal["set", "not_set"] = "not_set" if set_match.group(1) else "set"
        return Cell(kind, text, values=values)
    if "," in text:
        raise CellError(
            f"{text!r}: a comma is only allowed inside a set; write `in {{a, b}}` for "
            "alternatives or `[low..high)` for a range (a comma never means OR or AND here)"
        )
    interval = _INTERVAL.match(text)
    if interval:
        low, high = float(interval.group(2)), float(interval.group(3))
        if low > high:
            raise CellError(f"{text!r}: the lower bound is above the upper bound")
        cell = Cell(
            "interval",
            text,
            low=low,
            high=high,
            low_closed=interval.group(1) == "[",
            high_closed=interval.group(4) == "]",
        )
        if low == high and not (cell.low_closed and cell.high_closed):
            raise CellError(f"{text!r}: the interval is empty")
        return cell
    comparison = _COMPARISON.match(text)
    if comparison:
        op, operand = comparison.group(1), _literal(comparison.group(2))
        if op in ("==", "!="):
            kind = "set" if op == "==" else "not_set"
            return Cell(kind, text, values=frozenset({operand}))
        if not _is_number(operand):
            raise CellError(f"{text!r}: {op} needs a number")
        bound = float(operand)
        if op == "<":
            return Cell("interval", text, high=bound)
        if op == "<=":
            return Cell("interval", text, high=bound, high_closed=True)
        if op == ">":
            return Cell("interval", text, low=bound)
        return Cell("interval", text, low=bound, low_closed=True)
    if text.startswith(("[", "(")) or ".." in text:
        raise CellError(f"{text!r}: a range is written `[low..high)` with numeric bounds")
    try:
        literal = _literal(text)
    except CellError as exc:
        raise CellError(
            f"{text!r} is not a cell: use -, null, not null, a comparison (>= 5), "
            f"a range ([1..5)), a set (in {{A, B}}) or a single value ({exc})"
        ) from None
    return Cell("set", text, values=frozenset({literal}))


def _split_items(body: str) -> list[str]:
    items: list[str] = []
    current = ""
    quote = ""
    for char in body:
        if quote:
            current += char
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
            current += char
        elif char == ",":
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    return items
