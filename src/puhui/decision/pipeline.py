"""The decision as one ordered list of steps, written once into one function per strategy.

:data:`STEPS` is the order of a decision: computed values → model result → knockouts → fraud →
grade → limit → price → term → referrals → outcome. Each step writes its part of one Python
function (the strategy's tables inlined, each column read once into a local). The lines that
record the trace end with :data:`TRACE_MARK`; the function that runs with the trace off is
the same source with those lines left out, so it pays nothing for tracing and cannot decide
differently: there is one path to validate and to replay (tests compare the two sources and
their decisions).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from puhui.codegen import compile_function, literal
from puhui.decision.document import InputType
from puhui.decision.outcome import Decision, Outcome, Trace, TraceStep
from puhui.decision.pricing import PriceKey
from puhui.decision.tables import CompiledRule, CompiledTable, cell_test

if TYPE_CHECKING:
    from puhui.decision.engine import CompiledStrategy, InputCheck

TRACE_MARK = "  # trace"
"""The end of every line that only records the trace."""
CHECK_MARK = "  # check"
"""The end of every line of the input check (left out where inputs were checked upstream)."""

_PARAMETERS = "env, model, as_of, licence_type, s"
"""``env`` (the inputs: a fresh dict when the function writes into it, see
:attr:`DecisionFunctions.writes_env`), the model result, the pricing date and licence type, and
``s``: the list the trace is recorded into (None when the trace is off)."""

RunDecision = Callable[[Mapping[str, Any], Any, dt.date, str, list[Any] | None], Decision]


class _Writer:
    """Collects the lines of the decision function and the values its names are bound to."""

    def __init__(self, strategy: CompiledStrategy) -> None:
        self.strategy = strategy
        self.lines: list[str] = [f"def decide({_PARAMETERS}):"]
        self.scope: dict[str, Any] = {
            "D": Decision._make,  # namedtuple's constructor from a sequence: one call less
            "TR": Trace,
            "APPROVE": Outcome.APPROVE,
            "DECLINE": Outcome.DECLINE,
            "REFER": Outcome.REFER,
            "V": strategy.version_label,
        }
        self.writes_env = False
        """Whether the function without the trace writes into ``env`` (then it needs a copy)."""
        self.locals: dict[str, str] = {}
        """Env name -> the local holding its value (read once, or set by an earlier step)."""
        self.sections: dict[str, str] = {}
        self.count = 0

    def line(self, text: str, depth: int = 1) -> None:
        self.lines.append("    " * depth + text)

    def trace(self, text: str, depth: int = 1) -> None:
        self.lines.append("    " * depth + text + TRACE_MARK)

    def check(self, text: str, depth: int = 1) -> None:
        self.lines.append("    " * depth + text + CHECK_MARK)

    def bind(self, prefix: str, value: Any) -> str:
        self.count += 1
        name = f"{prefix}{self.count}"
        self.scope[name] = value
        return name

    def local(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def produce(self, env_name: str, local: str, *, read_from_env: bool = False) -> None:
        """A step sets ``env[env_name]`` to ``local``: later steps read the local. Written into
        ``env`` only for the trace's snapshot, unless a later step reads it from ``env`` (a
        computed value another expression uses)."""
        write = f"env[{literal(env_name)}] = {local}"
        if read_from_env:
            self.line(write)
            self.writes_env = True
        else:
            self.trace(write)
        self.locals[env_name] = local

    def read(self, name: str) -> str:
        """The local holding ``env[name]``, read now if no step has read or set it."""
        var = self.locals.get(name)
        if var is None:
            var = self.locals[name] = self.local("c")
            self.line(f"{var} = g({literal(name)})")
        return var

    def load(self, table: CompiledTable) -> None:
        """Read every column of ``table`` not read before (at the top level of the function, so
        that the local exists on every later line)."""
        for rule in table.rules:
            for name, _ in rule.cells:
                self.read(name)

    def test(self, rule: CompiledRule) -> str:
        key = self.local("P")
        tests = [
            f"({cell_test(cell, self.locals[name], self.scope, f'{key}_{k}')})"
            for k, (name, cell) in enumerate(rule.cells)
        ]
        return " and ".join(tests) if tests else "True"

    def rule(self, table: CompiledTable, rule: CompiledRule, depth: int = 1) -> None:
        """``m`` = does the rule match; the trace records ``(section, rule, matched)``."""
        self.line(f"m = {self.test(rule)}", depth)
        section = self.sections.get(table.section)
        if section is None:
            section = self.sections[table.section] = self.bind("S", table.section)
        self.trace(f"a(({section}, {self.bind('R', rule)}, m))", depth)

    def finish(  # noqa: PLR0917
        self,
        outcome: str,
        reasons: str,
        depth: int,
        grade: str = "None",
        limit: str = "0",
        rate: str = "None",
        term: str = "None",
    ) -> None:
        self.trace("t = TR(s, dict(env))", depth)
        self.line(
            f"return D(({outcome}, {limit}, {rate}, {term}, {grade}, pd, score, {reasons}, V, "
            "model.model_versions, t))",
            depth,
        )


def _reasons(codes: str, rules: tuple[CompiledRule, ...]) -> str:
    """The tuple of a list of reason codes; a rule without a reason hit with a None code."""
    if all(rule.reason for rule in rules):
        return f"tuple({codes})"
    return f"tuple([c for c in {codes} if c])"


_CLASS_NAMES = {InputType.INTEGER: "int", InputType.STRING: "str", InputType.BOOLEAN: "bool"}


def input_test(check: InputCheck, var: str, scope: dict[str, Any], key: str) -> str:
    """The fast-path test of one input value: exact classes (``bool`` is not an integer, a
    NumPy scalar is not a number: both go to the slow path, which names the problem)."""
    kind = check.type
    if kind is InputType.NUMBER:
        test = f"({var}.__class__ is int or ({var}.__class__ is float and {var} == {var}))"
    elif kind is InputType.FEN:
        test = f"({var}.__class__ is int and {var} >= 0)"
    else:
        test = f"{var}.__class__ is {_CLASS_NAMES[kind]}"
    if check.allowed is not None:
        scope[key] = check.allowed
        test = f"({test} and {var} in {key})"
    return test if check.required else f"({var} is None or {test})"


# --- the steps, in order ---------------------------------------------------------------------


def _start(w: _Writer) -> None:
    """Every input read once into a local (the check and the tables share them), then checked
    as :meth:`CompiledStrategy.check_inputs` does; a refusal names every problem."""
    w.line("g = env.get")
    w.line("t = ()")
    w.trace("a = s.append")
    tests = []
    for check in w.strategy.inputs:
        var = w.locals[check.name] = w.local("c")
        w.line(f"{var} = g({literal(check.name)})")
        tests.append(input_test(check, var, w.scope, w.local("A")))
    if tests:
        w.check(f"if not ({' and '.join(tests)}):")
        w.check(f"{w.bind('REFUSE', w.strategy.refuse)}(env)", 2)


def _computed(w: _Writer) -> None:
    computed = w.strategy.computed
    for index, (name, expression) in enumerate(computed):
        var = w.local("x")
        w.line(f"{var} = {w.bind('X', expression.evaluate)}(env)")
        later = any(name in other.names for _, other in computed[index + 1 :])
        w.produce(name, var, read_from_env=later)
        w.trace(f"a({w.bind('CS', _computed_entry(name, expression.names))}(env))")


def _model(w: _Writer) -> None:
    w.line("pd = model.pd")
    w.line("score = model.score")
    w.produce("pd", "pd")
    w.produce("score", "score")
    w.line("rr = []")  # reasons to refer, from fraud and referrals


def _knockouts(w: _Writer) -> None:
    table = w.strategy.knockouts
    w.load(table)
    w.line("k = []")
    for rule in table.rules:
        w.rule(table, rule)
        w.line(f"if m: k.append({literal(rule.reason or None)})")
    w.line("if k:")
    w.finish("DECLINE", _reasons("k", table.rules), 2)


def _fraud(w: _Writer) -> None:
    table = w.strategy.fraud
    w.load(table)
    w.line("fd = []")
    declines = []
    for rule in table.rules:
        w.rule(table, rule)
        if rule.then.get("action") == "decline":
            declines.append(rule)
            w.line(f"if m: fd.append({literal(rule.reason or None)})")
        elif rule.reason:
            w.line(f"if m: rr.append({literal(rule.reason)})")
    w.line("if fd:")
    w.finish("DECLINE", _reasons("fd", tuple(declines)), 2)


def _grade(w: _Writer) -> None:
    """The first matching row sets the grade; a declined grade ends the decision there."""
    strategy = w.strategy
    table = strategy.grading
    w.load(table)
    w.line("grade = None")
    for index, rule in enumerate(table.rules):
        depth = 1
        if index:
            w.line("if grade is None:")
            depth = 2
        w.rule(table, rule, depth)
        w.line("if m:", depth)
        grade = str(rule.then["grade"])
        w.line(f"grade = {literal(grade)}", depth + 1)
        if grade in strategy.declined_grades:
            reasons = "model.reasons"
            if rule.reason:
                reasons = f"{literal((rule.reason,))} + model.reasons"
            w.finish("DECLINE", reasons, depth + 1, grade="grade")
    w.line("if grade is None:")
    unmatched = literal(strategy.unmatched_reason)
    w.finish("REFER", f"(*rr, {unmatched})", 2)
    w.produce("grade", "grade")


def _limit(w: _Writer) -> None:
    """:meth:`LimitRule.fast_limit` written out: the lowest cap that applies, rounded down to
    the step; the affordability multiples of the grade come from one dictionary lookup."""
    rule = w.strategy.limit_rule
    w.line(f"lowest = {w.read(rule.requested)}")
    if rule.need is not None:
        need = w.read(rule.need)
        w.line(f"if {need} is not None and {need} < lowest: lowest = {need}")
    if rule.affordability:
        grades = sorted({g for a in rule.affordability for g in a.multiple_by_grade})
        multiples = {
            grade: tuple(
                value
                for a in rule.affordability
                for value in a.multiple_by_grade.get(grade, (None, None))
            )
            for grade in grades
        }
        fractions = ", ".join(f"n{k}, d{k}" for k in range(len(rule.affordability)))
        default = (None, None) * len(rule.affordability)
        w.line(f"{fractions} = {w.bind('MUL', multiples)}.get(grade, {literal(default)})")
    w.line("affordable = 0")
    for k, affordability in enumerate(rule.affordability):
        basis = w.read(affordability.basis)
        w.line(f"if n{k} is not None and {basis} is not None:")
        w.line(f"v = {basis} * n{k} // d{k}", 2)
        w.line("if v > affordable: affordable = v", 2)
    w.line("if affordable < lowest: lowest = affordable")
    w.line(f"if {literal(rule.product_cap_fen)} < lowest: lowest = {literal(rule.product_cap_fen)}")
    if rule.headroom is not None:
        headroom = w.read(rule.headroom)
        w.line(f"if {headroom} is not None and {headroom} < lowest: lowest = {headroom}")
    if rule.cluster_multipliers:
        w.line(f"cm = {w.bind('CM', rule.multiplier)}(env)")
        w.line("if cm is not None: lowest = (lowest if lowest > 0 else 0) * cm[0] // cm[1]")
    below_minimum = literal((rule.below_minimum_reason,))
    if rule.adjustments:
        _limit_adjustments(w)
        below_minimum = f"({literal(rule.below_minimum_reason)}, *lr)"
    step = literal(rule.step_fen)
    w.line(f"limit = (lowest if lowest > 0 else 0) // {step} * {step}")
    w.trace(f"a({w.bind('LS', _limit_entry(rule))}(env, grade, limit))")
    w.line(f"if limit < {literal(rule.minimum_fen)}:")
    w.finish("DECLINE", below_minimum, 2, grade="grade")
    w.produce("limit_fen", "limit")


def _limit_adjustments(w: _Writer) -> None:
    """:meth:`LimitRule.adjustment` written out: every rule tested (and traced), the most
    restrictive hit cuts ``lowest``; its reason goes into ``lr``, the decision's reasons."""
    rule = w.strategy.limit_rule
    table = rule.adjustment_table
    w.load(table)
    w.line("la = None")
    for adjustment in rule.adjustments:
        w.rule(table, adjustment.rule)
        numerator, denominator = adjustment.multiplier
        hit = w.bind("LA", (numerator, denominator, adjustment.reason))
        stricter = f"{literal(numerator)} * la[1] < la[0] * {literal(denominator)}"
        w.line(f"if m and (la is None or {stricter}): la = {hit}")
    w.line("lr = ()")
    w.line("if la is not None:")
    w.line("lowest = (lowest if lowest > 0 else 0) * la[0] // la[1]", 2)
    w.line("lr = (la[2],)", 2)


