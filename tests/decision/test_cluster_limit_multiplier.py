"""The strategy's per-cluster limit multiplier (concentration tightening) in the limit step."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import yaml

from puhui.decision import CompiledStrategy, ModelResult
from puhui.decision.concentration import Dimension, tighten_strategy
from puhui.decision.strategy import (
    StrategyInvalid,
    content_hash,
    dump_document,
    load_strategy,
    parse_document,
)

AS_OF = dt.date(2026, 3, 2)
GRADE_B = ModelResult(pd=0.015, score=640.0, reasons=("M_SALES_TREND",), model_versions={"m": "1"})


def _tightened(shipped_text: str, by_cluster: dict[str, str]) -> CompiledStrategy:
    data = yaml.safe_load(shipped_text)
    data["version"] = 2
    data["inputs"]["industry_code"] = {"type": "string"}
    data["limit"]["cluster_limit_multiplier"] = {
        "industry": {"input": "industry_code", "by_cluster": by_cluster}
    }
    return load_strategy("v2", text=yaml.safe_dump(data, allow_unicode=True))


def _limit(strategy: CompiledStrategy, inputs: dict[str, Any], *, trace: bool) -> Any:
    return strategy.evaluate(inputs, GRADE_B, as_of=AS_OF, licence_type="bank", trace=trace)


def test_the_applicants_cluster_multiplies_its_limit_on_both_paths(
    shipped_text: str, strategy: CompiledStrategy, applicant: Any
) -> None:
    tightened = _tightened(shipped_text, {"C13": "0.5", "K70": "0"})
    base = _limit(strategy, applicant(), trace=False)
    assert base.limit_fen is not None
    for trace in (False, True):
        halved = _limit(tightened, applicant(industry_code="C13"), trace=trace)
        assert halved.limit_fen == base.limit_fen // 2 // 100_000 * 100_000
        untouched = _limit(tightened, applicant(industry_code="F51"), trace=trace)
        assert untouched.limit_fen == base.limit_fen
        missing = _limit(tightened, applicant(), trace=trace)
        assert missing.limit_fen == base.limit_fen
        closed = _limit(tightened, applicant(industry_code="K70"), trace=trace)
        assert closed.outcome.value == "decline"
    traced = _limit(tightened, applicant(industry_code="C13"), trace=True)
    (limit_step,) = [step for step in traced.trace or () if step.section == "limit"]
    assert limit_step.output is not None
    assert "cluster_limit_multiplier" in limit_step.output["caps_fen"]
    assert "industry_code" in limit_step.read


def test_a_document_without_multipliers_keeps_its_content_hash(shipped_text: str) -> None:
    document, _ = parse_document(shipped_text)
    assert "cluster_limit_multiplier" not in document.model_dump(mode="json")["limit"]
    assert content_hash(document) == content_hash(parse_document(dump_document(document))[0])


def test_multipliers_must_tighten_and_read_a_string_input(shipped_text: str) -> None:
    with pytest.raises(StrategyInvalid) as loose:
        _tightened(shipped_text, {"C13": "1.5"})
    assert "between 0 (no new lending) and 1" in str(loose.value)
    data = yaml.safe_load(shipped_text)
    data["limit"]["cluster_limit_multiplier"] = {
        "industry": {"input": "requested_amount_fen", "by_cluster": {"C13": "0.5"}}
    }
    with pytest.raises(StrategyInvalid) as typed:
        load_strategy("bad", text=yaml.safe_dump(data))
    assert "must be a `string` input" in str(typed.value)


def test_tighten_strategy_adds_the_input_and_keeps_the_stricter_multiplier(
    shipped_text: str,
) -> None:
    document, _ = parse_document(shipped_text)
    once = tighten_strategy(
        document, {(Dimension.INDUSTRY, "C13"): Decimal("0.5")}, version=document.version + 1
    )
    assert once.version == document.version + 1
    assert once.inputs["industry_code"].type.value == "string"
    twice = tighten_strategy(
        once,
        {(Dimension.INDUSTRY, "C13"): Decimal("0.8"), (Dimension.REGION, "330100"): Decimal(0)},
        version=once.version + 1,
    )
    multipliers = twice.limit.cluster_limit_multiplier
    assert multipliers["industry"].by_cluster == {"C13": Decimal("0.5")}
    assert multipliers["region"].input == "region_code"
    assert multipliers["region"].by_cluster == {"330100": Decimal(0)}
    load_strategy("tightened", text=dump_document(twice))  # a valid strategy document
