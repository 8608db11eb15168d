"""One decision path: the trace-off function is the traced one without its trace lines, and
both decide alike on generated strategies and applicants."""

from __future__ import annotations

import ast
import datetime as dt
from typing import Any

import yaml
from applicant_strategies import applicants
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from puhui.decision import CompiledStrategy, ModelResult, load_strategy
from puhui.decision.engine import TermRule
from puhui.decision.pipeline import CHECK_MARK, STEPS, TRACE_MARK, untraced
from puhui.decision.strategy import shipped_strategy_text
from puhui.domain.errors import InvalidInput

AS_OF = dt.date(2026, 3, 2)
BASE: dict[str, Any] = yaml.safe_load(shipped_strategy_text("mse-online-credit"))


def test_the_steps_of_a_decision_are_in_the_documented_order() -> None:
    assert [name for name, _ in STEPS] == [
        "start",
        "computed",
        "model",
        "knockouts",
        "fraud",
        "grade",
        "limit",
        "price",
        "term",
        "referrals",
        "outcome",
    ]


def _statement(line: str) -> ast.stmt:
    (statement,) = ast.parse(line.strip()).body
    return statement


def test_trace_lines_only_record_so_the_trace_cannot_change_a_decision(
    strategy: CompiledStrategy,
) -> None:
    source = strategy.decision_source
    inputs = {check.name for check in strategy.inputs}
    traced = [line for line in source.splitlines() if line.endswith(TRACE_MARK)]
    assert traced
    for line in traced:
        statement = _statement(line.removesuffix(TRACE_MARK))
        if isinstance(statement, ast.Expr):  # a(...): append one entry to the trace
            call = statement.value
            assert isinstance(call, ast.Call)
            assert isinstance(call.func, ast.Name)
            assert call.func.id == "a"
        else:  # a = s.append, t = TR(s, dict(env)) before a return, or env[...] for the snapshot
            assert isinstance(statement, ast.Assign)
            (target,) = statement.targets
            if isinstance(target, ast.Subscript):
                # A value the engine produces (pd, grade, ...), never an input the steps read.
                assert isinstance(target.value, ast.Name)
                assert target.value.id == "env"
                assert isinstance(target.slice, ast.Constant)
                assert target.slice.value not in inputs
                assert isinstance(statement.value, ast.Name)
                continue
            assert isinstance(target, ast.Name)
            assert target.id in ("a", "t")
    plain = untraced(source).splitlines()
    assert plain == [line for line in source.splitlines() if not line.endswith(TRACE_MARK)]