def _price(w: _Writer) -> None:
    """Without ``pricing.adjustments`` the key is (grade, date, licence type); with them,
    every matching rule's spread delta is summed into a fourth element."""
    strategy = w.strategy
    table = strategy.pricing_adjustments
    if table is None or not table.rules:
        w.line("key = (grade, as_of, licence_type)")
    else:
        w.load(table)
        w.line(f"adj = {w.bind('ZERO', Decimal(0))}")
        for rule, delta in zip(table.rules, strategy.spread_deltas, strict=True):
            w.rule(table, rule)
            w.line(f"if m: adj = adj + {w.bind('AD', delta)}")
        w.line("key = (grade, as_of, licence_type, adj)")
    w.line(f"rate = {w.bind('RC', strategy.cached_rate)}(key)")
    w.line("if rate is None:")
    w.line(f"rate = {w.bind('RATE', strategy.rate)}(key)", 2)
    w.trace(f"a({w.bind('PS', _price_entry(strategy))}(key))")


def _term(w: _Writer) -> None:
    rule = w.strategy.term_rule
    requested = "None" if rule.requested is None else w.read(rule.requested)
    w.line(f"term = {w.bind('TC', rule.cached_term)}((grade, {requested}))")
    w.line("if term is None:")
    w.line(f"term = {w.bind('TERM', rule.term)}(env, grade)", 2)
    reads = ("grade",) if rule.requested is None else ("grade", rule.requested)
    w.trace(f"a({w.bind('TS', _term_entry(reads))}(term))")


