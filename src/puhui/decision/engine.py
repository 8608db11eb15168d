"""The compiled strategy: input checks, limit and term rules, and its one decision function."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from math import isnan
from operator import itemgetter
from typing import Any, NoReturn

from puhui.codegen import compile_function
from puhui.decision.document import InputType, StrategyDocument
from puhui.decision.expression import Expression
from puhui.decision.outcome import Decision, ModelResult, Scorer, Value
from puhui.decision.pipeline import DecisionFunctions, compile_decision, input_test, write_source
from puhui.decision.pricing import PriceBreakdown, PriceKey, Pricing
from puhui.decision.tables import CompiledRule, CompiledTable
from puhui.domain.errors import InvalidInput

RESERVED_NAMES = frozenset({"pd", "score", "grade", "limit_fen"})
_PRICE_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class InputCheck:
    name: str
    type: InputType
    required: bool
    allowed: frozenset[str] | None


_FEN_TYPES: tuple[type, ...] = (int,)
_TYPES: dict[InputType, tuple[type, ...]] = {
    InputType.NUMBER: (int, float),
    InputType.INTEGER: (int,),
    InputType.FEN: _FEN_TYPES,
    InputType.STRING: (str,),
    InputType.BOOLEAN: (bool,),
}


def _type_ok(kind: InputType, value: object) -> bool:
    if kind is InputType.STRING:
        return isinstance(value, str)
    if kind is InputType.BOOLEAN:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind is InputType.NUMBER:
        return isinstance(value, int | float) and not isnan(value)  # NaN is not a number
    if kind is InputType.FEN:
        return isinstance(value, int) and value >= 0
    return isinstance(value, int)


def compile_input_check(checks: tuple[InputCheck, ...]) -> Callable[[tuple[Any, ...]], bool]:
    """One generated function over the tuple of input values: are they all valid?

    Why generated: the values arrive as one tuple (``itemgetter``, in C) and are unpacked into
    locals, so each input costs a class test and at most one comparison, with no call. Only
    local names, indexes and bound sets are written into the source, never a document's text.
    """
    scope: dict[str, Any] = {}
    names = [f"v{k}" for k in range(len(checks))]
    tests = [input_test(check, names[k], scope, f"A{k}") for k, check in enumerate(checks)]
    unpack = f"    ({', '.join(names)},) = values\n" if names else ""
    source = f"def valid(values):\n{unpack}    return {' and '.join(tests) or 'True'}\n"
    valid: Callable[[tuple[Any, ...]], bool] = compile_function(
        source, "valid", namespace=scope, label="input-check"
    )
    return valid


@dataclass(slots=True)
class _CheckPlan:
    """Input checks prepared once per strategy for the fast path of ``check_inputs``."""

    names: tuple[str, ...]
    get_all: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    valid: Callable[[tuple[Any, ...]], bool]

    @classmethod
    def build(cls, checks: tuple[InputCheck, ...]) -> _CheckPlan:
        names = tuple(c.name for c in checks)
        if not names:
            return cls(names, lambda inputs: (), compile_input_check(checks))
        getter = itemgetter(*names)
        return cls(
            names=names,
            get_all=(lambda inputs: (getter(inputs),)) if len(names) == 1 else getter,
            valid=compile_input_check(checks),
        )

    def values(self, inputs: Mapping[str, Any]) -> tuple[Any, ...]:
        try:
            return self.get_all(inputs)
        except KeyError:  # an optional input left out rather than given as None
            return tuple(map(inputs.get, self.names))


@dataclass(frozen=True, slots=True)
class AffordabilityRule:
    basis: str
    multiple_by_grade: Mapping[str, tuple[int, int]]
    """Grade -> the multiple as an exact fraction (numerator, denominator)."""


@dataclass(frozen=True, slots=True)
class LimitAdjustment:
    """A compiled ``limit.adjustments`` rule: its conditions, multiplier and reason."""

    rule: CompiledRule
    multiplier: tuple[int, int]
    """The multiplier as an exact fraction (numerator, denominator)."""

    @property
    def reason(self) -> str:
        return self.rule.reason or ""

    def stricter_than(self, other: LimitAdjustment | None) -> bool:
        if other is None:
            return True
        (n, d), (on, od) = self.multiplier, other.multiplier
        return n * od < on * d


LIMIT_ADJUSTMENTS = "limit.adjustments"
"""The trace section of the limit adjustment rules."""


@dataclass(frozen=True, slots=True)
class LimitRule:
    requested: str
    need: str | None
    headroom: str | None
    affordability: tuple[AffordabilityRule, ...]
    product_cap_fen: int
    step_fen: int
    minimum_fen: int
    below_minimum_reason: str
    cluster_multipliers: tuple[tuple[str, Mapping[str, tuple[int, int]]], ...] = ()
    """(string input naming the applicant's cluster, cluster -> multiplier as a fraction)."""
    adjustments: tuple[LimitAdjustment, ...] = ()
    """Conditional multipliers (``limit.adjustments``); the most restrictive hit applies."""
    _by_grade: dict[str, tuple[tuple[str, int, int], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def reads(self) -> tuple[str, ...]:
        names = [self.requested, *(a.basis for a in self.affordability)]
        names += [n for n in (self.need, self.headroom) if n is not None]
        names += [name for name, _ in self.cluster_multipliers]
        names += [name for a in self.adjustments for name in a.rule.columns]
        return tuple(dict.fromkeys(names))

    @property
    def adjustment_table(self) -> CompiledTable:
        """The adjustment rules as a ``collect`` table (for the trace and the written code)."""
        return CompiledTable(LIMIT_ADJUSTMENTS, "collect", tuple(a.rule for a in self.adjustments))

    def adjustment(self, env: Mapping[str, Any], grade: str) -> LimitAdjustment | None:
        """The most restrictive adjustment whose conditions hold (None: none does); the first
        in document order among equally restrictive ones."""
        if not self.adjustments:
            return None
        seen = env if env.get("grade") == grade else {**env, "grade": grade}
        found: LimitAdjustment | None = None
        for adjustment in self.adjustments:
            if adjustment.stricter_than(found) and adjustment.rule.matches(seen):
                found = adjustment
        return found

    def multiplier(self, env: Mapping[str, Any]) -> tuple[int, int] | None:
        """The strictest cluster multiplier that applies to the applicant (None: none does)."""
        found: tuple[int, int] | None = None
        for name, by_cluster in self.cluster_multipliers:
            value = by_cluster.get(env.get(name))  # type: ignore[arg-type]
            if value is not None and (found is None or value[0] * found[1] < found[0] * value[1]):
                found = value
        return found

    def caps(self, env: Mapping[str, Any], grade: str) -> dict[str, int]:
        """Every cap that applies, in fen; a cap whose input is unknown does not apply."""
        caps: dict[str, int] = {"requested": env[self.requested]}
        if self.need is not None:
            need = env.get(self.need)
            if need is not None:
                caps["need"] = need
        affordable = 0
        for rule in self.affordability:
            basis = env.get(rule.basis)
            multiple = rule.multiple_by_grade.get(grade)
            if basis is not None and multiple is not None:
                # Integer arithmetic, rounded down: affordability never rounds up past evidence.
                affordable = max(affordable, basis * multiple[0] // multiple[1])
        caps["affordability"] = affordable
        caps["product_cap"] = self.product_cap_fen
        if self.headroom is not None:
            headroom = env.get(self.headroom)
            if headroom is not None:
                caps["concentration_headroom"] = headroom
        multiplier = self.multiplier(env)
        if multiplier is not None:
            # The cluster's multiplier cuts whatever the other caps allow (rounded down).
            caps["cluster_limit_multiplier"] = (
                max(min(caps.values()), 0) * multiplier[0] // multiplier[1]
            )
        adjustment = self.adjustment(env, grade)
        if adjustment is not None:
            # After the cluster's multiplier, before rounding to the step (rounded down).
            numerator, denominator = adjustment.multiplier
            caps["limit_adjustment"] = max(min(caps.values()), 0) * numerator // denominator
        return caps

    def fast_limit(self, env: Mapping[str, Any], grade: str) -> int:
        """The same as ``limit(caps(...))`` without building the breakdown (the hot path)."""
        get = env.get
        lowest: int = env[self.requested]
        if self.need is not None:
            need = get(self.need)
            if need is not None and need < lowest:
                lowest = need
        affordable = 0
        # Comparisons rather than min()/max(): a builtin call costs more on this hot path.
        for basis_name, numerator, denominator in self._multiples(grade):
            basis = get(basis_name)
            if basis is not None:
                value = basis * numerator // denominator
                if value > affordable:  # noqa: PLR1730
                    affordable = value
        if affordable < lowest:  # noqa: PLR1730
            lowest = affordable
        if self.product_cap_fen < lowest:  # noqa: PLR1730
            lowest = self.product_cap_fen
        if self.headroom is not None:
            headroom = get(self.headroom)
            if headroom is not None and headroom < lowest:
                lowest = headroom
        if self.cluster_multipliers or self.adjustments:
            lowest = self._cut(lowest, env, grade)
        step = self.step_fen
        return max(lowest, 0) // step * step

    def _cut(self, lowest: int, env: Mapping[str, Any], grade: str) -> int:
        """``lowest`` cut by the cluster multiplier, then by the strictest limit adjustment
        (each rounded down), as :meth:`caps` applies them."""
        multiplier = self.multiplier(env)
        if multiplier is not None:
            lowest = max(lowest, 0) * multiplier[0] // multiplier[1]
        adjustment = self.adjustment(env, grade)
        if adjustment is not None:
            lowest = max(lowest, 0) * adjustment.multiplier[0] // adjustment.multiplier[1]
        return lowest

    def _multiples(self, grade: str) -> tuple[tuple[str, int, int], ...]:
        """(basis, numerator, denominator) of the affordability rules that apply to a grade."""
        found = self._by_grade.get(grade)
        if found is None:
            found = self._by_grade[grade] = tuple(
                (rule.basis, *rule.multiple_by_grade[grade])
                for rule in self.affordability
                if grade in rule.multiple_by_grade
            )
        return found

    def limit(self, caps: Mapping[str, int]) -> int:
        lowest = min(caps.values())
        return max(lowest, 0) // self.step_fen * self.step_fen


@dataclass(frozen=True, slots=True)
class TermRule:
    requested: str | None
    default_months: int
    max_by_grade: Mapping[str, int]
    allowed_months: tuple[int, ...]
    _cache: dict[tuple[str, Any], int] = field(default_factory=dict, compare=False, repr=False)

    def term(self, env: Mapping[str, Any], grade: str) -> int:
        requested = None if self.requested is None else env.get(self.requested)
        key = (grade, requested)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= _PRICE_CACHE_SIZE:
                self._cache.clear()
            found = self._cache[key] = self._term(requested, grade)
        return found

    @property
    def cached_term(self) -> Callable[[tuple[str, Any]], int | None]:
        """The memoised term of (grade, requested months) or None (cleared in place)."""
        return self._cache.get

    def _term(self, requested: Any, grade: str) -> int:
        wanted = self.default_months
        if requested.__class__ is int and requested > 0:
            wanted = requested
        longest = min(wanted, self.max_by_grade[grade])
        fitting = [m for m in self.allowed_months if m <= longest]
        return fitting[-1] if fitting else self.allowed_months[0]


@dataclass(slots=True)
class CompiledStrategy:
    """A strategy compiled once into one decision function (see :mod:`puhui.decision.pipeline`);
    ``evaluate`` never looks at the document."""

    document: StrategyDocument
    content_hash: str
    inputs: tuple[InputCheck, ...]
    computed: tuple[tuple[str, Expression], ...]
    knockouts: CompiledTable
    fraud: CompiledTable
    grading: CompiledTable
    declined_grades: frozenset[str]
    unmatched_reason: str
    limit_rule: LimitRule
    pricing: Pricing
    term_rule: TermRule
    referrals: CompiledTable
    reasons: Mapping[str, tuple[str, str, bool]]
    """Code -> (zh-CN text, en text, adverse)."""
    _price_cache: dict[PriceKey, PriceBreakdown] = field(default_factory=dict)
    _plan: _CheckPlan | None = None
    version_label: str = ""
    _rate_cache: dict[PriceKey, Decimal] = field(default_factory=dict)
    pricing_adjustments: CompiledTable | None = None
    """``pricing.adjustments`` as a collect table (None: the document has none)."""
    spread_deltas: tuple[Decimal, ...] = ()
    """The spread delta of each rule of ``pricing_adjustments``, in order."""
    _decide: DecisionFunctions = field(init=False, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.document.name

    @property
    def version(self) -> str:
        return self.version_label

    def __post_init__(self) -> None:
        self.version_label = f"{self.document.name}@{self.document.version}"
        self._decide = compile_decision(self)

    def check_inputs(self, inputs: Mapping[str, Any]) -> None:
        """Refuse missing required inputs and wrongly typed values, naming all of them.

        The fast path is one generated test over the tuple of values (see
        :func:`compile_input_check`); only when it fails does the slow path look at each input
        and name every problem.
        """
        plan = self._plan
        if plan is None:
            plan = self._plan = _CheckPlan.build(self.inputs)
        if not plan.valid(plan.values(inputs)):
            self.refuse(inputs)

    def refuse(self, inputs: Mapping[str, Any]) -> NoReturn:
        """Raise :class:`InvalidInput` naming every problem of ``inputs`` (the slow path)."""
        problems = []
        for check in self.inputs:
            value = inputs.get(check.name)
            if value is None:
                if check.required:
                    problems.append(f"{check.name}: required")
                continue
            if not _type_ok(check.type, value):
                problems.append(f"{check.name}: expected {check.type.value}, got {value!r}")
            elif check.allowed is not None and value not in check.allowed:
                problems.append(f"{check.name}: {value!r} is not one of {sorted(check.allowed)}")
        raise InvalidInput(
            f"decision inputs refused by {self.version}: " + "; ".join(problems),
            details={"problems": problems},
        )

    def features(self, inputs: Mapping[str, Any]) -> dict[str, Value]:
        """The inputs plus the computed values: what the scorer and the rules read."""
        env: dict[str, Value] = dict(inputs)
        for name, expression in self.computed:
            env[name] = expression.evaluate(env)
        return env

    def decide(
        self,
        inputs: Mapping[str, Any],
        scorer: Scorer,
        *,
        as_of: dt.date,
        licence_type: str,
        trace: bool = False,
    ) -> Decision:
        """Check the inputs, score them, evaluate: the whole online decision."""
        self.check_inputs(inputs)
        env = self.features(inputs)
        model = scorer.score(env)
        if trace:
            return self._decide.traced(env, model, as_of, licence_type, [])
        return self._decide.plain(env, model, as_of, licence_type, None)

    def evaluate(
        self,
        inputs: Mapping[str, Any],
        model: ModelResult,
        *,
        as_of: dt.date,
        licence_type: str,
        trace: bool = False,
        check: bool = True,
    ) -> Decision:
        """Evaluate with a model result already in hand (replay, backtest, benchmarks)."""
        functions = self._decide
        if trace:  # the traced function records a snapshot of env: it works on a copy
            run = functions.checked_traced if check else functions.traced
            return run(dict(inputs), model, as_of, licence_type, [])
        # ``check``: the same function with the input check of ``check_inputs`` written in.
        run = functions.checked if check else functions.plain
        env = dict(inputs) if functions.writes_env else inputs
        return run(env, model, as_of, licence_type, None)

    def price(self, key: PriceKey) -> PriceBreakdown:
        """The price of (grade, date, licence type[, adjustment]), memoised: pricing is a pure
        function."""
        price = self._price_cache.get(key)
        if price is None:
            if len(self._price_cache) >= _PRICE_CACHE_SIZE:
                self._price_cache.clear()
            price = self._price_cache[key] = self.pricing.price(*key)
        return price

    def rate(self, key: PriceKey) -> Decimal:
        """The annual rate of :meth:`price`, memoised on its own (read by every decision)."""
        rate = self.price(key).annual_rate
        if len(self._rate_cache) >= _PRICE_CACHE_SIZE:
            self._rate_cache.clear()
        self._rate_cache[key] = rate
        return rate

    @property
    def cached_rate(self) -> Callable[[PriceKey], Decimal | None]:
        """The memoised rate or None (the cache is cleared in place, never replaced)."""
        return self._rate_cache.get

    @property
    def decision_source(self) -> str:
        """The source of the decision function, trace lines included (for review and tests)."""
        return write_source(self)[0]

    def explain(
        self, decision: Decision, language: str = "zh", model: ModelResult | None = None
    ) -> list[str]:
        """Customer-facing text of a decision's reasons (zh-CN or en).

        Strategy reasons come from the document; model reasons from the model result's texts;
        a code with no text anywhere is shown as the code rather than dropped.
        """
        chinese = language.startswith("zh")
        model_texts = {} if model is None else model.reason_texts
        texts = []
        for code in decision.reasons:
            found = self.reasons.get(code)
            if found is not None:
                texts.append(found[0] if chinese else found[1])
                continue
            model_text = model_texts.get(code)
            if model_text is not None:
                texts.append(model_text[0] if chinese else model_text[1])
            else:
                texts.append(code)
        return texts