def _document(draw: st.DrawFn) -> dict[str, Any]:
    """The shipped strategy with its thresholds, cut points and limits drawn at random, and
    some rules left out."""
    doc: dict[str, Any] = yaml.safe_load(yaml.safe_dump(BASE, sort_keys=False))
    doc["version"] = draw(st.integers(min_value=2, max_value=99))
    for section in ("knockouts", "fraud", "referrals"):
        rules = doc[section]["rules"]
        kept = draw(st.lists(st.booleans(), min_size=len(rules), max_size=len(rules)))
        doc[section]["rules"] = [rule for rule, keep in zip(rules, kept, strict=True) if keep]
    for rule in doc["knockouts"]["rules"]:
        if rule["id"] == "KO_AGE_ENTERPRISE":
            rule["when"]["enterprise_age_months"] = f"< {draw(st.integers(0, 60))}"
        if rule["id"] == "KO_TAX_GAP":
            rule["when"]["tax_filing_gap_months"] = f">= {draw(st.integers(1, 12))}"
    for rule in doc["fraud"]["rules"]:
        if rule["id"] == "FR_VELOCITY":
            rule["when"]["applications_30d"] = f">= {draw(st.integers(1, 20))}"
        if rule["id"] == "FR_ROUND_TRIP":
            rule["when"]["invoice_round_trip_ratio"] = f">= {draw(st.sampled_from([0.1, 0.5]))}"
    for rule in doc["referrals"]["rules"]:
        if rule["id"] == "RF_LARGE":
            rule["when"]["limit_fen"] = f">= {draw(st.integers(1_000_000, 300_000_000))}"
        if rule["id"] == "RF_SALES_DROP":
            rule["when"]["sales_growth_12m"] = f"< {draw(st.sampled_from([-0.5, -0.1, 0.2]))}"
    cuts = sorted(draw(st.sets(st.integers(1, 999), min_size=4, max_size=4)))
    bounds = [0.0, *(c / 1000 for c in cuts), 1.0]
    for k, rule in enumerate(doc["grading"]["table"]["rules"]):
        closing = "]" if k == 4 else ")"
        rule["when"] = {"pd": f"[{bounds[k]}..{bounds[k + 1]}{closing}"}
    # A gap in the grade table leaves some applicants ungraded (the unmatched reason).
    if draw(st.booleans()):
        doc["grading"]["table"]["rules"][1]["when"] = {"pd": f"[{bounds[1]}..{bounds[1]}]"}
    doc["limit"]["minimum_yuan"] = str(draw(st.sampled_from([1000, 10000, 200000])))
    doc["limit"]["step_yuan"] = str(draw(st.sampled_from([1, 100, 1000])))
    doc["computed"] = {
        "request_to_annual_sales": draw(
            st.sampled_from(
                [
                    "requested_amount_fen / (verified_monthly_sales_fen * 12)",
                    "requested_amount_fen / max(verified_monthly_sales_fen, 1) / 12",
                    "coalesce(requested_amount_fen / verified_monthly_tax_fen / 40, 0)",
                ]
            )
        )
    }
    if draw(st.booleans()):  # a computed value that reads another from the environment
        doc["computed"]["double_ratio"] = "request_to_annual_sales * 2"
    if draw(st.booleans()):  # limit adjustments: the strictest hit cuts before the step
        doc["limit"]["adjustments"] = [
            {
                "id": "LA_SALES_DROP",
                "when": {"sales_growth_12m": f"< {draw(st.sampled_from([-0.2, 0.0, 0.3]))}"},
                "multiplier": draw(st.sampled_from(["0", "0.5", "0.8", "1"])),
                "reason": "LIMIT_TOO_SMALL",
            },
            {
                "id": "LA_GRADE",
                "when": {
                    "grade": draw(st.sampled_from(["B", "in {C, D}"])),
                    "owner_age_years": "-",
                },
                "multiplier": draw(st.sampled_from(["0.3", "0.7"])),
                "reason": "LIMIT_TOO_SMALL",
            },
        ]
    return doc


def _lendable(a: dict[str, Any]) -> dict[str, Any]:
    """An applicant past every knockout and fraud decline the drawn strategies can hold, with
    evidence of sales: limit, price, term and referrals are reached."""
    return a | {
        "enterprise_age_months": max(a["enterprise_age_months"], 61),
        "owner_age_years": min(max(a["owner_age_years"], 18), 65),
        "tax_grade": "A" if a["tax_grade"] in ("C", "D") else a["tax_grade"],
        "tax_filing_gap_months": None,
        "current_overdue_count": 0,
        "blacklisted": False,
        "industry_restricted": False,
        "abnormal_operation_listed": False,
        "shared_contact_count": min(a["shared_contact_count"] or 0, 4),
        "invoice_round_trip_ratio": 0.0,
        "verified_monthly_sales_fen": a["verified_monthly_sales_fen"] or 30_000_000,
        "requested_amount_fen": max(a["requested_amount_fen"], 30_000_000),
    }


models = st.builds(
    ModelResult,
    pd=st.none() | st.floats(min_value=0, max_value=0.01) | st.floats(min_value=0, max_value=1),
    score=st.none() | st.floats(min_value=300, max_value=900),
    reasons=st.sampled_from([(), ("M_SALES",)]),
)
licences = st.sampled_from(["bank", "microcredit_company", "private_lending"])