def _referrals(w: _Writer) -> None:
    table = w.strategy.referrals
    w.load(table)
    for rule in table.rules:
        w.rule(table, rule)
        if rule.reason:
            w.line(f"if m: rr.append({literal(rule.reason)})")


def _outcome(w: _Writer) -> None:
    w.finish(
        "REFER if rr else APPROVE",
        "(*rr, *lr)" if w.strategy.limit_rule.adjustments else "tuple(rr)",
        1,
        grade="grade",
        limit="limit",
        rate="rate",
        term="term",
    )


STEPS: tuple[tuple[str, Callable[[_Writer], None]], ...] = (
    ("start", _start),
    ("computed", _computed),
    ("model", _model),
    ("knockouts", _knockouts),
    ("fraud", _fraud),
    ("grade", _grade),
    ("limit", _limit),
    ("price", _price),
    ("term", _term),
    ("referrals", _referrals),
    ("outcome", _outcome),
)
"""The order of every decision; each step writes its lines of the decision function."""


# --- trace entries built only when tracing ---------------------------------------------------


class LazyStep:
    """A trace entry whose output is built only when the trace is read (see ``Trace``): the
    read values come from the decision's snapshot through ``columns``, the output from ``make``.
    """

    __slots__ = ("_make", "columns", "id")

    def __init__(self, id: str, columns: tuple[str, ...], make: Callable[[], Any]) -> None:
        self.id = id
        self.columns = columns
        self._make = make

    @property
    def then(self) -> Any:
        return self._make()


