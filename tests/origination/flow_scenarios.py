"""The application flow as scenarios, run both on fakes and on the databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from origination_fakes import OTHER_ID, OTHER_PHONE, OWNER_ID, PHONE, USCC_A, USCC_B, Crash
from origination_wiring import Wired

from puhui.domain.errors import IdempotencyConflict, InvalidIdentifier, InvalidInput
from puhui.domain.identity import id_check_char, uscc_check_char
from puhui.domain.origination.application import ApplicationStatus
from puhui.domain.origination.assessment import Outcome
from puhui.domain.origination.consent import DataScope
from puhui.domain.origination.errors import (
    ConsentRequired,
    DuplicateApplication,
    Forbidden,
    FourEyesViolation,
    OfferExpired,
)
from puhui.services.origination import use_cases as uc
from puhui.services.security.accounts import authenticate_token, create_user, login
from puhui.services.security.permissions import SYSTEM, Principal, Role
from puhui.services.security.signing import verify_signature

S = ApplicationStatus
ALL_SCOPES = list(DataScope)


def new(
    uscc: str = USCC_A,
    id_number: str = OWNER_ID,
    phone: str = PHONE,
    amount: int | None = 20_000_000,
) -> uc.NewApplication:
    return uc.NewApplication(
        uscc=uscc, id_number=id_number, phone=phone, requested_amount_fen=amount, device_id="dev-1"
    )


def staff(w: Wired, name: str, role: Role) -> Principal:
    create_user(
        w.security, actor=SYSTEM, username=name, password="correct horse battery", role=role
    )
    token = login(w.security, username=name, password="correct horse battery", client="t")
    return authenticate_token(w.security, token.access_token)


def apply_and_consent(w: Wired, actor: Principal | None = None) -> tuple[Principal, str]:
    owner = w.applicant(PHONE)
    app = uc.create_application(w.origination, actor=actor or owner, request=new())
    uc.give_consent(
        w.origination,
        actor=owner,
        application_id=app.application_id,
        scopes=ALL_SCOPES,
        purpose="credit assessment",
    )
    return owner, app.application_id


def full_flow_opens_a_line(w: Wired) -> None:
    owner, app_id = apply_and_consent(w)
    view = uc.assess_application(w.origination, actor=owner, application_id=app_id)
    assert view.application.status is S.OFFERED
    assert view.offer is not None
    assert view.offer.limit_fen == 30_000_000
    assert view.application.assessment is not None
    assert view.application.assessment.trace["anti_fraud"] == []
    accepted = uc.accept_offer(w.origination, actor=owner, application_id=app_id)
    assert accepted.application.status is S.LINE_OPENED
    assert accepted.application.credit_line_id == "line_0001"
    contract = accepted.contract
    assert contract is not None
    assert verify_signature(
        w.origination.signer.public_key_hex,  # type: ignore[attr-defined]
        contract.sha256,
        contract.signature_hex,
    )
    with w.origination.uow_factory() as uow:
        actions = [e.action for e in uow.audit.events() if e.entity_id == app_id]
    assert actions == [
        "application.created",
        "consent.granted",
        "application.consented",
        "application.assessed",
        "application.offered",
        "application.accepted",
        "application.line_opened",
    ]


def no_data_is_pulled_without_consent_and_revocation_is_honoured(w: Wired) -> None:
    owner = w.applicant(PHONE)
    app = uc.create_application(w.origination, actor=owner, request=new())
    with pytest.raises(ConsentRequired):
        uc.assess_application(w.origination, actor=owner, application_id=app.application_id)
    consent = uc.give_consent(
        w.origination,
        actor=owner,
        application_id=app.application_id,
        scopes=[DataScope.TAX],
        purpose="credit assessment",
    )
    uc.revoke_consent(
        w.origination,
        actor=owner,
        application_id=app.application_id,
        consent_id=consent.consent_id,
    )
    view = uc.get_application(w.origination, actor=owner, application_id=app.application_id)
    assert view.application.status is S.CREATED
    assert view.consents[0].revoked_at is not None
    with pytest.raises(ConsentRequired):
        uc.assess_application(w.origination, actor=owner, application_id=app.application_id)
    assert w.data_source.pulls == []


def only_consented_scopes_are_pulled(w: Wired) -> None:
    owner = w.applicant(PHONE)
    app = uc.create_application(w.origination, actor=owner, request=new())
    uc.give_consent(
        w.origination,
        actor=owner,
        application_id=app.application_id,
        scopes=[DataScope.TAX, DataScope.INVOICE],
        purpose="credit assessment",
    )
    uc.assess_application(w.origination, actor=owner, application_id=app.application_id)
    assert {s for _, s in w.data_source.pulls} == {DataScope.TAX, DataScope.INVOICE}


def duplicate_open_application_is_refused(w: Wired) -> None:
    owner = w.applicant(PHONE)
    uc.create_application(w.origination, actor=owner, request=new())
    with pytest.raises(DuplicateApplication):
        uc.create_application(w.origination, actor=owner, request=new(amount=None))


def the_assessor_hears_the_term_the_channel_and_the_earlier_applications(w: Wired) -> None:
    owner = w.applicant(PHONE)
    w.assessor.outcome = Outcome.DECLINE
    first = uc.create_application(
        w.origination, actor=owner, request=replace(new(), requested_term_months=6)
    )
    _consent_and_assess(w, owner, first.application_id)
    w.clock.advance(timedelta(days=40))
    w.assessor.outcome = Outcome.APPROVE
    second = uc.create_application(
        w.origination, actor=owner, request=replace(new(), requested_term_months=12)
    )
    assert second.requested_term_months == 12
    _consent_and_assess(w, owner, second.application_id)

    request = w.assessor.requests[-1]
    assert (request.requested_term_months, request.channel) == (12, "qr")
    (earlier,) = request.earlier_applications
    assert earlier.requested_term_months == 6
    assert earlier.channel == "qr"
    assert earlier.application_date == first.created_at.date()
    with pytest.raises(InvalidInput, match="term"):
        uc.create_application(
            w.origination, actor=owner, request=replace(new(uscc=USCC_B), requested_term_months=0)
        )


def _consent_and_assess(w: Wired, owner: Principal, application_id: str) -> None:
    uc.give_consent(
        w.origination, actor=owner, application_id=application_id, scopes=ALL_SCOPES, purpose="c"
    )
    uc.assess_application(w.origination, actor=owner, application_id=application_id)


def idempotency_key_replays_and_detects_a_different_body(w: Wired) -> None:
    owner = w.applicant(PHONE)
    first = uc.create_application(w.origination, actor=owner, request=new(), idempotency_key="k1")
    again = uc.create_application(w.origination, actor=owner, request=new(), idempotency_key="k1")
    assert again.application_id == first.application_id
    with pytest.raises(IdempotencyConflict):
        uc.create_application(
            w.origination, actor=owner, request=new(amount=1), idempotency_key="k1"
        )


def bad_identifiers_are_refused_before_anything_is_stored(w: Wired) -> None:
    owner = w.applicant(PHONE)
    with pytest.raises(InvalidIdentifier):
        uc.create_application(w.origination, actor=owner, request=new(uscc=USCC_A[:-1] + "1"))
    assert uc.list_applications(w.origination, actor=SYSTEM) == []


def an_applicant_applies_only_with_their_own_phone(w: Wired) -> None:
    owner = w.applicant(OTHER_PHONE)
    with pytest.raises(Forbidden):
        uc.create_application(w.origination, actor=owner, request=new())


def fraud_knockout_declines_whatever_the_model_says(w: Wired) -> None:
    w.data_source.legal_rep = OTHER_ID
    owner, app_id = apply_and_consent(w)
    view = uc.assess_application(w.origination, actor=owner, application_id=app_id)
    assert view.application.status is S.DECLINED
    assessment = view.application.assessment
    assert assessment is not None
    assert assessment.reasons[0] == "AF01_IDENTITY_MISMATCH"
    assert assessment.trace["anti_fraud"] == ["AF01_IDENTITY_MISMATCH"]
    assert view.offer is None


def blacklisted_enterprise_is_declined(w: Wired) -> None:
    uc.add_to_fraud_list(
        w.origination,
        actor=SYSTEM,
        list_name="blacklist",
        uscc=USCC_A,
        id_number=None,
        note="loan fraud 2024",
    )
    owner, app_id = apply_and_consent(w)
    view = uc.assess_application(w.origination, actor=owner, application_id=app_id)
    assert view.application.status is S.DECLINED
    assert "AF02_INTERNAL_BLACKLIST" in view.application.assessment.reasons  # type: ignore[union-attr]


def _uscc(n: int) -> str:
    body = f"9144030{n:010d}"
    return body + uscc_check_char(body)


def _id_number(n: int) -> str:
    body = f"44030519800101{n:03d}"
    return body + id_check_char(body)


def the_executed_person_list_and_device_velocity_are_each_a_reason(w: Wired) -> None:
    manager = staff(w, "am1", Role.ACCOUNT_MANAGER)
    # Four enterprises with different owners, all applying from one device.
    for n in range(4):
        uc.create_application(
            w.origination,
            actor=manager,
            request=new(uscc=_uscc(n), id_number=_id_number(n), phone=f"1390000000{n}"),
        )
    uc.add_to_fraud_list(
        w.origination,
        actor=SYSTEM,
        list_name="executed_person",
        uscc=None,
        id_number=_id_number(3),
        note="被执行人 2025",
    )
    apps = {a.applicant.uscc: a for a in uc.list_applications(w.origination, actor=SYSTEM)}
    owner = w.applicant("13900000003")
    app_id = apps[_uscc(3)].application_id
    uc.give_consent(
        w.origination, actor=owner, application_id=app_id, scopes=ALL_SCOPES, purpose="credit"
    )
    w.data_source.legal_rep = _id_number(3)
    view = uc.assess_application(w.origination, actor=owner, application_id=app_id)
    reasons = view.application.assessment.reasons  # type: ignore[union-attr]
    assert view.application.status is S.DECLINED
    assert "AF03_EXECUTED_PERSON" in reasons
    assert "AF05_VELOCITY_DEVICE" in reasons
    assert "AF04_VELOCITY_PHONE" not in reasons
    assert "AF02_INTERNAL_BLACKLIST" not in reasons


def identifiers_shared_across_enterprises_send_to_manual_review(w: Wired) -> None:
    manager = staff(w, "am1", Role.ACCOUNT_MANAGER)
    # The same owner phone and ID on three enterprises: the third is suspicious.
    w.applicant(PHONE)
    uscc_c = "91440300MA5FUTQ10D"
    for uscc in (USCC_A, USCC_B, uscc_c):
        uc.create_application(w.origination, actor=manager, request=new(uscc=uscc))
    apps = {a.applicant.uscc: a for a in uc.list_applications(w.origination, actor=SYSTEM)}
    owner = w.applicant(PHONE)
    app_id = apps[uscc_c].application_id
    uc.give_consent(
        w.origination, actor=owner, application_id=app_id, scopes=ALL_SCOPES, purpose="credit"
    )
    view = uc.assess_application(w.origination, actor=owner, application_id=app_id)
    assert view.application.status is S.REFERRED
    assert "AF08_SHARED_IDENTIFIER" in view.application.assessment.reasons  # type: ignore[union-attr]

    with pytest.raises(FourEyesViolation):
        uc.review_application(
            w.origination,
            actor=Principal(manager.user_id, Role.APPROVER),
            application_id=app_id,
            approve=True,
            note="I know them",
        )
    approver = staff(w, "ap1", Role.APPROVER)
    reviewed = uc.review_application(
        w.origination,
        actor=approver,
        application_id=app_id,
        approve=True,
        note="group of related shops, verified on site",
        limit_fen=10_000_000,
    )
    assert reviewed.application.status is S.OFFERED
    assert reviewed.offer is not None
    assert reviewed.offer.limit_fen == 10_000_000
    assert reviewed.application.reviewed_by == approver.user_id


def expired_offer_cannot_be_accepted(w: Wired) -> None:
    owner, app_id = apply_and_consent(w)
    uc.assess_application(w.origination, actor=owner, application_id=app_id)
    w.clock.advance(timedelta(days=8))
    with pytest.raises(OfferExpired):
        uc.accept_offer(w.origination, actor=owner, application_id=app_id)
    # ...and no longer blocks a new application for the enterprise.
    again = uc.create_application(w.origination, actor=owner, request=new())
    assert again.status is S.CREATED


def crash_between_acceptance_and_line_opening_completes_exactly_once(w: Wired) -> None:
    owner, app_id = apply_and_consent(w)
    uc.assess_application(w.origination, actor=owner, application_id=app_id)
    w.opener.crash_before = True
    with pytest.raises(Crash):
        uc.accept_offer(w.origination, actor=owner, application_id=app_id)
    half = uc.get_application(w.origination, actor=owner, application_id=app_id)
    assert half.application.status is S.ACCEPTED
    assert half.contract is not None
    done = uc.accept_offer(w.origination, actor=owner, application_id=app_id)
    again = uc.accept_offer(w.origination, actor=owner, application_id=app_id)
    assert done.application.status is again.application.status is S.LINE_OPENED
    assert len(w.opener.lines) == 1
    assert done.application.credit_line_id == again.application.credit_line_id
    assert done.contract == half.contract


def declined_by_the_model_carries_its_reasons(w: Wired) -> None:
    w.assessor.outcome = Outcome.DECLINE
    owner, app_id = apply_and_consent(w)
    view = uc.assess_application(w.origination, actor=owner, application_id=app_id)
    assert view.application.status is S.DECLINED
    assert view.application.assessment.reasons == ("SC01_LOW_SCORE",)  # type: ignore[union-attr]
    # Deciding again returns the decision, it does not assess twice.
    uc.assess_application(w.origination, actor=owner, application_id=app_id)
    assert len(w.assessor.requests) == 1


def others_cannot_see_an_applicants_application(w: Wired) -> None:
    owner, app_id = apply_and_consent(w)
    stranger = w.applicant(OTHER_PHONE)
    from puhui.domain.errors import NotFound

    with pytest.raises(NotFound):
        uc.get_application(w.origination, actor=stranger, application_id=app_id)
    partner = Principal("apikey:x", Role.PARTNER, partner_id="p1")
    with pytest.raises(NotFound):
        uc.get_application(w.origination, actor=partner, application_id=app_id)
    assert uc.get_application(w.origination, actor=owner, application_id=app_id)


SCENARIOS = [
    the_assessor_hears_the_term_the_channel_and_the_earlier_applications,
    the_executed_person_list_and_device_velocity_are_each_a_reason,
    full_flow_opens_a_line,
    no_data_is_pulled_without_consent_and_revocation_is_honoured,
    only_consented_scopes_are_pulled,
    duplicate_open_application_is_refused,
    idempotency_key_replays_and_detects_a_different_body,
    bad_identifiers_are_refused_before_anything_is_stored,
    an_applicant_applies_only_with_their_own_phone,
    fraud_knockout_declines_whatever_the_model_says,
    blacklisted_enterprise_is_declined,
    identifiers_shared_across_enterprises_send_to_manual_review,
    expired_offer_cannot_be_accepted,
    crash_between_acceptance_and_line_opening_completes_exactly_once,
    declined_by_the_model_carries_its_reasons,
    others_cannot_see_an_applicants_application,
]
