"""The strategy's pre-approval mode: the section, its checks and one enterprise's evaluation."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from puhui.decision import CompiledStrategy, ModelResult
from puhui.decision.preapproval import (
    INPUTS_MISSING,
    IndicativeNeed,
    NoPreapprovalMode,
    PreapprovalMode,
    preapproval_mode,
)
from puhui.decision.strategy import (
    StrategyInvalid,
    content_hash,
    dump_document,
    load_strategy,
    parse_document,
)

DAY = dt.date(2025, 7, 1)
GRADE_A = ModelResult(pd=0.005, score=700.0, model_versions={"mse_pd": "t"})
GRADE_B = ModelResult(pd=0.015, score=640.0, model_versions={"mse_pd": "t"})
GRADE_E = ModelResult(pd=0.2, score=500.0, model_versions={"mse_pd": "t"})


@pytest.fixture(scope="module")
def mode(strategy: CompiledStrategy) -> PreapprovalMode:
    return preapproval_mode(strategy)


def known(**overrides: Any) -> dict[str, Any]:
    """What the bank knows of an enterprise before it consents (no tax, invoices, bureau)."""
    inputs: dict[str, Any] = {
        "enterprise_age_months": 40,
        "owner_age_years": 45,
        "court_cases_open": 0,
        "settlement_monthly_inflow_fen": 40_000_000,
    }
    inputs.update(overrides)
    return inputs


def likely(floor_fen: int = 30_000_000, probability: float = 0.4) -> IndicativeNeed:
    return IndicativeNeed(probability=probability, floor_fen=floor_fen, duration_months=6)


def _evaluate(mode: PreapprovalMode, inputs: dict[str, Any], need: IndicativeNeed) -> Any:
    return mode.evaluate(inputs, GRADE_A, need, as_of=DAY, licence_type="bank")


def test_the_section_is_optional_and_absent_keeps_the_content_hash(shipped_text: str) -> None:
    data = yaml.safe_load(shipped_text)
    del data["preapproval"]
    text = yaml.safe_dump(data, allow_unicode=True)
    document = parse_document(text)[0]
    assert document.preapproval is None
    assert "preapproval" not in dump_document(document)
    assert content_hash(document) == content_hash(parse_document(dump_document(document))[0])
    with pytest.raises(NoPreapprovalMode, match="no `preapproval:` section"):
        preapproval_mode(load_strategy("old", text=text))


def test_section_problems_are_refused_with_their_lines(shipped_text: str) -> None:
    data = yaml.safe_load(shipped_text)
    data["preapproval"]["minimum_need_probability"] = "1.5"
    data["preapproval"]["need_unlikely_reason"] = "NO_SUCH_TEXT"
    data["preapproval"]["affordability"][0]["basis"] = "tax_grade"
    data["preapproval"]["product_cap_yuan"] = "5000"
    data["preapproval"]["invited_grades"] = ["A", "E"]
    del data["preapproval"]["grade_not_invited_reason"]
    with pytest.raises(StrategyInvalid) as refused:
        load_strategy("bad", text=yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    text = "\n".join(str(p) for p in refused.value.problems)
    assert "preapproval.minimum_need_probability: a probability is between 0 and 1" in text
    assert "preapproval.need_unlikely_reason: reason code 'NO_SUCH_TEXT' has no text" in text
    assert "preapproval.affordability[0].basis: 'tax_grade' must be a `fen` input" in text
    assert "preapproval.product_cap_yuan: is below the limit's minimum" in text
    assert "preapproval.invited_grades[1]: 'E' is not a grade that lends" in text
    assert "set grade_not_invited_reason with invited_grades" in text
    assert all(p.line is not None for p in refused.value.problems)


def test_sources_beyond_those_allowed_before_consent_are_refused(shipped_text: str) -> None:
    data = yaml.safe_load(shipped_text)
    data["preapproval"]["sources_before_consent"] += ["tax_monthly", "bureau", "invoices"]
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    allowed = frozenset(yaml.safe_load(shipped_text)["preapproval"]["sources_before_consent"])
    load_strategy("copy", text=text)  # without the caller's list the section is not judged
    with pytest.raises(StrategyInvalid) as refused:
        load_strategy("copy", text=text, preapproval_sources=allowed)
    problems = "\n".join(str(p) for p in refused.value.problems)
    for index, table in enumerate(("tax_monthly", "bureau", "invoices"), start=len(allowed)):
        assert (
            f"preapproval.sources_before_consent[{index}]: {table!r} may not be read before"
            in problems
        )
    load_strategy("shipped", text=shipped_text, preapproval_sources=allowed)


def test_an_unknown_key_in_the_section_is_refused(shipped_text: str) -> None:
    data = yaml.safe_load(shipped_text)
    data["preapproval"]["validity_dayz"] = 3
    with pytest.raises(StrategyInvalid, match=r"preapproval\.validity_dayz"):
        load_strategy("bad", text=yaml.safe_dump(data, allow_unicode=True))


def test_a_likely_need_of_a_sound_enterprise_is_pre_approved_at_most_at_its_floor(
    mode: PreapprovalMode,
) -> None:
    decision = _evaluate(mode, known(), likely(floor_fen=12_345_678))
    assert decision.preapproved
    assert decision.limit_fen == 12_300_000  # the floor, down to the 1,000-yuan step
    assert decision.grade == "A"
    assert decision.annual_rate is not None
    assert decision.reasons == ()


def test_the_limit_is_capped_by_pre_consent_affordability(mode: PreapprovalMode) -> None:
    # Grade A: 1.5 x the monthly settlement inflow, below a larger need.
    decision = _evaluate(mode, known(), likely(floor_fen=90_000_000))
    assert decision.limit_fen == 60_000_000
    capped = _evaluate(mode, known(settlement_monthly_inflow_fen=10**10), likely(floor_fen=10**10))
    assert capped.limit_fen == 100_000_000  # the section's 1,000,000-yuan cap


def test_an_unlikely_need_is_not_pre_approved(mode: PreapprovalMode) -> None:
    decision = _evaluate(mode, known(), likely(probability=0.05))
    assert not decision.preapproved
    assert decision.reasons == ("NEED_UNLIKELY",)


def test_knock_outs_grades_and_the_minimum_apply(mode: PreapprovalMode) -> None:
    too_young = _evaluate(mode, known(enterprise_age_months=6), likely())
    assert (too_young.preapproved, too_young.reasons) == (False, ("ENTERPRISE_TOO_YOUNG",))
    risky = mode.evaluate(known(), GRADE_E, likely(), as_of=DAY, licence_type="bank")
    assert (risky.preapproved, risky.reasons) == (False, ("RISK_TOO_HIGH",))
    # Grade B lends online but is not among the invited grades (A only).
    lending = mode.evaluate(known(), GRADE_B, likely(), as_of=DAY, licence_type="bank")
    assert (lending.preapproved, lending.reasons) == (False, ("RISK_TOO_HIGH",))
    assert (
        mode.offer.evaluate(
            {**known(), "requested_amount_fen": 30_000_000},
            GRADE_B,
            as_of=DAY,
            licence_type="bank",
        ).outcome.value
        == "approve"
    )
    small = _evaluate(mode, known(), likely(floor_fen=900_000))
    assert (small.preapproved, small.reasons) == (False, ("LIMIT_TOO_SMALL",))
    unknown_owner = _evaluate(mode, known(owner_age_years=None), likely())
    assert (unknown_owner.preapproved, unknown_owner.reasons) == (False, (INPUTS_MISSING,))


def test_fraud_rules_fire_only_where_their_inputs_exist(mode: PreapprovalMode) -> None:
    assert _evaluate(mode, known(), likely()).preapproved
    ring = _evaluate(mode, known(graph_ring_score=0.8), likely())
    assert (ring.preapproved, ring.reasons) == (False, ("FRAUD_GRAPH_RING",))


def test_referral_rules_travel_as_cautions_not_refusals(mode: PreapprovalMode) -> None:
    decision = _evaluate(mode, known(court_cases_open=2), likely())
    assert decision.preapproved
    assert decision.reasons == ("COURT_CASES",)


def test_the_offer_stands_validity_days_after_the_as_of_month(mode: PreapprovalMode) -> None:
    assert mode.valid_until(dt.date(2025, 6, 1)) == dt.date(2025, 7, 30)
    assert mode.valid_until(dt.date(2025, 12, 1)) == dt.date(2026, 1, 30)
    assert mode.version == "mse-online-credit@1"
    assert "tax_monthly" not in mode.sources_before_consent
    assert "settlement_monthly" in mode.sources_before_consent
