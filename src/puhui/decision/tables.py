"""Compiled decision tables: rows become closures once; ``first`` and ``collect`` hit policies."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

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


@dataclass(frozen=True, slots=True)
class CompiledTable:
    section: str
    hit_policy: Literal["first", "collect"]
    rules: tuple[CompiledRule, ...]
    _matchers: tuple[Matcher, ...] = field(default=(), init=False, repr=False, compare=False)
    _pairs: tuple[tuple[Matcher, CompiledRule], ...] = field(
        default=(), init=False, repr=False, compare=False
    )

    def first(self, env: Env) -> CompiledRule | None:
        for matches, rule in self.pairs:
            if matches(env):
                return rule
        return None

    def collect(self, env: Env) -> list[CompiledRule]:
        return [rule for rule in self.rules if rule.matches(env)]

    @property
    def matchers(self) -> tuple[Matcher, ...]:
        return self._matchers

    @property
    def pairs(self) -> tuple[tuple[Matcher, CompiledRule], ...]:
        return self._pairs

    def __post_init__(self) -> None:
        object.__setattr__(self, "_matchers", tuple(r.matches for r in self.rules))
        object.__setattr__(self, "_pairs", tuple((r.matches, r) for r in self.rules))

    def first_traced(self, env: Env, trace: list[TraceEntry]) -> CompiledRule | None:
        section = self.section
        for rule in self.rules:
            matched = rule.matches(env)
            trace.append((section, rule, matched))
            if matched:
                return rule
        return None

    def collect_traced(self, env: Env, trace: list[TraceEntry]) -> list[CompiledRule]:
        section = self.section
        hits = []
        for rule in self.rules:
            matched = rule.matches(env)
            trace.append((section, rule, matched))
            if matched:
                hits.append(rule)
        return hits
