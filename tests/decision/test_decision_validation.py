"""A malformed strategy is refused at validation, with the location of every problem."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from puhui.decision import StrategyInvalid, load_strategy, shipped_strategies, validate_text
from puhui.decision.document import json_schema
from puhui.decision.strategy import load_shipped_strategy


def problems_of(text: str) -> list[str]:
    return [str(p) for p in validate_text(text, source="test.yaml")]


def edited(shipped_text: str, old: str, new: str) -> str:
    assert old in shipped_text, old
    return shipped_text.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)


@pytest.mark.parametrize("name", shipped_strategies())
def test_every_shipped_strategy_is_valid(name: str) -> None:
    compiled = load_shipped_strategy(name)
    assert compiled.version.startswith(name)
    assert len(compiled.content_hash) == 64


def test_unknown_input_is_refused_with_line_and_path(shipped_text: str) -> None:
    text = edited(shipped_text, '{owner_age_years: "< 18"}', '{owner_agee: "< 18"}')
    problems = problems_of(text)
    line = line_of(text, "owner_agee")
    assert problems == [
        f"line {line}: knockouts.rules[3].when.owner_agee: unknown input 'owner_agee' "
        "(declare it under `inputs`)"
    ]


def test_a_first_row_shadowed_by_an_earlier_row_is_refused(shipped_text: str) -> None:
    text = edited(shipped_text, '{pd: "[0.01..0.02)"}', '{pd: "[0.005..0.01)"}')
    problems = problems_of(text)
    assert len(problems) == 1
    assert "grading.table.rules[1]" in problems[0]
    assert "rule 'G_B' can never match: rule 'G_A' above it" in problems[0]
    assert problems[0].startswith(f"line {line_of(text, 'id: G_B')}:")


def test_a_reason_code_without_text_is_refused(shipped_text: str) -> None:
    missing_english = edited(
        shipped_text,
        "COURT_CASES: {zh: 企业存在未结诉讼, en: The enterprise has open court cases}",
        "COURT_CASES: {zh: 企业存在未结诉讼}",
    )
    assert problems_of(missing_english) == [
        f"line {line_of(missing_english, 'COURT_CASES: {zh')}: reasons.COURT_CASES.en: "
        "Field required"
    ]
    empty_text = edited(
        shipped_text,
        "COURT_CASES: {zh: 企业存在未结诉讼, en: The enterprise has open court cases}",
        "COURT_CASES: {zh: '', en: The enterprise has open court cases}",
    )
    assert (
        "reasons.COURT_CASES.zh: String should have at least 1 character"
        in (problems_of(empty_text)[0])
    )
    undeclared = edited(shipped_text, "reason: COURT_CASES}", "reason: COURT_CASE}")
    assert problems_of(undeclared) == [
        f"line {line_of(undeclared, 'reason: COURT_CASE}')}: referrals.rules[3].reason: "
        "reason code 'COURT_CASE' has no text: add it under `reasons` (zh and en)"
    ]


def test_an_expression_that_does_not_parse_is_refused(shipped_text: str) -> None:
    text = edited(
        shipped_text,
        "requested_amount_fen / (verified_monthly_sales_fen * 12)",
        "requested_amount_fen / (verified_monthly_sales_fen * 12",
    )
    (problem,) = problems_of(text)
    assert problem.startswith(f"line {line_of(text, 'request_to_annual_sales:')}: ")
    assert "computed.request_to_annual_sales: expression does not parse: expected ')'" in problem


def test_a_cell_with_a_comma_is_refused(shipped_text: str) -> None:
    text = edited(
        shipped_text, '{shared_contact_count: "[2..5)"}', '{shared_contact_count: ">= 2, < 5"}'
    )
    (problem,) = problems_of(text)
    assert "fraud.rules[1].when.shared_contact_count" in problem
    assert "comma is only allowed inside a set" in problem


def test_a_typo_in_an_allowed_value_is_refused(shipped_text: str) -> None:
    text = edited(shipped_text, '{tax_grade: "in {C, D}"}', '{tax_grade: "in {C, DD}"}')
    (problem,) = problems_of(text)
    assert "'DD' is not an allowed value of 'tax_grade'" in problem


def test_every_problem_is_reported_at_once(shipped_text: str) -> None:
    text = edited(shipped_text, '{owner_age_years: "< 18"}', '{owner_agee: "< 18"}')
    text = edited(text, "reason: COURT_CASES}", "reason: COURT_CASE}")
    assert len(problems_of(text)) == 2


def test_unknown_keys_and_duplicate_keys_are_refused(shipped_text: str) -> None:
    text = edited(shipped_text, "version: 1\n", "version: 1\nversoin: 2\n")
    assert any("versoin: Extra inputs are not permitted" in p for p in problems_of(text))
    duplicate = edited(shipped_text, "version: 1\n", "version: 1\nversion: 2\n")
    assert any("duplicate key" in p for p in problems_of(duplicate))


def _document(shipped_text: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(shipped_text)
    return data


def test_a_pricing_floor_above_a_legal_cap_is_refused(shipped_text: str) -> None:
    data = _document(shipped_text)
    data["pricing"]["legal_caps"]["private_lending"] = {"lpr_multiple": "0.5"}
    with pytest.raises(StrategyInvalid, match=r"pricing.legal_caps.private_lending: the legal cap"):
        load_strategy("x.yaml", text=yaml.safe_dump(data, allow_unicode=True))


def test_every_lending_grade_needs_a_spread_a_multiple_and_a_term(shipped_text: str) -> None:
    data = _document(shipped_text)
    del data["pricing"]["spread_by_grade"]["C"]
    del data["term"]["max_by_grade"]["D"]
    with pytest.raises(StrategyInvalid) as caught:
        load_strategy("x.yaml", text=yaml.safe_dump(data, allow_unicode=True))
    messages = [f"{p.path}: {p.message}" for p in caught.value.problems]
    assert "pricing.spread_by_grade: no value for grade 'C'" in messages
    assert "term.max_by_grade: no value for grade 'D'" in messages


def test_a_fraud_rule_needs_an_action(shipped_text: str) -> None:
    text = edited(
        shipped_text,
        "then: {action: decline}, reason: FRAUD_SHARED",
        "then: {action: maybe}, reason: FRAUD_SHARED",
    )
    (problem,) = problems_of(text)
    assert "fraud.rules[0].then.action" in problem


def test_the_published_schema_describes_the_document() -> None:
    schema = json_schema()
    assert schema["title"] == "Puhui credit strategy"
    assert {"inputs", "knockouts", "fraud", "grading", "limit", "pricing", "term"} <= set(
        schema["required"]
    )
