"""The pure rules of origination: state machine, consent, anti-fraud screen, contract."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from origination_fakes import OWNER_ID, PHONE, USCC_A, fixed_signer

from puhui.domain.errors import InvalidAmount, InvalidIdentifier, InvalidInput
from puhui.domain.origination.application import (
    Applicant,
    Application,
    ApplicationStatus,
)
from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.domain.origination.consent import Consent, DataScope
from puhui.domain.origination.contract import contract_digest, render_contract
from puhui.domain.origination.errors import InvalidTransition
from puhui.domain.origination.fraud import FraudFacts, FraudPolicy, screen, worst_severity
from puhui.domain.origination.offer import Offer
from puhui.domain.origination.reasons import ANTI_FRAUD_REASONS, Severity
from puhui.services.security.signing import verify_signature

T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
S = ApplicationStatus


def application(status: ApplicationStatus = S.CREATED) -> Application:
    return Application(
        application_id="app_1",
        application_no="PH1",
        applicant=Applicant.parse(uscc=USCC_A, id_number=OWNER_ID, phone=PHONE),
        requested_amount_fen=100_000,
        status=status,
        created_at=T0,
        updated_at=T0,
    )


def test_applicant_identifiers_are_validated_with_check_characters() -> None:
    with pytest.raises(InvalidIdentifier):
        Applicant.parse(uscc=USCC_A[:-1] + "0", id_number=OWNER_ID, phone=PHONE)
    with pytest.raises(InvalidIdentifier):
        Applicant.parse(uscc=USCC_A, id_number=OWNER_ID[:-1] + "1", phone=PHONE)
    with pytest.raises(InvalidIdentifier):
        Applicant.parse(uscc=USCC_A, id_number=OWNER_ID, phone="12812345678")
    parsed = Applicant.parse(uscc=USCC_A.lower(), id_number=OWNER_ID, phone="+86 138-1234-5678")
    assert (parsed.uscc, parsed.phone) == (USCC_A, PHONE)


def test_requested_amount_must_be_positive_whole_fen() -> None:
    with pytest.raises(InvalidAmount):
        replace(application(), requested_amount_fen=0)


def test_happy_path_walks_the_state_machine_and_counts_versions() -> None:
    a = application()
    for target in (S.CONSENTED, S.ASSESSED, S.OFFERED, S.ACCEPTED, S.LINE_OPENED):
        a = a.moved_to(target, at=T0)
    assert a.status is S.LINE_OPENED
    assert a.version == 6
    assert not a.is_open


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.CREATED, S.ASSESSED),
        (S.CREATED, S.OFFERED),
        (S.DECLINED, S.OFFERED),
        (S.REFERRED, S.ACCEPTED),
        (S.LINE_OPENED, S.CREATED),
    ],
)
def test_skipping_a_step_is_an_invalid_transition(
    start: ApplicationStatus, target: ApplicationStatus
) -> None:
    with pytest.raises(InvalidTransition):
        application(start).moved_to(target, at=T0)


def test_consent_covers_its_scopes_until_expiry_or_revocation() -> None:
    consent = Consent(
        consent_id="c1",
        application_id="app_1",
        scopes=frozenset({DataScope.TAX}),
        purpose="credit assessment",
        granted_by="u1",
        granted_at=T0,
        expires_at=T0 + timedelta(days=30),
    )
    assert consent.covers(DataScope.TAX, T0)
    assert not consent.covers(DataScope.BUREAU, T0)
    assert not consent.covers(DataScope.TAX, T0 + timedelta(days=30))
    assert not replace(consent, revoked_at=T0).covers(DataScope.TAX, T0 + timedelta(seconds=1))


def test_consent_without_scope_or_longer_than_a_year_is_refused() -> None:
    base = {
        "consent_id": "c1",
        "application_id": "a",
        "purpose": "p",
        "granted_by": "u",
        "granted_at": T0,
    }
    with pytest.raises(InvalidInput):
        Consent(scopes=frozenset(), expires_at=T0 + timedelta(days=1), **base)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        Consent(
            scopes=frozenset({DataScope.TAX}),
            expires_at=T0 + timedelta(days=400),
            **base,  # type: ignore[arg-type]
        )


def clean_facts(**overrides: object) -> FraudFacts:
    facts = FraudFacts(
        as_of=date(2026, 3, 2),
        legal_representative_matches=True,
        on_internal_blacklist=False,
        on_executed_person_list=False,
        applications_by_phone=1,
        applications_by_device=1,
        applications_by_ip=1,
        applications_by_address=1,
        enterprises_sharing_phone=1,
        enterprises_sharing_id_number=1,
        registered_on=date(2018, 1, 1),
        requested_amount_fen=100_000_00,
    )
    return replace(facts, **overrides)  # type: ignore[arg-type]


def test_clean_facts_raise_no_fraud_reason() -> None:
    assert screen(clean_facts()) == ()


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"legal_representative_matches": False}, "AF01_IDENTITY_MISMATCH"),
        ({"on_internal_blacklist": True}, "AF02_INTERNAL_BLACKLIST"),
        ({"on_executed_person_list": True}, "AF03_EXECUTED_PERSON"),
        ({"applications_by_phone": 4}, "AF04_VELOCITY_PHONE"),
        ({"applications_by_device": 4}, "AF05_VELOCITY_DEVICE"),
        ({"applications_by_ip": 11}, "AF06_VELOCITY_IP"),
        ({"applications_by_address": 6}, "AF07_VELOCITY_ADDRESS"),
        ({"enterprises_sharing_phone": 3}, "AF08_SHARED_IDENTIFIER"),
        ({"enterprises_sharing_id_number": 3}, "AF08_SHARED_IDENTIFIER"),
        (
            {"registered_on": date(2026, 1, 1), "requested_amount_fen": 50_000_000},
            "AF09_NEW_REGISTRATION_LARGE_REQUEST",
        ),
    ],
)
def test_each_rule_fires_its_own_reason_code(overrides: dict[str, object], code: str) -> None:
    assert [r.code for r in screen(clean_facts(**overrides))] == [code]


def test_thresholds_are_inclusive_limits_not_triggers() -> None:
    policy = FraudPolicy()
    facts = clean_facts(applications_by_phone=policy.max_applications_per_phone)
    assert screen(facts, policy) == ()


def test_unknown_registration_cannot_fire_identity_or_new_registration_rules() -> None:
    facts = clean_facts(legal_representative_matches=None, registered_on=None)
    assert screen(facts) == ()


def test_every_reason_has_chinese_and_english_text_and_a_severity() -> None:
    for reason in ANTI_FRAUD_REASONS:
        assert reason.zh
        assert reason.en
        assert reason.severity is not None
    assert worst_severity(screen(clean_facts(on_internal_blacklist=True))) is Severity.KNOCKOUT
    assert worst_severity(screen(clean_facts(applications_by_ip=99))) is Severity.REFER


def test_an_approval_must_state_limit_rate_and_term() -> None:
    with pytest.raises(InvalidInput):
        Assessment(outcome=Outcome.APPROVE, limit_fen=100)
    with pytest.raises(InvalidInput):
        Assessment(
            outcome=Outcome.APPROVE, limit_fen=100, annual_rate=Decimal("4.35"), term_months=12
        )


def test_contract_is_rendered_with_masked_id_and_its_signature_verifies() -> None:
    offer = Offer(
        offer_id="ofr_1",
        application_id="app_1",
        limit_fen=30_000_000,
        annual_rate=Decimal("0.0435"),
        term_months=12,
        grade="B",
        made_at=T0,
        expires_at=T0 + timedelta(days=7),
    )
    text = render_contract(
        contract_no="HT1", lender="Bank", uscc=USCC_A, id_number=OWNER_ID, offer=offer
    )
    assert "CNY 300000.00" in text
    assert "4.35%" in text
    assert OWNER_ID not in text
    digest = contract_digest(text)
    signer = fixed_signer()
    signature = signer.sign(digest)
    assert verify_signature(signer.public_key_hex, digest, signature)
    assert not verify_signature(signer.public_key_hex, contract_digest(text + " "), signature)
