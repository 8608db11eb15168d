"""A facilitation partner's risk score of the applicant (助贷, docs/partners.md): sent with
the partner's application, stored with it, handed to the assessor, read by the shipped
strategy (a very poor score refers; a missing one changes nothing)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from flow_scenarios import ALL_SCOPES, new
from origination_fakes import PHONE
from origination_wiring import Wired

from puhui.decision import ModelResult, Outcome, load_shipped_strategy
from puhui.domain.errors import InvalidInput
from puhui.services.origination import use_cases as uc
from puhui.services.origination.channel_inputs import channel_inputs
from puhui.services.origination.ports import AssessmentRequest
from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Permission, Principal

GRADE_B = ModelResult(pd=0.015, score=640.0, reasons=(), model_versions={"m": "1"})


def _partner(w: Wired) -> Principal:
    issued = accounts.issue_api_key(
        w.security,
        actor=SYSTEM,
        partner_id="channel-7",
        scopes=[Permission.APPLICATION_CREATE, Permission.APPLICATION_READ],
    )
    return accounts.authenticate_api_key(w.security, issued.api_key)


def test_a_partners_score_is_stored_and_reaches_the_assessor(db: Wired) -> None:
    owner = db.applicant(PHONE)
    made = uc.create_application(
        db.origination, actor=_partner(db), request=replace(new(), partner_score=250)
    )
    assert made.partner_score == 250
    uc.give_consent(
        db.origination,
        actor=owner,
        application_id=made.application_id,
        scopes=ALL_SCOPES,
        purpose="credit assessment",
    )
    view = uc.assess_application(db.origination, actor=owner, application_id=made.application_id)
    assert view.application.partner_score == 250  # read back from storage
    request = db.assessor.requests[-1]
    assert (request.channel, request.application_channel) == ("partner", "partner")
    assert request.partner_score == 250


@pytest.mark.parametrize("score", [-1, 1001])
def test_a_score_out_of_range_is_refused_and_nothing_is_stored(db: Wired, score: int) -> None:
    partner = _partner(db)
    with pytest.raises(InvalidInput, match="partner score"):
        uc.create_application(
            db.origination, actor=partner, request=replace(new(), partner_score=score)
        )
    # Nothing was stored: the same enterprise may apply at once.
    assert uc.create_application(db.origination, actor=partner, request=new()).partner_score is None


def test_only_a_partners_application_carries_a_score(db: Wired) -> None:
    owner = db.applicant(PHONE)
    with pytest.raises(InvalidInput, match="partner"):
        uc.create_application(
            db.origination, actor=owner, request=replace(new(), partner_score=900)
        )
    assert uc.create_application(db.origination, actor=owner, request=new()).partner_score is None


def _request(partner_score: int | None) -> AssessmentRequest:
    return AssessmentRequest(
        application_id="app_1",
        uscc="91350100M000100Y43",
        requested_amount_fen=30_000_000,
        as_of=dt.date(2026, 3, 2),
        data={},
        fraud_hits=(),
        channel="partner",
        partner_score=partner_score,
    )


def test_the_score_is_an_input_only_when_the_partner_sent_one() -> None:
    assert channel_inputs(_request(412), None) == {"partner_score": 412}
    assert "partner_score" not in channel_inputs(_request(None), None)


def _applicant(**overrides: Any) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "requested_amount_fen": 50_000_000,
        "requested_term_months": 12,
        "verified_monthly_sales_fen": 100_000_000,
        "verified_monthly_tax_fen": 10_000_000,
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
    return inputs | overrides


@pytest.mark.parametrize(
    ("score", "outcome", "reasons"),
    [
        (None, Outcome.APPROVE, ()),
        (0, Outcome.REFER, ("PARTNER_SCORE_POOR",)),
        (299, Outcome.REFER, ("PARTNER_SCORE_POOR",)),
        (300, Outcome.APPROVE, ()),
        (1000, Outcome.APPROVE, ()),
    ],
)
def test_the_shipped_strategy_refers_a_very_poor_partner_score(
    score: int | None, outcome: Outcome, reasons: tuple[str, ...]
) -> None:
    strategy = load_shipped_strategy("mse-online-credit")
    inputs = _applicant() if score is None else _applicant(partner_score=score)
    decision = strategy.evaluate(
        inputs, GRADE_B, as_of=dt.date(2026, 3, 2), licence_type="bank", trace=True
    )
    assert (decision.outcome, tuple(decision.reasons)) == (outcome, reasons)
    (step,) = [s for s in decision.trace if s.rule_id == "RF_PARTNER_SCORE_POOR"]
    assert step.read["partner_score"] == score