def _computed_entry(name: str, reads: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Any]:
    def entry(env: Mapping[str, Any]) -> tuple[str, LazyStep, bool]:
        return ("computed", LazyStep(name, reads, lambda: {name: env[name]}), True)

    return entry


def _limit_entry(rule: Any) -> Callable[[Mapping[str, Any], str, int], Any]:
    """The limit's breakdown: recomputed from the inputs when the trace is read if the limit
    holds (the caps read inputs, which never change once the decision has started), built
    at once when it falls below the minimum."""

    def breakdown(env: Mapping[str, Any], grade: str, limit_fen: int) -> dict[str, Any]:
        found = {
            "caps_fen": rule.caps(env, grade),
            "step_fen": rule.step_fen,
            "minimum_fen": rule.minimum_fen,
            "limit_fen": limit_fen,
        }
        if rule.adjustments:
            hit = rule.adjustment(env, grade)
            found["adjustment"] = (
                None
                if hit is None
                else {
                    "id": hit.rule.id,
                    "multiplier": hit.rule.then["multiplier"],
                    "reason": hit.reason,
                }
            )
        return found

    reads = rule.reads

    def entry(env: Mapping[str, Any], grade: str, limit_fen: int) -> Any:
        if limit_fen >= rule.minimum_fen:
            return (
                "limit",
                LazyStep("limit", reads, lambda: breakdown(env, grade, limit_fen)),
                True,
            )
        read = {name: env.get(name) for name in reads}
        return TraceStep("limit", "limit", read, False, breakdown(env, grade, limit_fen))

    return entry


