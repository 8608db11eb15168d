"""Compiled decision tables: each table becomes one generated function; ``first``/``collect``."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from puhui.codegen import compile_functions, literal
from puhui.decision.cells import Cell, env_matcher
from puhui.decision.outcome import TracedRule, TraceStep, Value

Env = Mapping[str, Value]
Matcher = Callable[[Env], bool]
TraceEntry = TraceStep | tuple[str, TracedRule, bool]


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: str
    cells: tuple[tuple[str, Cell], ...]
    """The constraining cells (``-`` cells are dropped: they read nothing)."""
    matches: Matcher
    then: Mapping[str, str | int | float | bool]
    reason: str | None

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.cells)


def compile_matcher(cells: tuple[tuple[str, Cell], ...]) -> Matcher:
    """One closure per row, specialised by arity so that the common rows avoid a loop."""
    matchers = tuple(env_matcher(name, cell) for name, cell in cells)
    if not matchers:
        return lambda env: True
    if len(matchers) == 1:
        return matchers[0]
    if len(matchers) == 2:
        m0, m1 = matchers
        return lambda env: m0(env) and m1(env)
    if len(matchers) == 3:
        m0, m1, m2 = matchers
        return lambda env: m0(env) and m1(env) and m2(env)

    def match_all(env: Env) -> bool:
        return all(matcher(env) for matcher in matchers)

    return match_all


Collector = Callable[[Env], list[CompiledRule]]
Finder = Callable[[Env], CompiledRule | None]
TracedCollector = Callable[[Env, list[TraceEntry]], list[CompiledRule]]
TracedFinder = Callable[[Env, list[TraceEntry]], CompiledRule | None]


def cell_test(cell: Cell, var: str, scope: dict[str, Any], key: str) -> str:  # noqa: PLR0911
    """A Python expression over the local ``var`` with exactly the cell's semantics.

    Only numbers and strings from the parsed cell are written into the source, through
    :func:`puhui.codegen.literal`; names are never written (columns are read by the caller
    through the literal of the name), so the document cannot inject code. Sets other than a
    single string or flag call the cell's own predicate, bound in ``scope`` as ``key``.
    """
    kind = cell.kind
    if kind == "any":
        return "True"
    if kind == "null":
        return f"{var} is None"
    if kind == "present":
        return f"{var} is not None"
    if kind in ("set", "not_set"):
        if kind == "set" and len(cell.values) == 1:
            (only,) = cell.values
            if isinstance(only, bool):
                return f"{var} is {literal(only)}"
            if isinstance(only, str):
                return f"{var} == {literal(only)}"
        if all(value.__class__ is str for value in cell.values):
            # A set of text: ``in`` is the whole test (a flag or a number is never equal to text).
            scope[key] = frozenset(cell.values)
            if kind == "set":
                return f"{var} in {key}"
            return f"{var} is not None and {var} not in {key}"
        scope[key] = cell.predicate()
        return f"{key}({var})"
    low, high = float(cell.low), float(cell.high)
    if math.isinf(low) and math.isinf(high):
        return f"{var} is not None"
    present = f"{var} is not None and "
    if math.isinf(low):
        return present + f"{var} {'<=' if cell.high_closed else '<'} {literal(high)}"
    if math.isinf(high):
        return present + f"{var} {'>=' if cell.low_closed else '>'} {literal(low)}"
    low_op = "<=" if cell.low_closed else "<"
    high_op = "<=" if cell.high_closed else "<"
    return present + f"{literal(low)} {low_op} {var} {high_op} {literal(high)}"


def _rule_test(rule: CompiledRule, columns: dict[str, str], scope: dict[str, Any], r: int) -> str:
    tests = [
        f"({cell_test(cell, columns[name], scope, f'P{r}_{k}')})"
        for k, (name, cell) in enumerate(rule.cells)
    ]
    return " and ".join(tests) if tests else "True"


def _generate(
    rules: tuple[CompiledRule, ...], hit_policy: str, section: str
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The table as two generated functions, plain and traced.

    Why generate: a closure per cell costs a Python call and a dict lookup per cell per
    decision; one function reads each column once into a local and tests inline. The traced
    function records ``(section, rule, matched)`` exactly like the closures did.
    """
    scope: dict[str, Any] = {"S": section}
    columns: dict[str, str] = {}
    for rule in rules:
        for name, _ in rule.cells:
            columns.setdefault(name, f"c{len(columns)}")
    loads = [f"    {var} = g({literal(name)})" for name, var in columns.items()]
    plain = ["def plain(env):", "    g = env.get", *loads]
    traced = ["def traced(env, trace):", "    g = env.get", "    a = trace.append", *loads]
    if hit_policy == "collect":
        plain.append("    hits = []")
        traced.append("    hits = []")
    for r, rule in enumerate(rules):
        scope[f"R{r}"] = rule
        test = _rule_test(rule, columns, scope, r)
        if hit_policy == "first":
            plain.append(f"    if {test}: return R{r}")
            traced += [f"    m = {test}", f"    a((S, R{r}, m))", f"    if m: return R{r}"]
        else:
            plain.append(f"    if {test}: hits.append(R{r})")
            traced += [f"    m = {test}", f"    a((S, R{r}, m))", f"    if m: hits.append(R{r})"]
    ending = "    return None" if hit_policy == "first" else "    return hits"
    source = "\n".join([*plain, ending, *traced, ending]) + "\n"
    plain_function, traced_function = compile_functions(
        source, ("plain", "traced"), namespace=scope, label="table"
    )
    return plain_function, traced_function


