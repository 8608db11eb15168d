"""The specialised hot path (generated tables, trace-off evaluation) decides exactly as the
per-cell closures and the traced path do."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from typing import Any

import pytest

from puhui.decision import CompiledStrategy, ModelResult
from puhui.decision.cells import Cell, parse_cell
from puhui.decision.expression import _arith, _arith_closures, parse_expression
from puhui.decision.population import generate_population
from puhui.decision.tables import CompiledRule, CompiledTable, compile_matcher
from puhui.domain.errors import InvalidInput

AS_OF = dt.date(2026, 3, 2)

CELLS = [
    "-",
    "null",
    "not null",
    "< 5",
    "<= 5",
    "> 5",
    ">= 5",
    "== 5",
    "!= 5",
    "[1..5)",
    "[1..5]",
    "(1..5]",
    "(1..5)",
    "[-0.3..0.25)",
    "in {A, B}",
    "not in {A, B}",
    "in {1, 2.5}",
    "A",
    "'A B'",
    "3",
    "true",
    "false",
    "in {true, 1}",
    "not in {false}",
]
VALUES: list[Any] = [None, True, False, 0, 1, 2.5, 5, 5.0, -0.3, 0.25, 1e300, "A", "B", "A B", "C"]


def _table(hit_policy: str, rows: list[dict[str, str]]) -> CompiledTable:
    rules = []
    for r, row in enumerate(rows):
        cells = tuple((name, parse_cell(text)) for name, text in row.items())
        cells = tuple((n, c) for n, c in cells if c.kind != "any")
        rules.append(CompiledRule(f"R{r}", cells, compile_matcher(cells), {"n": r}, f"C{r}"))
    return CompiledTable("t", hit_policy, tuple(rules))  # type: ignore[arg-type]


def _numeric_only(text: str) -> bool:
    cell = parse_cell(text)
    return cell.kind == "interval"


@pytest.mark.parametrize("text", CELLS)
def test_a_generated_cell_test_matches_exactly_what_the_cell_closure_matches(text: str) -> None:
    table = _table("collect", [{"x": text}])
    rule = table.rules[0]
    for value in VALUES:
        if _numeric_only(text) and isinstance(value, str):
            continue  # inputs are type-checked first: a range never sees a string
        env = {"x": value}
        assert (table.collect(env) == [rule]) is rule.matches(env), (text, value)


def test_generated_tables_agree_with_the_closures_for_both_hit_policies_and_the_trace() -> None:
    rows = [
        {"a": "[0..10)", "b": "in {A, B}"},
        {"a": ">= 10", "b": "-"},
        {"a": "null", "b": "not null", "c": "true"},
        {"c": "false", "b": "not in {A}", "a": "< 0"},
        {},
    ]
    numbers: list[Any] = [None, -1, 0, 9.5, 10, 11]
    texts: list[Any] = [None, "A", "B", "C"]
    flags: list[Any] = [None, True, False]
    for hit_policy in ("first", "collect"):
        table = _table(hit_policy, rows)
        for a, b, c in itertools.product(numbers, texts, flags):
            env = {"a": a, "b": b, "c": c}
            hits = [rule for rule in table.rules if rule.matches(env)]
            trace: list[Any] = []
            if hit_policy == "collect":
                assert table.collect(env) == hits
                assert table.collect_traced(env, trace) == hits
                assert trace == [("t", rule, rule.matches(env)) for rule in table.rules]
            else:
                first = hits[0] if hits else None
                assert table.first(env) is first
                assert table.first_traced(env, trace) is first
                stop = table.rules.index(first) + 1 if first else len(table.rules)
                assert trace == [("t", rule, rule.matches(env)) for rule in table.rules[:stop]]


def test_a_cell_value_is_written_into_generated_code_as_data_never_as_code() -> None:
    hostile = "x'); __import__('os').system('false'); ('"
    cell = Cell("set", "hostile", values=frozenset({hostile}))
    rule = CompiledRule("R", (("name\"'", cell),), compile_matcher((("name\"'", cell),)), {}, None)
    table = CompiledTable("t'\"", "collect", (rule,))
    assert table.collect({"name\"'": hostile}) == [rule]
    assert table.collect({"name\"'": "x"}) == []


def _cases(n: int) -> list[tuple[dict[str, Any], ModelResult]]:
    frame = generate_population(n, seed=7)
    return [
        (
            {k: v for k, v in row.items() if k not in ("pd", "score")},
            ModelResult(pd=row["pd"], score=row["score"]),
        )
        for row in frame.to_dicts()
    ]


def test_trace_off_decisions_equal_trace_on_decisions_on_a_population(
    strategy: CompiledStrategy,
) -> None:
    names = {check.name for check in strategy.inputs}
    seen_outcomes = set()
    for row, model in _cases(3000):
        inputs = {k: v for k, v in row.items() if k in names}
        fast = strategy.evaluate(inputs, model, as_of=AS_OF, licence_type="bank")
        traced = strategy.evaluate(inputs, model, as_of=AS_OF, licence_type="bank", trace=True)
        assert fast[:-1] == traced[:-1]
        assert fast.trace == ()
        seen_outcomes.add(fast.outcome)
    assert len(seen_outcomes) == 3


def test_the_lazily_built_limit_and_term_steps_hold_the_full_breakdown(
    strategy: CompiledStrategy, applicant: Any
) -> None:
    inputs = applicant()
    model = ModelResult(pd=0.015, score=640.0)
    decision = strategy.evaluate(inputs, model, as_of=AS_OF, licence_type="bank", trace=True)
    steps = {step.section: step for step in decision.trace}
    caps = strategy.limit_rule.caps({**inputs, "pd": 0.015}, "B")
    assert steps["limit"].output == {
        "caps_fen": caps,
        "step_fen": strategy.limit_rule.step_fen,
        "minimum_fen": strategy.limit_rule.minimum_fen,
        "limit_fen": decision.limit_fen,
    }
    assert steps["limit"].read == {n: inputs.get(n) for n in strategy.limit_rule.reads}
    assert decision.limit_fen == strategy.limit_rule.limit(caps)
    assert steps["term"].read == {"grade": "B", "requested_term_months": 12}
    assert steps["term"].output == {"term_months": decision.term_months}
    (name, expression) = strategy.computed[0]
    assert steps["computed"].output == {name: expression.evaluate(inputs)}
    assert not math.isnan(float(steps["computed"].output[name]))


def test_the_fast_limit_equals_the_limit_of_the_caps_for_every_grade(
    strategy: CompiledStrategy,
) -> None:
    rule = strategy.limit_rule
    for inputs, _ in _cases(500):
        for grade in ("A", "B", "C", "D"):
            assert rule.fast_limit(inputs, grade) == rule.limit(rule.caps(inputs, grade))


@pytest.mark.parametrize(
    "value", [None, True, False, 0, 7, -1, 1.5, -2.0, math.nan, "A", "M", "Z", "", b"A"]
)
def test_the_generated_input_check_refuses_exactly_what_the_slow_path_names(
    strategy: CompiledStrategy, applicant: Any, value: Any
) -> None:
    for check in strategy.inputs:
        inputs = applicant(**{check.name: value})
        named = _slow_problems(strategy, inputs)
        if named:
            with pytest.raises(InvalidInput) as refused:
                strategy.check_inputs(inputs)
            assert refused.value.details["problems"] == named, (check.name, value)
        else:
            strategy.check_inputs(inputs)


def test_a_left_out_optional_input_is_accepted_and_a_left_out_required_one_is_named(
    strategy: CompiledStrategy, applicant: Any
) -> None:
    inputs = applicant()
    del inputs["sales_growth_12m"]
    strategy.check_inputs(inputs)
    del inputs["owner_age_years"]
    with pytest.raises(InvalidInput, match="owner_age_years: required"):
        strategy.check_inputs(inputs)


def _slow_problems(strategy: CompiledStrategy, inputs: dict[str, Any]) -> list[str]:
    try:
        strategy.refuse(inputs)
    except InvalidInput as refused:
        problems: list[str] = refused.details["problems"]
        return problems
    raise AssertionError("_refuse always raises")


def test_generated_arithmetic_equals_the_closures_for_every_operand_kind() -> None:
    operands = {
        "name": parse_expression("a").evaluate,
        "other name": parse_expression("b").evaluate,
        "integer": parse_expression("3").evaluate,
        "zero": parse_expression("0").evaluate,
        "float": parse_expression("2.5").evaluate,
        "expression": parse_expression("abs(a)").evaluate,
        "string": parse_expression("'x'").evaluate,
    }
    values: list[Any] = [None, 0, 1, -4, 2.5, 0.0, True, "s"]
    for op in "+-*/":
        for (_, left), (_, right) in itertools.product(operands.items(), repeat=2):
            fast, reference = _arith(op, left, right), _arith_closures(op, left, right)
            for a, b in itertools.product(values, repeat=2):
                env = {"a": a, "b": b}
                try:
                    expected: Any = reference(env)
                except TypeError as error:
                    expected = type(error)
                try:
                    got: Any = fast(env)
                except TypeError as error:
                    got = type(error)
                assert got == expected, (op, a, b)
                assert type(got) is type(expected), (op, a, b)