@st.composite
def strategies_and_cases(
    draw: st.DrawFn,
) -> tuple[CompiledStrategy, list[tuple[dict[str, Any], ModelResult, str]]]:
    strategy = load_strategy(
        "generated", text=yaml.safe_dump(_document(draw), allow_unicode=True, sort_keys=False)
    )
    people = applicants | applicants.map(_lendable)
    cases = draw(st.lists(st.tuples(people, models, licences), min_size=1, max_size=25))
    return strategy, cases


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies_and_cases())
def test_trace_off_and_traced_decisions_are_equal_on_generated_strategies(
    drawn: tuple[CompiledStrategy, list[tuple[dict[str, Any], ModelResult, str]]],
) -> None:
    strategy, cases = drawn
    for inputs, model, licence in cases:
        given = dict(inputs)
        fast = strategy.evaluate(inputs, model, as_of=AS_OF, licence_type=licence)
        assert inputs == given  # the caller's mapping is never written to
        traced = strategy.evaluate(inputs, model, as_of=AS_OF, licence_type=licence, trace=True)
        unchecked = strategy.evaluate(
            inputs, model, as_of=AS_OF, licence_type=licence, trace=True, check=False
        )
        assert fast._replace(trace=()) == traced._replace(trace=())
        assert unchecked == traced
        if fast.annual_rate is not None:  # the limit written into the decision is the rule's
            rule = strategy.limit_rule
            assert fast.grade is not None
            caps = rule.caps(strategy.features(inputs), fast.grade)
            assert fast.limit_fen == rule.limit(caps) == rule.fast_limit(inputs, fast.grade)
            term = strategy.term_rule
            fresh = TermRule(
                term.requested, term.default_months, term.max_by_grade, term.allowed_months
            )
            assert fast.term_months == fresh.term(inputs, fast.grade)
        assert fast.trace == ()
        assert len(traced.trace) > 0
        sections = [step.section for step in traced.trace]
        # The trace follows the steps: every section appears in one run, in order.
        assert sections == sorted(sections, key=_SECTION_ORDER.index)


_SECTION_ORDER = [
    "computed",
    "knockouts",
    "fraud",
    "grading.table",
    "limit.adjustments",
    "limit",
    "pricing",
    "term",
    "referrals",
]


def _problems(call: Any) -> list[str] | None:
    try:
        call()
    except InvalidInput as refused:
        problems: list[str] = refused.details["problems"]
        return problems
    return None


def test_the_input_check_written_into_the_decision_refuses_as_check_inputs_does(
    strategy: CompiledStrategy, applicant: Any
) -> None:
    model = ModelResult(pd=0.015, score=640.0)
    refusals = 0
    for check in strategy.inputs:
        for value in (None, True, -1, 1.5, float("nan"), "Z", b"A"):
            inputs = applicant(**{check.name: value})
            expected = _problems(lambda inputs=inputs: strategy.check_inputs(inputs))
            refusals += expected is not None
            for trace in (False, True):
                got = _problems(
                    lambda inputs=inputs, trace=trace: strategy.evaluate(
                        inputs, model, as_of=AS_OF, licence_type="bank", trace=trace
                    )
                )
                assert got == expected, (check.name, value, trace)
    assert refusals > len(strategy.inputs)


def test_check_lines_only_refuse(strategy: CompiledStrategy) -> None:
    checks = [s for s in strategy.decision_source.splitlines() if s.endswith(CHECK_MARK)]
    assert len(checks) == 2
    assert checks[0].strip().startswith("if not (")
    call = _statement(checks[1].removesuffix(CHECK_MARK))
    assert isinstance(call, ast.Expr)
    assert isinstance(call.value, ast.Call)
    assert isinstance(call.value.func, ast.Name)
    assert call.value.func.id.startswith("REFUSE")


def test_a_decision_leaves_the_callers_inputs_as_they_were(
    strategy: CompiledStrategy, applicant: Any
) -> None:
    inputs = applicant()
    given = dict(inputs)
    model = ModelResult(pd=0.015, score=640.0)
    for trace in (False, True):
        for check in (False, True):
            decision = strategy.evaluate(
                inputs, model, as_of=AS_OF, licence_type="bank", trace=trace, check=check
            )
            assert inputs == given
            assert decision.limit_fen > 0
