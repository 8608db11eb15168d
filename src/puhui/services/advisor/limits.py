"""What would raise the enterprise's limit: the strategy's own limit rule, read, not restated.

The limit is the lowest of its caps (the request, the need estimate, affordability = the
highest of each basis times its grade's multiple, the product cap, concentration headroom),
floored to the step (``puhui.decision.engine.LimitRule``). This module evaluates the same
rule on the enterprise's inputs, names the cap that binds, and for each lever computes what
changes: the basis needed to reach the next cap, the limit at a better grade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from puhui.decision.engine import LimitRule

AFFORDABILITY = "affordability"


@dataclass(frozen=True, slots=True)
class Lever:
    """One change that would lift the limit, with its computed effect."""

    kind: str
    """``raise_basis`` (more verified sales or tax), ``better_grade``, ``ask_more`` (the
    request binds), ``need`` (the need estimate binds), ``product_cap`` (nothing lifts it)."""
    basis: str | None = None
    current_fen: int | None = None
    target_fen: int | None = None
    """The basis (monthly, fen) that would make affordability reach ``limit_after_fen``."""
    grade: str | None = None
    limit_after_fen: int | None = None
    multiple: str | None = None
    """How many times the basis counts at the grade (the strategy's multiple, exact)."""


@dataclass(frozen=True, slots=True)
class LimitAnalysis:
    strategy: str
    grade: str | None
    caps: Mapping[str, int]
    binding: str | None
    limit_fen: int | None
    levers: tuple[Lever, ...]
    grades: Mapping[str, int]
    """Affordability at every grade the rule knows, on today's bases (for the table)."""


def _multiple_text(fraction: tuple[int, int]) -> str:
    value = Decimal(fraction[0]) / Decimal(fraction[1])
    return format(value.normalize(), "f")


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _levers(  # noqa: PLR0917 - the analysis' parts
    rule: LimitRule,
    env: Mapping[str, Any],
    grade: str,
    caps: Mapping[str, int],
    binding: str,
    limit: int,
    next_cap: int | None,
    grades: Mapping[str, int],
    grade_order: tuple[str, ...],
) -> list[Lever]:
    lowest = caps[binding]
    levers: list[Lever] = []
    if binding == AFFORDABILITY:
        target_limit = next_cap if next_cap is not None else rule.product_cap_fen
        for item in rule.affordability:
            multiple = item.multiple_by_grade.get(grade)
            if multiple is None:
                continue
            needed = _ceil_div(target_limit * multiple[1], multiple[0])
            levers.append(
                Lever(
                    kind="raise_basis",
                    basis=item.basis,
                    current_fen=env.get(item.basis),
                    target_fen=needed,
                    multiple=_multiple_text(multiple),
                    limit_after_fen=target_limit // rule.step_fen * rule.step_fen,
                )
            )
        better = [g for g in grade_order[: grade_order.index(grade)] if grades[g] > grades[grade]]
        if better:
            g = better[-1]  # the next grade up
            after = rule.limit(rule.caps(env, g))
            if after > limit:
                levers.append(Lever(kind="better_grade", grade=g, limit_after_fen=after))
    elif binding == "requested":
        after = rule.limit({k: v for k, v in caps.items() if k != "requested"})
        levers.append(Lever(kind="ask_more", limit_after_fen=after))
    elif binding == "need":
        levers.append(Lever(kind="need", current_fen=caps["need"]))
    elif binding == "product_cap":
        levers.append(Lever(kind="product_cap", current_fen=rule.product_cap_fen))
    else:
        levers.append(Lever(kind=binding, current_fen=lowest))
    return levers


def analyse_limit(
    rule: LimitRule,
    env: Mapping[str, Any],
    grade: str | None,
    *,
    strategy: str,
    grade_order: tuple[str, ...],
) -> LimitAnalysis:
    """The rule's caps at ``grade`` on ``env``, the binding one, and the levers.

    ``env`` holds the bases the rule reads (``verified_monthly_sales_fen``…), the request
    (the product cap when the owner asked nothing) and the need estimate when one was made.
    Without a grade (no decision yet), only the per-grade table is given.
    """
    env = dict(env)
    if env.get(rule.requested) is None:
        env[rule.requested] = rule.product_cap_fen
    grades: dict[str, int] = {}
    for g in grade_order:
        afford = 0
        for item in rule.affordability:
            basis = env.get(item.basis)
            multiple = item.multiple_by_grade.get(g)
            if basis is not None and multiple is not None:
                afford = max(afford, basis * multiple[0] // multiple[1])
        grades[g] = afford
    if grade is None or grade not in grades:
        return LimitAnalysis(strategy, grade, {}, None, None, (), grades)
    caps = rule.caps(env, grade)
    limit = rule.limit(caps)
    lowest = min(caps.values())
    tied = [name for name, value in caps.items() if value == lowest]
    # A tie with the request is the other cap's: asking more would not lift it.
    binding = next((name for name in tied if name != "requested"), tied[0])
    others = [v for k, v in caps.items() if k != binding and v > lowest]
    next_cap = min(others) if others else None
    levers = _levers(rule, env, grade, caps, binding, limit, next_cap, grades, grade_order)
    return LimitAnalysis(strategy, grade, caps, binding, limit, tuple(levers), grades)
