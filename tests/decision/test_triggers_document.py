"""Trigger-rules documents: validated with locations like strategies; the shipped rules load."""

from __future__ import annotations

import pytest

from puhui.decision.triggers import (
    MONITORING_INPUTS,
    TriggersInvalid,
    json_schema,
    load_shipped_triggers,
    load_triggers,
    validate_triggers_text,
)
from puhui.domain.monitoring import Severity

VALID = """\
schema_version: 1
name: tiny-triggers
version: 3
inputs:
  days_past_due: {type: integer}
  tax_grade: {type: string, allowed: [A, B, C]}
  sales_now_fen: {type: fen}
  sales_before_fen: {type: fen}
computed:
  sales_change: sales_now_fen / sales_before_fen - 1
signals:
  - id: T_DPD
    code: DPD
    when: {days_past_due: "> 0"}
    severity: high
    text: {zh: 逾期, en: Past due}
  - id: T_SALES
    code: SALES_DOWN
    when: {sales_change: "<= -0.3"}
    severity: medium
    text: {zh: 销售下降, en: Sales down}
"""


def problems_of(text: str) -> list[str]:
    return [str(p) for p in validate_triggers_text(text, source="t.yaml")]


def test_a_valid_document_compiles_with_its_version_label() -> None:
    triggers = load_triggers("t.yaml", text=VALID)
    assert triggers.version_label == "tiny-triggers@3"
    assert [s.code for s in triggers.signals.values()] == ["DPD", "SALES_DOWN"]


def test_schema_problems_name_the_line_and_path() -> None:
    text = VALID.replace("    severity: medium\n", "    severity: urgent\n")
    (problem,) = problems_of(text)
    assert problem.startswith("line 20: signals[1].severity:")


def test_an_unknown_column_is_refused_at_its_line() -> None:
    text = VALID.replace('{days_past_due: "> 0"}', '{days_overdue: "> 0"}')
    (problem,) = problems_of(text)
    assert problem == (
        "line 14: signals[0].when.days_overdue: unknown input 'days_overdue' "
        "(declare it under `inputs`)"
    )


def test_a_cell_with_a_comma_is_refused_with_the_strategy_message() -> None:
    text = VALID.replace('{days_past_due: "> 0"}', '{days_past_due: ">= 1, < 30"}')
    (problem,) = problems_of(text)
    assert problem.startswith("line 14: signals[0].when.days_past_due:")
    assert "[" in problem  # the message suggests an interval


def test_a_range_on_text_and_a_value_outside_allowed_are_refused() -> None:
    text = VALID.replace('{days_past_due: "> 0"}', '{tax_grade: "in {A, E}"}')
    problems = problems_of(text)
    assert any("'E' is not an allowed value of 'tax_grade'" in p for p in problems)


def test_an_expression_that_names_nothing_declared_is_refused() -> None:
    text = VALID.replace("sales_now_fen / sales_before_fen - 1", "sales_now_fen / sales_last_fen")
    (problem,) = problems_of(text)
    assert problem.startswith("line 10: computed.sales_change: expression does not parse")


def test_duplicate_ids_and_codes_are_refused() -> None:
    text = VALID.replace("id: T_SALES\n    code: SALES_DOWN", "id: T_DPD\n    code: DPD")
    problems = problems_of(text)
    assert "line 18: signals[1].code: code 'DPD' is already used by signal 'T_DPD'" in problems
    assert any("rule id 'T_DPD' is used twice" in p for p in problems)


def test_a_signal_needs_a_condition_and_both_texts() -> None:
    text = VALID.replace('    when: {days_past_due: "> 0"}\n', "    when: {}\n").replace(
        "{zh: 逾期, en: Past due}", "{zh: 逾期}"
    )
    problems = problems_of(text)
    assert any(p.startswith("line 14: signals[0].when:") for p in problems)
    assert any(p.startswith("line 16: signals[0].text.en:") for p in problems)


def test_duplicate_keys_and_bad_yaml_are_refused() -> None:
    assert any("duplicate key" in p for p in problems_of(VALID + "version: 4\n"))
    assert problems_of("signals: [")[0].startswith("line")
    with pytest.raises(TriggersInvalid) as caught:
        load_triggers("t.yaml", text="- a list")
    assert caught.value.code == "triggers_invalid"
    assert "a trigger document must be a mapping" in str(caught.value)


def test_reserved_names_and_allowed_on_numbers_are_refused() -> None:
    text = VALID.replace("  days_past_due: {type: integer}", "  pd: {type: number, allowed: [x]}")
    problems = problems_of(text)
    assert any("'pd' is reserved" in p for p in problems)
    assert any("only string inputs list values" in p for p in problems)


def test_the_shipped_rules_read_exactly_the_named_monitoring_inputs() -> None:
    triggers = load_shipped_triggers()
    assert tuple(triggers.document.inputs) == MONITORING_INPUTS
    assert triggers.version_label == "mse-post-loan@2"
    severities = {s.severity for s in triggers.signals.values()}
    assert severities == set(Severity)
    for info in triggers.signals.values():
        assert info.text_zh
        assert info.text_en


def test_the_published_schema_names_signals() -> None:
    schema = json_schema()
    assert schema["title"] == "Puhui post-loan trigger rules"
    assert "signals" in schema["properties"]
