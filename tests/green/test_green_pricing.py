"""``pricing.adjustments``: a rule-based spread adjustment (the green-loan discount) on both
decision paths, within the floor and the caps, and refused when malformed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import yaml

from puhui.decision import CompiledStrategy, ModelResult, load_shipped_strategy
from puhui.decision.strategy import (
    StrategyInvalid,
    content_hash,
    dump_document,
    load_strategy,
    parse_document,
    shipped_strategy_text,
)

AS_OF = dt.date(2026, 3, 2)
GRADE_B = ModelResult(pd=0.015, score=640.0, reasons=(), model_versions={"m": "1"})
GRADE_A = ModelResult(pd=0.005, score=700.0, reasons=(), model_versions={"m": "1"})

APPLICANT: dict[str, Any] = {
    "requested_amount_fen": 50_000_000,
    "requested_term_months": 12,
    "verified_monthly_sales_fen": 30_000_000,
    "verified_monthly_tax_fen": 900_000,
    "enterprise_age_months": 40,
    "owner_age_years": 45,
    "tax_grade": "B",
    "sales_growth_12m": 0.1,
    "overdue_count_24m": 0,
    "current_overdue_count": 0,
    "court_cases_open": 0,
    "blacklisted": False,
    "industry_restricted": False,
    "abnormal_operation_listed": False,
    "shared_contact_count": 0,
    "applications_30d": 1,
    "invoice_round_trip_ratio": 0.01,
}


def _data(adjustments: list[dict[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(shipped_strategy_text("mse-online-credit"))
    data["version"] = 2
    data["inputs"]["green_label_input"] = {
        "type": "string",
        "allowed": ["green", "not_green", "excluded_penalty"],
    }
    data["inputs"]["green_category_input"] = {"type": "string"}
    data["pricing"]["adjustments"] = adjustments
    return data


def _strategy(adjustments: list[dict[str, Any]]) -> CompiledStrategy:
    return load_strategy("v2", text=yaml.safe_dump(_data(adjustments), allow_unicode=True))


GREEN = [
    {
        "id": "GREEN_DISCOUNT",
        "description": "绿色贷款优惠",
        "when": {"green_label_input": "green"},
        "spread_delta": "-0.0030",
    },
    {
        "id": "CLEAN_ENERGY_EXTRA",
        "when": {"green_label_input": "green", "green_category_input": "clean_energy"},
        "spread_delta": "-0.0010",
    },
]


def _rate(strategy: CompiledStrategy, model: ModelResult, trace: bool, **extra: Any) -> Any:
    return strategy.evaluate(
        {**APPLICANT, **extra}, model, as_of=AS_OF, licence_type="bank", trace=trace
    )


@pytest.mark.parametrize("trace", [False, True])
def test_matching_adjustments_add_up_on_both_paths(trace: bool) -> None:
    base = _rate(load_shipped_strategy("mse-online-credit"), GRADE_B, trace)
    green = _strategy(GREEN)
    plain = _rate(green, GRADE_B, trace)
    assert plain.annual_rate == base.annual_rate
    labelled = _rate(green, GRADE_B, trace, green_label_input="green")
    assert labelled.annual_rate == base.annual_rate - Decimal("0.0030")
    both = _rate(
        green, GRADE_B, trace, green_label_input="green", green_category_input="clean_energy"
    )
    assert both.annual_rate == base.annual_rate - Decimal("0.0040")
    excluded = _rate(green, GRADE_B, trace, green_label_input="excluded_penalty")
    assert excluded.annual_rate == base.annual_rate


def test_the_floor_still_binds_after_a_discount() -> None:
    # Grade A: LPR + 0.5% sits near the 3% floor; a large discount cannot go below it.
    strategy = _strategy(
        [{"id": "BIG", "when": {"green_label_input": "green"}, "spread_delta": "-0.05"}]
    )
    decision = _rate(strategy, GRADE_A, False, green_label_input="green")
    assert decision.annual_rate == Decimal("0.0300")


def test_the_trace_shows_the_adjustment_rules_and_the_sum() -> None:
    decision = _rate(_strategy(GREEN), GRADE_B, True, green_label_input="green")
    steps = decision.trace or ()
    matched = {
        step.rule_id: step.matched for step in steps if step.section == "pricing.adjustments"
    }
    assert matched == {"GREEN_DISCOUNT": True, "CLEAN_ENERGY_EXTRA": False}
    (pricing,) = [step for step in steps if step.section == "pricing"]
    assert pricing.output is not None
    assert pricing.output["adjustment"] == Decimal("-0.0030")


def test_a_document_without_adjustments_keeps_its_content_hash() -> None:
    document, _ = parse_document(shipped_strategy_text("mse-online-credit"))
    assert "adjustments" not in document.model_dump(mode="json")["pricing"]
    assert content_hash(document) == content_hash(parse_document(dump_document(document))[0])
    with_adjustments, _ = parse_document(yaml.safe_dump(_data(GREEN), allow_unicode=True))
    dumped = with_adjustments.model_dump(mode="json")["pricing"]["adjustments"]
    assert [a["id"] for a in dumped] == ["GREEN_DISCOUNT", "CLEAN_ENERGY_EXTRA"]


def test_a_source_without_adjustments_prices_on_the_three_part_key() -> None:
    source = load_shipped_strategy("mse-online-credit").decision_source
    assert "key = (grade, as_of, licence_type)\n" in source
    assert "adj" not in source
    assert "key = (grade, as_of, licence_type, adj)" in _strategy(GREEN).decision_source


@pytest.mark.parametrize(
    ("adjustments", "says"),
    [
        (
            [{"id": "X", "when": {"green_label_input": "green"}, "spread_delta": "-0.2"}],
            "a spread adjustment is a fraction between -0.05 and 0.05",
        ),
        (
            [{"id": "X", "when": {"no_such_input": "green"}, "spread_delta": "-0.001"}],
            "unknown input 'no_such_input'",
        ),
        (
            [
                {"id": "X", "when": {"green_label_input": "green"}, "spread_delta": "-0.001"},
                {"id": "X", "when": {"green_label_input": "green"}, "spread_delta": "-0.001"},
            ],
            "rule id 'X' is used twice",
        ),
        (
            [{"id": "X", "when": {"green_label_input": "> 3"}, "spread_delta": "-0.001"}],
            "green_label_input",
        ),
    ],
)
def test_malformed_adjustments_are_refused_naming_the_problem(
    adjustments: list[dict[str, Any]], says: str
) -> None:
    with pytest.raises(StrategyInvalid) as refused:
        _strategy(adjustments)
    assert says in str(refused.value)


def test_an_adjustment_without_a_delta_is_refused_by_the_schema() -> None:
    with pytest.raises(StrategyInvalid):
        _strategy([{"id": "X", "when": {"green_label_input": "green"}}])


def test_jdm_exports_and_imports_the_adjustments_as_a_table() -> None:
    from puhui.decision.jdm import export_jdm, import_jdm

    document, _ = parse_document(yaml.safe_dump(_data(GREEN), allow_unicode=True))
    graph = export_jdm(document)
    names = [n["name"] for n in graph["nodes"]]
    assert names.index("pricing_adjustments") == names.index("grading") + 1
    node = next(n for n in graph["nodes"] if n["name"] == "pricing_adjustments")
    node["content"]["rules"][0]["pricing_adjustments-out-spread_delta"] = '"-0.0050"'
    edited = import_jdm(document, graph)
    assert [a.spread_delta for a in edited.pricing.adjustments] == [
        Decimal("-0.0050"),
        Decimal("-0.0010"),
    ]
    from puhui.decision.cells import parse_cell

    when = edited.pricing.adjustments[1].when
    assert {k: (parse_cell(v).kind, parse_cell(v).values) for k, v in when.items()} == {
        "green_label_input": ("set", frozenset({"green"})),
        "green_category_input": ("set", frozenset({"clean_energy"})),
    }
    shipped, _ = parse_document(shipped_strategy_text("mse-online-credit"))
    assert "pricing_adjustments" not in [n["name"] for n in export_jdm(shipped)["nodes"]]
    from puhui.decision.jdm import JdmError

    with pytest.raises(JdmError, match="tables this strategy does not"):
        import_jdm(shipped, graph)
