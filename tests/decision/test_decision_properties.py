"""Invariants under random applicants (Hypothesis): determinism, caps, rate bounds, C/C split."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

from applicant_strategies import applicants
from hypothesis import given, settings
from hypothesis import strategies as st

from puhui.decision import CompiledStrategy, Experiment, ModelResult, Outcome
from puhui.decision.champion import Arm, bucket

AS_OF = dt.date(2026, 3, 2)


# Applicants who pass the knockouts and fraud rules, so that limit and price are exercised.
def _lendable(a: dict[str, Any]) -> dict[str, Any]:
    return a | {
        "enterprise_age_months": max(a["enterprise_age_months"], 12),
        "owner_age_years": min(max(a["owner_age_years"], 18), 65),
        "tax_grade": "A" if a["tax_grade"] in ("C", "D") else a["tax_grade"],
        "tax_filing_gap_months": None,
        "current_overdue_count": 0,
        "blacklisted": False,
        "industry_restricted": False,
        "abnormal_operation_listed": False,
        "shared_contact_count": 0,
        "invoice_round_trip_ratio": 0.0,
    }


lendable = applicants.map(_lendable)
lending_models = st.builds(
    ModelResult, pd=st.floats(min_value=0, max_value=0.0599), score=st.just(600.0)
)
models = st.builds(
    ModelResult,
    pd=st.none() | st.floats(min_value=0, max_value=1),
    score=st.none() | st.floats(min_value=300, max_value=900),
)
dates = st.dates(min_value=dt.date(2023, 8, 21), max_value=dt.date(2030, 12, 31))
licences = st.sampled_from(["bank", "microcredit_company", "private_lending"])


@settings(max_examples=200, deadline=None)
@given(applicants, models, dates, licences)
def test_decisions_are_deterministic(
    strategy: CompiledStrategy,
    inputs: dict[str, Any],
    model: ModelResult,
    day: dt.date,
    licence: str,
) -> None:
    first = strategy.evaluate(inputs, model, as_of=day, licence_type=licence, trace=True)
    second = strategy.evaluate(dict(inputs), model, as_of=day, licence_type=licence, trace=True)
    assert first == second
    assert first.trace == second.trace
    untraced = strategy.evaluate(inputs, model, as_of=day, licence_type=licence)
    assert untraced._replace(trace=()) == first._replace(trace=())


@settings(max_examples=200, deadline=None)
@given(lendable, lending_models, dates, licences)
def test_a_limit_never_exceeds_any_cap(
    strategy: CompiledStrategy,
    inputs: dict[str, Any],
    model: ModelResult,
    day: dt.date,
    licence: str,
) -> None:
    decision = strategy.evaluate(inputs, model, as_of=day, licence_type=licence)
    if decision.outcome is Outcome.DECLINE:
        assert decision.limit_fen == 0
        return
    assert decision.grade is not None
    rule = strategy.limit_rule
    caps = [inputs["requested_amount_fen"], rule.product_cap_fen]
    caps += [
        inputs[n]
        for n in ("need_estimate_fen", "concentration_headroom_fen")
        if inputs[n] is not None
    ]
    affordability = [
        inputs[a.basis]
        * Decimal(a.multiple_by_grade[decision.grade][0])
        / a.multiple_by_grade[decision.grade][1]
        for a in rule.affordability
        if inputs[a.basis] is not None
    ]
    caps.append(max(affordability, default=0))
    assert decision.limit_fen > 0
    assert all(decision.limit_fen <= cap for cap in caps)
    assert decision.limit_fen % rule.step_fen == 0
    assert decision.limit_fen >= rule.minimum_fen


@settings(max_examples=200, deadline=None)
@given(lendable, lending_models, dates, licences)
def test_the_rate_is_within_floor_cap_and_legal_cap(
    strategy: CompiledStrategy,
    inputs: dict[str, Any],
    model: ModelResult,
    day: dt.date,
    licence: str,
) -> None:
    decision = strategy.evaluate(inputs, model, as_of=day, licence_type=licence)
    if decision.annual_rate is None:  # declined: the limit fell below the minimum
        assert decision.reasons == ("LIMIT_TOO_SMALL",)
        return
    pricing = strategy.pricing
    legal_cap = pricing.legal_caps[licence].on(pricing.lpr.rate_on(day))
    assert pricing.floor <= decision.annual_rate <= pricing.cap
    assert decision.annual_rate <= legal_cap


def _experiment(strategy: CompiledStrategy, shares: list[int]) -> Experiment:
    arms = [Arm(f"arm{i}", strategy, share) for i, share in enumerate(shares)]
    return Experiment(arms, salt="exp-2026-03")


@settings(max_examples=8, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=9), min_size=2, max_size=4).map(
        lambda weights: [w * 10_000 // sum(weights) for w in weights]
    ),
    st.integers(min_value=0, max_value=10**6),
)
def test_champion_challenger_shares_converge_to_the_split(
    strategy: CompiledStrategy, raw_shares: list[int], offset: int
) -> None:
    shares = [*raw_shares[:-1], 10000 - sum(raw_shares[:-1])]
    experiment = _experiment(strategy, shares)
    n = 20_000
    counts = Counter(experiment.assign(f"ent_{offset + i}").name for i in range(n))
    for i, share in enumerate(shares):
        observed = counts[f"arm{i}"] / n
        # Four standard errors of a binomial share at n = 20,000 is at most 1.42 points.
        assert abs(observed - share / 10_000) < 0.0142


@given(st.text(min_size=1, max_size=40))
def test_the_arm_of_an_applicant_never_changes(applicant_id: str) -> None:
    assert bucket(applicant_id, "salt") == bucket(applicant_id, "salt")
    assert 0 <= bucket(applicant_id, "salt") < 10_000