@dataclass(frozen=True, slots=True)
class CompiledTable:
    section: str
    hit_policy: Literal["first", "collect"]
    rules: tuple[CompiledRule, ...]
    _matchers: tuple[Matcher, ...] = field(default=(), init=False, repr=False, compare=False)
    _pairs: tuple[tuple[Matcher, CompiledRule], ...] = field(
        default=(), init=False, repr=False, compare=False
    )
    _plain: Callable[..., Any] = field(default=None, init=False, repr=False, compare=False)  # type: ignore[assignment]
    _traced: Callable[..., Any] = field(default=None, init=False, repr=False, compare=False)  # type: ignore[assignment]

    def first(self, env: Env) -> CompiledRule | None:
        """The first matching rule (``first`` tables)."""
        found: CompiledRule | None = self._plain(env)
        return found

    def collect(self, env: Env) -> list[CompiledRule]:
        """Every matching rule, in order (``collect`` tables)."""
        hits: list[CompiledRule] = self._plain(env)
        return hits

    @property
    def matchers(self) -> tuple[Matcher, ...]:
        return self._matchers

    @property
    def pairs(self) -> tuple[tuple[Matcher, CompiledRule], ...]:
        return self._pairs

    @property
    def evaluate(self) -> Callable[[Env], Any]:
        """The generated function of the table's hit policy: a rule or None for ``first``, the
        list of hits for ``collect`` (the engine calls it directly: one call less)."""
        return self._plain

    @property
    def evaluate_traced(self) -> Callable[[Env, list[TraceEntry]], Any]:
        return self._traced

    def __post_init__(self) -> None:
        object.__setattr__(self, "_matchers", tuple(r.matches for r in self.rules))
        object.__setattr__(self, "_pairs", tuple((r.matches, r) for r in self.rules))
        plain, traced = _generate(self.rules, self.hit_policy, self.section)
        object.__setattr__(self, "_plain", plain)
        object.__setattr__(self, "_traced", traced)

    def first_traced(self, env: Env, trace: list[TraceEntry]) -> CompiledRule | None:
        found: CompiledRule | None = self._traced(env, trace)
        return found

    def collect_traced(self, env: Env, trace: list[TraceEntry]) -> list[CompiledRule]:
        hits: list[CompiledRule] = self._traced(env, trace)
        return hits
