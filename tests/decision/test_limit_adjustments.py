"""Rule-based limit adjustments (``limit.adjustments``): an industry downturn cuts the limit."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from puhui.decision import CompiledStrategy, ModelResult
from puhui.decision.backtest import backtest_file
from puhui.decision.jdm import export_jdm, import_jdm
from puhui.decision.population import write_population
from puhui.decision.strategy import (
    StrategyInvalid,
    content_hash,
    dump_document,
    load_strategy,
    parse_document,
)

AS_OF = dt.date(2026, 3, 2)
GRADE_B = ModelResult(pd=0.015, score=640.0, reasons=(), model_versions={"m": "1"})
INDEX = "industry_prosperity_index"


def _adjusted(shipped_text: str, adjustments: list[dict[str, Any]]) -> CompiledStrategy:
    data = yaml.safe_load(shipped_text)
    data["version"] = 2
    data["inputs"][INDEX] = {"type": "number"}
    data["limit"]["adjustments"] = adjustments
    data["reasons"]["INDUSTRY_DOWNTURN"] = {"zh": "所属行业景气下行", "en": "Industry downturn"}
    data["reasons"]["INDUSTRY_SLUMP"] = {"zh": "所属行业景气低迷", "en": "Industry slump"}
    return load_strategy("v2", text=yaml.safe_dump(data, allow_unicode=True))


DOWNTURN = [
    {
        "id": "LA_DOWNTURN",
        "when": {INDEX: "< 40"},
        "multiplier": "0.8",
        "reason": "INDUSTRY_DOWNTURN",
    },
    {"id": "LA_SLUMP", "when": {INDEX: "< 30"}, "multiplier": "0.5", "reason": "INDUSTRY_SLUMP"},
]


def _decide(strategy: CompiledStrategy, inputs: dict[str, Any], *, trace: bool) -> Any:
    return strategy.evaluate(inputs, GRADE_B, as_of=AS_OF, licence_type="bank", trace=trace)


def test_the_strictest_hit_cuts_the_limit_before_the_step_on_both_paths(
    shipped_text: str, strategy: CompiledStrategy, applicant: Any
) -> None:
    adjusted = _adjusted(shipped_text, DOWNTURN)
    base = _decide(strategy, applicant(), trace=False)
    assert base.outcome.value == "approve"
    # The caps' limit before rounding: the shipped step is 1000 yuan (100_000 fen).
    unrounded = min(strategy.limit_rule.caps(applicant(), "B").values())
    for trace in (False, True):
        calm = _decide(adjusted, applicant(**{INDEX: 55.0}), trace=trace)
        assert calm.limit_fen == base.limit_fen
        assert calm.reasons == base.reasons
        missing = _decide(adjusted, applicant(), trace=trace)
        assert missing.limit_fen == base.limit_fen
        assert missing.reasons == base.reasons
        down = _decide(adjusted, applicant(**{INDEX: 35.0}), trace=trace)
        assert down.outcome.value == "approve"
        assert down.limit_fen == unrounded * 8 // 10 // 100_000 * 100_000
        assert down.reasons == ("INDUSTRY_DOWNTURN",)
        slump = _decide(adjusted, applicant(**{INDEX: 25.0}), trace=trace)  # both hit
        assert slump.limit_fen == unrounded // 2 // 100_000 * 100_000
        assert slump.reasons == ("INDUSTRY_SLUMP",)
    traced = _decide(adjusted, applicant(**{INDEX: 25.0}), trace=True)
    rules = {s.rule_id: s.matched for s in traced.trace or () if s.section == "limit.adjustments"}
    assert rules == {"LA_DOWNTURN": True, "LA_SLUMP": True}
    (limit_step,) = [step for step in traced.trace or () if step.section == "limit"]
    assert limit_step.output is not None
    assert limit_step.output["adjustment"] == {
        "id": "LA_SLUMP",
        "multiplier": "0.5",
        "reason": "INDUSTRY_SLUMP",
    }
    assert limit_step.output["caps_fen"]["limit_adjustment"] == unrounded // 2
    assert limit_step.read[INDEX] == 25.0
    rule = adjusted.limit_rule
    inputs = applicant(**{INDEX: 25.0})
    assert rule.fast_limit(inputs, "B") == rule.limit(rule.caps(inputs, "B")) == slump.limit_fen


def test_an_adjustment_below_the_minimum_declines_with_both_reasons(
    shipped_text: str, applicant: Any
) -> None:
    closed = _adjusted(
        shipped_text,
        [
            {
                "id": "LA_CLOSED",
                "when": {INDEX: "< 20"},
                "multiplier": "0",
                "reason": "INDUSTRY_SLUMP",
            }
        ],
    )
    for trace in (False, True):
        decision = _decide(closed, applicant(**{INDEX: 10.0}), trace=trace)
        assert decision.outcome.value == "decline"
        assert decision.reasons == ("LIMIT_TOO_SMALL", "INDUSTRY_SLUMP")


def test_a_document_without_adjustments_keeps_its_content_hash(shipped_text: str) -> None:
    document, _ = parse_document(shipped_text)
    assert "adjustments" not in document.model_dump(mode="json")["limit"]
    assert content_hash(document) == content_hash(parse_document(dump_document(document))[0])


def test_adjustments_survive_a_dump_and_a_jdm_round_trip(shipped_text: str) -> None:
    adjusted = _adjusted(shipped_text, DOWNTURN)
    dumped, _ = parse_document(dump_document(adjusted.document))
    assert dumped.limit.adjustments == adjusted.document.limit.adjustments
    assert content_hash(dumped) == adjusted.content_hash
    back = import_jdm(adjusted.document, export_jdm(adjusted.document))
    assert back.limit.adjustments == adjusted.document.limit.adjustments


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ({"when": {INDEX: "< 40"}, "multiplier": "1.2"}, "between 0 (no new lending) and 1"),
        ({"when": {"no_such_input": "< 40"}, "multiplier": "0.8"}, "unknown input 'no_such_input'"),
        ({"when": {INDEX: "'low'"}, "multiplier": "0.8"}, "is a number"),
        ({"when": {INDEX: "-"}, "multiplier": "0.8"}, "needs a condition"),
        ({"when": {INDEX: "< 40"}, "multiplier": "0.8", "reason": "NO_TEXT"}, "has no text"),
    ],
)
def test_bad_adjustments_are_refused_with_their_location(
    shipped_text: str, rule: dict[str, Any], problem: str
) -> None:
    with pytest.raises(StrategyInvalid) as refused:
        _adjusted(shipped_text, [{"id": "LA_X", "reason": "INDUSTRY_DOWNTURN", **rule}])
    assert problem in str(refused.value)
    assert "limit.adjustments[0]" in str(refused.value)


def test_a_backtest_replays_the_adjustment_on_a_population(
    shipped_text: str, strategy: CompiledStrategy, tmp_path: Path
) -> None:
    population = write_population(tmp_path / "population.parquet", 600, seed=11)
    halved = _adjusted(
        shipped_text,
        [{"id": "LA_D", "when": {"grade": "D"}, "multiplier": "0.5", "reason": "INDUSTRY_SLUMP"}],
    )
    report = backtest_file(halved, population, against=strategy, as_of=AS_OF, licence_type="bank")
    assert report.current is not None
    new, old = report.candidate.by_grade, report.current.by_grade
    assert new["D"].limit_fen_approved < old["D"].limit_fen_approved
    # Halved limits fall below the minimum (declined) or under the large-amount referral
    # (approved instead of referred): referrals read the adjusted limit.
    assert new["D"].declined >= old["D"].declined
    assert new["D"].referred <= old["D"].referred
    for grade in ("A", "B", "C"):  # the other grades are untouched
        assert new[grade].limit_fen_approved == old[grade].limit_fen_approved
