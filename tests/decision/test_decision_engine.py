"""Evaluating the shipped strategy: outcomes, limits, prices, terms, reasons and the trace."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import pytest

from puhui.decision import CompiledStrategy, Decision, ModelResult, Outcome
from puhui.decision.outcome import Value
from puhui.domain.errors import InvalidDate, InvalidInput, NotFound

Applicant = Callable[..., dict[str, Any]]

AS_OF = dt.date(2026, 3, 2)
GRADE_B = ModelResult(pd=0.015, score=640.0, reasons=("M_SALES_TREND",), model_versions={"m": "1"})


class FakeScorer:
    """Stands in for the online scorer: a PD from the tax grade and the sales growth."""

    def __init__(self) -> None:
        self.calls: list[Mapping[str, Value]] = []

    def score(self, features: Mapping[str, Value]) -> ModelResult:
        self.calls.append(dict(features))
        pd = {"A": 0.005, "B": 0.015, "M": 0.03}.get(str(features.get("tax_grade")), 0.1)
        growth = features.get("sales_growth_12m")
        if isinstance(growth, float) and growth < -0.2:
            pd *= 2
        return ModelResult(
            pd=pd, score=700 - pd * 2000, reasons=("M_SALES_TREND",), model_versions={"fake": "1"}
        )


def decide(
    strategy: CompiledStrategy,
    applicant: Applicant,
    model: ModelResult = GRADE_B,
    **overrides: object,
) -> Decision:
    return strategy.evaluate(
        applicant(**overrides), model, as_of=AS_OF, licence_type="bank", trace=True
    )


def test_a_good_applicant_is_approved_with_an_offer(
    strategy: CompiledStrategy, applicant: Applicant
) -> None:
    decision = decide(strategy, applicant)
    assert decision.outcome is Outcome.APPROVE
    assert decision.grade == "B"
    assert decision.limit_fen == 50_000_000  # the requested amount is the lowest cap
    assert decision.annual_rate == Decimal("0.0450")  # LPR 3.00% + grade-B spread 1.50%
    assert decision.term_months == 12
    assert decision.reasons == ()
    assert decision.strategy_version == "mse-online-credit@1"
    assert decision.model_versions == {"m": "1"}


def test_every_knockout_that_fires_is_a_reason(
    strategy: CompiledStrategy, applicant: Applicant
) -> None:
    decision = decide(strategy, applicant, enterprise_age_months=6, tax_grade="D", blacklisted=True)
    assert decision.outcome is Outcome.DECLINE
    assert decision.reasons == ("BLACKLISTED", "ENTERPRISE_TOO_YOUNG", "TAX_GRADE_TOO_LOW")
    assert decision.limit_fen == 0
    assert decision.annual_rate is None
    assert strategy.explain(decision, "en")[0].startswith("The enterprise or its legal")
    assert strategy.explain(decision, "zh")[1] == "企业成立时间不足12个月"


def test_a_fraud_decline_wins_over_a_fraud_referral(
    strategy: CompiledStrategy, applicant: Applicant
) -> None:
    referred = decide(strategy, applicant, shared_contact_count=3)
    assert referred.outcome is Outcome.REFER
    assert referred.reasons == ("FRAUD_CHECK_CONTACTS",)
    assert referred.limit_fen == 50_000_000  # the approver sees the proposed offer
    declined = decide(strategy, applicant, shared_contact_count=3, invoice_round_trip_ratio=0.5)
    assert declined.outcome is Outcome.DECLINE
    assert declined.reasons == ("FRAUD_INVOICE_ROUND_TRIP",)


def test_model_reasons_are_explained_with_the_model_texts(
    strategy: CompiledStrategy, applicant: Applicant
) -> None:
    model = ModelResult(
        pd=0.3,
        score=420.0,
        reasons=("RC_TAX_ARREARS", "RC_UNKNOWN"),
        reason_texts={
            "RC_TAX_ARREARS": ("欠税：该项情况使评分降低", "Tax arrears lowered the score")
        },
    )
    decision = decide(strategy, applicant, model)
    assert strategy.explain(decision, "en", model) == [
        "The overall credit assessment is below the required level",
        "Tax arrears lowered the score",
        "RC_UNKNOWN",
    ]


def test_a_declined_grade_gives_the_model_reasons(
    strategy: CompiledStrategy, applicant: Applicant
) -> None:
    decision = decide(strategy, applicant, ModelResult(pd=0.2, score=480.0, reasons=("M_OVERDUE",)))
    assert decision.outcome is Outcome.DECLINE
    assert decision.grade == "E"
    assert decision.reasons == ("RISK_TOO_HIGH", "M_OVERDUE")


def test_no_pd_means_referral(strategy: CompiledStrategy, applicant: Applicant) -> None:
    decision = decide(strategy, applicant, ModelResult(pd=None, score=None))
    assert decision.outcome is Outcome.REFER
    assert decision.reasons == ("GRADE_UNDETERMINED",)


def test_limit_is_the_lowest_cap_rounded_down_to_the_step(
    strategy: CompiledStrategy, applicant: Applicant
) -> None:
    # need 312,345.67 yuan < requested 500,000: the need binds, rounded down to 1,000 yuan.
    assert decide(strategy, applicant, need_estimate_fen=31_234_567).limit_fen == 31_200_000
    # affordability: 2.5 x monthly sales of 100,000.01 yuan = 250,000.025 -> 250,000 yuan.
    assert (
        decide(
            strategy,
            applicant,
            verified_monthly_sales_fen=10_000_001,
            verified_monthly_tax_fen=None,
        ).limit_fen
        == 25_000_000
    )
    # the tax basis can support more than sales: the better evidence counts.
    assert (
        decide(
            strategy,
            applicant,
            verified_monthly_sales_fen=1_000_000,
            verified_monthly_tax_fen=1_000_000,
        ).limit_fen
        == 24_000_000
    )
    assert (
        decide(strategy, applicant, concentration_headroom_fen=12_345_600).limit_fen == 12_300_000
    )
    capped = decide(
        strategy,
        applicant,
        requested_amount_fen=900_000_000,
        verified_monthly_sales_fen=900_000_000,
    )
    assert capped.limit_fen == 300_000_000  # product cap 3,000,000 yuan
    assert capped.outcome is Outcome.REFER  # and a large exposure goes to a person
    assert "LARGE_EXPOSURE" in capped.reasons


def test_a_limit_below_the_minimum_is_declined(
    strategy: CompiledStrategy, applicant: Applicant
) -> None:
    decision = decide(
        strategy, applicant, verified_monthly_sales_fen=300_000, verified_monthly_tax_fen=None
    )
    assert decision.outcome is Outcome.DECLINE
    assert decision.reasons == ("LIMIT_TOO_SMALL",)


def test_price_uses_the_lpr_in_force_on_the_decision_date(
    strategy: CompiledStrategy, applicant: Applicant
) -> None:
    def rate_on(day: dt.date, licence: str = "bank", pd: float = 0.015) -> Decimal | None:
        model = ModelResult(pd=pd, score=600.0)
        return strategy.evaluate(applicant(), model, as_of=day, licence_type=licence).annual_rate

    assert rate_on(dt.date(2024, 7, 21)) == Decimal("0.0495")  # 3.45% + 1.50%
    assert rate_on(dt.date(2024, 7, 22)) == Decimal("0.0485")  # 3.35% from 2024-07-22
    assert rate_on(dt.date(2024, 10, 21)) == Decimal("0.0460")
    assert rate_on(dt.date(2025, 5, 20)) == Decimal("0.0450")
    assert rate_on(AS_OF, pd=0.005) == Decimal("0.0350")  # grade A: 3.00% + 0.50%
    with pytest.raises(InvalidDate):
        rate_on(dt.date(2023, 8, 20))
    with pytest.raises(NotFound):
        rate_on(AS_OF, licence="pawnshop")


def test_term_follows_the_request_within_the_grade_maximum(
    strategy: CompiledStrategy, applicant: Applicant
) -> None:
    assert decide(strategy, applicant, requested_term_months=36).term_months == 24  # grade B max
    assert (
        decide(strategy, applicant, requested_term_months=9).term_months == 6
    )  # allowed terms only
    assert decide(strategy, applicant, requested_term_months=None).term_months == 12  # the default


def test_inputs_are_checked_and_every_problem_named(
    strategy: CompiledStrategy, applicant: Applicant
) -> None:
    inputs = applicant(tax_grade="Z", requested_amount_fen=-1, blacklisted="no")
    del inputs["owner_age_years"]
    with pytest.raises(InvalidInput) as caught:
        strategy.evaluate(inputs, GRADE_B, as_of=AS_OF, licence_type="bank")
    assert caught.value.details["problems"] == [
        "requested_amount_fen: expected fen, got -1",
        "owner_age_years: required",
        "tax_grade: 'Z' is not one of ['A', 'B', 'C', 'D', 'M']",
        "blacklisted: expected boolean, got 'no'",
    ]
    with pytest.raises(InvalidInput):
        strategy.evaluate(
            applicant(sales_growth_12m=float("nan")), GRADE_B, as_of=AS_OF, licence_type="bank"
        )
    with pytest.raises(InvalidInput):
        strategy.evaluate(
            applicant(owner_age_years=True), GRADE_B, as_of=AS_OF, licence_type="bank"
        )


def test_optional_inputs_may_be_left_out(strategy: CompiledStrategy, applicant: Applicant) -> None:
    inputs = applicant()
    for name in ("requested_term_months", "court_cases_open", "sales_growth_12m"):
        del inputs[name]
    decision = strategy.evaluate(inputs, GRADE_B, as_of=AS_OF, licence_type="bank")
    assert decision.outcome is Outcome.APPROVE
    assert decision.term_months == 12


def test_the_trace_lists_every_rule_evaluated_with_what_it_read(
    strategy: CompiledStrategy, applicant: Applicant
) -> None:

    decision = decide(strategy, applicant, shared_contact_count=3)
    steps = list(decision.trace)
    sections = [step.section for step in steps]
    assert sections.count("knockouts") == 9  # collect: all of them
    assert sections.count("fraud") == 8  # collect: four on contacts and invoices, four graph
    assert sections.count("grading.table") == 2  # first: stops at G_B
    # collect: RF_LARGE is three rules by guarantee, and one reads the partner score
    assert sections.count("referrals") == 9
    fraud = {step.rule_id: step for step in steps if step.section == "fraud"}
    assert fraud["FR_SHARED"].read == {"shared_contact_count": 3}
    assert fraud["FR_SHARED"].matched is True
    assert fraud["FR_RING"].matched is False
    limit = next(step for step in steps if step.section == "limit")
    assert limit.output is not None
    assert limit.output["caps_fen"]["requested"] == 50_000_000
    assert next(s for s in steps if s.section == "computed").read == {
        "requested_amount_fen": 50_000_000,
        "verified_monthly_sales_fen": 30_000_000,
    }
    record = decision.to_dict()
    assert record["trace"][0]["section"] == "computed"
    assert record["annual_rate"] == "0.0450"


def test_trace_off_gives_the_same_decision_without_steps(
    strategy: CompiledStrategy, applicant: Applicant
) -> None:
    traced = decide(strategy, applicant)
    plain = strategy.evaluate(applicant(), GRADE_B, as_of=AS_OF, licence_type="bank")
    assert plain.trace == ()
    assert plain._replace(trace=()) == traced._replace(trace=())


def test_a_decision_replays_exactly(strategy: CompiledStrategy, applicant: Applicant) -> None:
    first = decide(strategy, applicant, shared_contact_count=3, need_estimate_fen=20_000_000)
    again = decide(strategy, applicant, shared_contact_count=3, need_estimate_fen=20_000_000)
    assert first == again
    assert first.trace == again.trace


def test_decide_scores_the_features_through_the_scorer_port(
    strategy: CompiledStrategy, applicant: Applicant
) -> None:
    scorer = FakeScorer()
    decision = strategy.decide(applicant(tax_grade="A"), scorer, as_of=AS_OF, licence_type="bank")
    assert decision.outcome is Outcome.APPROVE
    assert decision.grade == "A"
    assert decision.model_versions == {"fake": "1"}
    # The scorer sees the computed features too.
    assert scorer.calls[0]["request_to_annual_sales"] == pytest.approx(50_000_000 / 360_000_000)