def _price_entry(strategy: CompiledStrategy) -> Callable[[PriceKey], TraceStep]:
    def entry(key: PriceKey) -> TraceStep:
        grade, as_of, licence_type = key[0], key[1], key[2]
        price = strategy.price(key)
        output = {
            "lpr": price.lpr,
            "spread": price.spread,
            "risk_rate": price.risk_rate,
            "floor": price.floor,
            "cap": price.cap,
            "legal_cap": price.legal_cap,
            "annual_rate": price.annual_rate,
        }
        if len(key) == 4:
            output["adjustment"] = price.adjustment
        return TraceStep(
            "pricing",
            "annual_rate",
            {"grade": grade, "as_of": as_of.isoformat(), "licence_type": licence_type},
            True,
            output,
        )

    return entry


def _term_entry(reads: tuple[str, ...]) -> Callable[[int], Any]:
    def entry(term_months: int) -> tuple[str, LazyStep, bool]:
        return ("term", LazyStep("term_months", reads, lambda: {"term_months": term_months}), True)

    return entry


# --- compiling -------------------------------------------------------------------------------


def _write(strategy: CompiledStrategy) -> _Writer:
    writer = _Writer(strategy)
    for _, step in STEPS:
        step(writer)
    return writer


def write_source(strategy: CompiledStrategy) -> tuple[str, dict[str, Any]]:
    """The traced source of the strategy's decision function and the names it reads."""
    writer = _write(strategy)
    return "\n".join(writer.lines) + "\n", writer.scope


def untraced(source: str, mark: str = TRACE_MARK) -> str:
    """The source with the trace left out: every line ending with ``mark`` dropped."""
    return "".join(
        line for line in source.splitlines(keepends=True) if not line.endswith(mark + "\n")
    )


_ATTRIBUTES = ("pd", "score", "reasons", "model_versions")


@dataclass(frozen=True, slots=True)
class DecisionFunctions:
    """One strategy's decision function compiled from one source, four ways."""

    plain: RunDecision
    traced: RunDecision
    checked: RunDecision
    checked_traced: RunDecision
    writes_env: bool
    """Whether the functions without the trace write into ``env`` (then pass them a copy)."""


def compile_decision(strategy: CompiledStrategy) -> DecisionFunctions:
    """The strategy's decision function from one source: without and with the trace, each
    without and with the input check."""
    writer = _write(strategy)
    source = "\n".join(writer.lines) + "\n"
    unchecked = untraced(source, CHECK_MARK)
    plain, traced, checked, checked_traced = (
        compile_function(
            text, "decide", namespace=writer.scope, attributes=_ATTRIBUTES, label="decision"
        )
        for text in (untraced(unchecked), unchecked, untraced(source), source)
    )
    return DecisionFunctions(plain, traced, checked, checked_traced, writer.writes_env)


__all__ = [
    "CHECK_MARK",
    "STEPS",
    "TRACE_MARK",
    "DecisionFunctions",
    "LazyStep",
    "compile_decision",
    "input_test",
    "untraced",
    "write_source",
]
