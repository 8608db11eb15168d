"""Origination use cases, one transaction each: apply, consent, assess, review, accept."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from puhui.domain.audit import canonical_json
from puhui.domain.clock import Clock
from puhui.domain.errors import IdempotencyConflict, InvalidInput, NotFound
from puhui.domain.identity import validate_id_number, validate_uscc
from puhui.domain.ids import new_id
from puhui.domain.origination import fraud
from puhui.domain.origination.application import Applicant, Application, ApplicationStatus
from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.domain.origination.consent import Consent, DataScope
from puhui.domain.origination.contract import Contract, contract_digest, render_contract
from puhui.domain.origination.decision_record import DecisionRecord
from puhui.domain.origination.errors import (
    ApplicationChanged,
    ConsentRequired,
    DuplicateApplication,
    Forbidden,
    FourEyesViolation,
    InvalidTransition,
    OfferExpired,
)
from puhui.domain.origination.offer import Offer
from puhui.domain.origination.reasons import MANUAL_DECLINE, Reason
from puhui.services import audit
from puhui.services.origination.ports import (
    AssessmentRequest,
    Assessor,
    CreditLineOpener,
    DataSource,
    EarlierApplication,
    IdempotencyRecord,
    LineOpening,
    OriginationUnitOfWork,
    Signer,
    VelocityField,
)
from puhui.services.security.accounts import ensure_applicant
from puhui.services.security.permissions import Permission, Principal, Role, require

logger = logging.getLogger(__name__)

S = ApplicationStatus
ENTITY = "application"


@dataclass
class Origination:
    """The collaborators origination use cases share; built once by the composition root."""

    uow_factory: Callable[[], OriginationUnitOfWork]
    clock: Clock
    assessor: Assessor
    data_source: DataSource
    line_opener: CreditLineOpener
    signer: Signer
    request_hash_key: bytes
    """Keys the hash of idempotent requests, which contain personal data."""
    fraud_policy: fraud.FraudPolicy = field(default_factory=fraud.FraudPolicy)
    offer_validity: timedelta = timedelta(days=7)
    lender_name: str = "普惠银行 Puhui Bank"
    reader_factory: Callable[[], OriginationUnitOfWork] | None = None
    """Read-only units of work (a snapshot, no write lock); ``uow_factory`` when not wired."""

    def reading(self) -> OriginationUnitOfWork:
        """A unit of work for reads only: on SQLite it does not queue behind the writer."""
        return (self.reader_factory or self.uow_factory)()


@dataclass(frozen=True, slots=True)
class NewApplication:
    uscc: str
    id_number: str
    phone: str
    requested_amount_fen: int | None = None
    device_id: str | None = None
    requested_term_months: int | None = None
    ip_address: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class ApplicationView:
    """An application with what the owner and staff see alongside it."""

    application: Application
    consents: tuple[Consent, ...] = ()
    offer: Offer | None = None
    contract: Contract | None = None


# --- reading -------------------------------------------------------------------------------


def _ensure_visible(actor: Principal, application: Application) -> None:
    """Applicants see their own, partners their referrals; others get "not found"."""
    if actor.is_staff:
        return
    if actor.role is Role.APPLICANT and application.applicant_user_id == actor.user_id:
        return
    if actor.role is Role.PARTNER and application.partner_id == actor.partner_id:
        return
    raise NotFound("no such application", details={"application_id": application.application_id})


def _load(uow: OriginationUnitOfWork, actor: Principal, application_id: str) -> Application:
    application = uow.applications.get(application_id)
    if application is None:
        raise NotFound("no such application", details={"application_id": application_id})
    _ensure_visible(actor, application)
    return application


def _view(uow: OriginationUnitOfWork, application: Application) -> ApplicationView:
    app_id = application.application_id
    return ApplicationView(
        application=application,
        consents=tuple(uow.consents.for_application(app_id)),
        offer=uow.offers.for_application(app_id),
        contract=uow.contracts.for_application(app_id),
    )


def get_application(o: Origination, *, actor: Principal, application_id: str) -> ApplicationView:
    require(actor, Permission.APPLICATION_READ)
    with o.reading() as uow:
        return _view(uow, _load(uow, actor, application_id))


def get_decision_record(
    o: Origination, *, actor: Principal, application_id: str
) -> DecisionRecord | None:
    """The stored evidence of the application's automatic decision (None before this existed)."""
    require(actor, Permission.DECISION_EVIDENCE_READ)
    with o.reading() as uow:
        _load(uow, actor, application_id)
        return uow.decisions.get(application_id)


def list_applications(
    o: Origination,
    *,
    actor: Principal,
    status: ApplicationStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Application]:
    require(actor, Permission.APPLICATION_LIST)
    if not 1 <= limit <= 500 or offset < 0:
        raise InvalidInput("limit is 1 to 500 and offset is not negative")
    with o.reading() as uow:
        return uow.applications.list(
            status=status,
            partner_id=actor.partner_id if actor.role is Role.PARTNER else None,
            limit=limit,
            offset=offset,
        )


# --- writing -------------------------------------------------------------------------------


def _transition(
    uow: OriginationUnitOfWork,
    actor: Principal,
    application: Application,
    target: ApplicationStatus,
    *,
    o: Origination,
    payload: Mapping[str, Any] | None = None,
    **changes: Any,
) -> Application:
    moved = replace(application.moved_to(target, at=o.clock.now()), **changes)
    uow.applications.update(moved, expected_version=application.version)
    _audit_transition(uow, actor, application, target, payload)
    return moved


def _audit_transition(
    uow: OriginationUnitOfWork,
    actor: Principal,
    application: Application,
    target: ApplicationStatus,
    payload: Mapping[str, Any] | None,
) -> None:
    audit.record(
        uow,
        actor=actor.audit_name(),
        action=f"application.{target.value}",
        entity=ENTITY,
        entity_id=application.application_id,
        payload={"from": application.status.value, "to": target.value, **(payload or {})},
    )


def _request_hash(o: Origination, request: NewApplication) -> str:
    body = canonical_json({k: getattr(request, k) for k in request.__dataclass_fields__})
    return hmac.new(o.request_hash_key, body.encode(), hashlib.sha256).hexdigest()


def _application_no(today: date) -> str:
    return f"PH{today:%Y%m%d}{secrets.randbelow(10**8):08d}"


def create_application(
    o: Origination,
    *,
    actor: Principal,
    request: NewApplication,
    idempotency_key: str | None = None,
) -> Application:
    """Step 1: the USCC, the owner's ID number and phone, and an optional amount."""
    require(actor, Permission.APPLICATION_CREATE)
    applicant = Applicant.parse(
        uscc=request.uscc,
        id_number=request.id_number,
        phone=request.phone,
        device_id=request.device_id,
        ip_address=request.ip_address,
        address=request.address,
    )
    scope = f"applications.create:{actor.user_id}"
    request_hash = _request_hash(o, request)
    now = o.clock.now()
    with o.uow_factory() as uow:
        if idempotency_key is not None:
            seen = uow.idempotency.get(scope, idempotency_key)
            if seen is not None:
                if not hmac.compare_digest(seen.request_hash, request_hash):
                    raise IdempotencyConflict(
                        "this idempotency key was used with a different request",
                        details={"idempotency_key": idempotency_key},
                    )
                return _load(uow, actor, seen.resource_id)
        if actor.role is Role.APPLICANT:
            owner = uow.users.get(actor.user_id)
            if owner is None or owner.phone != applicant.phone:
                raise Forbidden(
                    "an applicant applies with the phone number they signed in with",
                    details={"field": "phone"},
                )
        else:
            owner = ensure_applicant(uow, phone=applicant.phone, at_clock=o.clock)
        existing = uow.applications.find_open_for_enterprise(applicant.uscc)
        if existing is not None and existing.status is S.OFFERED:
            offer = uow.offers.for_application(existing.application_id)
            if offer is not None and offer.is_expired(now):
                _transition(uow, actor, existing, S.EXPIRED, o=o)
                existing = None
        if existing is not None:
            raise DuplicateApplication(
                "the enterprise already has an open application",
                details={"uscc": applicant.uscc},
            )
        application = Application(
            application_id=new_id("app"),
            application_no=_application_no(o.clock.today()),
            applicant=applicant,
            requested_amount_fen=request.requested_amount_fen,
            requested_term_months=request.requested_term_months,
            status=S.CREATED,
            created_at=now,
            updated_at=now,
            applicant_user_id=owner.user_id,
            account_manager_id=actor.user_id if actor.role is Role.ACCOUNT_MANAGER else None,
            partner_id=actor.partner_id if actor.role is Role.PARTNER else None,
        )
        uow.applications.add(application)
        if idempotency_key is not None:
            uow.idempotency.add(
                IdempotencyRecord(
                    scope, idempotency_key, request_hash, application.application_id, now
                )
            )
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="application.created",
            entity=ENTITY,
            entity_id=application.application_id,
            payload={
                "application_no": application.application_no,
                "uscc": applicant.uscc,
                "requested_amount_fen": request.requested_amount_fen,
                "requested_term_months": request.requested_term_months,
                "partner_id": application.partner_id,
            },
        )
        uow.commit()
    logger.info("application %s created", application.application_no)
    return application


def _ensure_owner(actor: Principal, application: Application) -> None:
    if actor.role is not Role.APPLICANT or application.applicant_user_id != actor.user_id:
        raise Forbidden("only the owner who applied may do this")


def give_consent(
    o: Origination,
    *,
    actor: Principal,
    application_id: str,
    scopes: Iterable[DataScope],
    purpose: str,
    valid_days: int = 90,
) -> Consent:
    """Step 2: the owner authorises data pulls for a purpose, until an expiry."""
    require(actor, Permission.CONSENT_MANAGE)
    now = o.clock.now()
    if not 1 <= valid_days <= 366:
        raise InvalidInput("a consent lasts 1 to 366 days", details={"field": "valid_days"})
    with o.uow_factory() as uow:
        application = _load(uow, actor, application_id)
        _ensure_owner(actor, application)
        if not application.is_open:
            raise InvalidTransition(
                f"the application is {application.status.value}",
                details={"status": application.status.value},
            )
        consent = Consent(
            consent_id=new_id("cns"),
            application_id=application_id,
            scopes=frozenset(scopes),
            purpose=purpose.strip(),
            granted_by=actor.user_id,
            granted_at=now,
            expires_at=now + timedelta(days=valid_days),
        )
        uow.consents.add(consent)
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="consent.granted",
            entity=ENTITY,
            entity_id=application_id,
            payload={
                "consent_id": consent.consent_id,
                "scopes": sorted(s.value for s in consent.scopes),
                "purpose": consent.purpose,
                "expires_at": consent.expires_at.isoformat(),
            },
        )
        if application.status is S.CREATED:
            _transition(uow, actor, application, S.CONSENTED, o=o)
        uow.commit()
    return consent


def revoke_consent(
    o: Origination, *, actor: Principal, application_id: str, consent_id: str
) -> Consent:
    """Revocation is honoured at once: no further pull uses this consent."""
    require(actor, Permission.CONSENT_MANAGE)
    now = o.clock.now()
    with o.uow_factory() as uow:
        application = _load(uow, actor, application_id)
        _ensure_owner(actor, application)
        consents = uow.consents.for_application(application_id)
        consent = next((c for c in consents if c.consent_id == consent_id), None)
        if consent is None:
            raise NotFound("no such consent", details={"consent_id": consent_id})
        if consent.revoked_at is not None:
            return consent
        revoked = replace(consent, revoked_at=now)
        uow.consents.update(revoked)
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="consent.revoked",
            entity=ENTITY,
            entity_id=application_id,
            payload={"consent_id": consent_id},
        )
        still_active = any(c.is_active(now) for c in consents if c.consent_id != consent_id)
        if application.status is S.CONSENTED and not still_active:
            _transition(uow, actor, application, S.CREATED, o=o)
        uow.commit()
    return revoked


def _pull(
    o: Origination, consents: Iterable[Consent], uscc: str
) -> dict[DataScope, Mapping[str, Any]]:
    now = o.clock.now()
    allowed = {s for c in consents if c.is_active(now) for s in c.scopes}
    if not allowed:
        raise ConsentRequired("no active consent covers a data pull for this application")
    today = o.clock.today()
    return {
        scope: o.data_source.pull(uscc, scope, as_of=today)
        for scope in sorted(allowed, key=lambda s: s.value)
    }


def _fraud_facts(
    o: Origination,
    uow: OriginationUnitOfWork,
    application: Application,
    data: Mapping[DataScope, Mapping[str, Any]],
) -> fraud.FraudFacts:
    a = application.applicant
    since = o.clock.now() - timedelta(days=o.fraud_policy.velocity_window_days)
    registration = data.get(DataScope.REGISTRATION, {})
    court = data.get(DataScope.COURT, {})
    legal_rep = registration.get("legal_representative_id_number")
    registered = registration.get("registered_on")
    identifiers: dict[VelocityField, str | None] = {
        "phone": a.phone,
        "device_id": a.device_id,
        "ip_address": a.ip_address,
        "address": a.address,
    }
    counts = uow.applications.screening_counts(
        velocity={k: v for k, v in identifiers.items() if v is not None},
        phone=a.phone,
        id_number=a.id_number,
        since=since,
    )
    lists = uow.fraud_lists.lists_naming(uscc=a.uscc, id_number=a.id_number)
    velocity = counts.applications_by

    return fraud.FraudFacts(
        as_of=o.clock.today(),
        legal_representative_matches=None if legal_rep is None else legal_rep == a.id_number,
        on_internal_blacklist="blacklist" in lists,
        on_executed_person_list=bool(court.get("executed_person")) or "executed_person" in lists,
        applications_by_phone=velocity.get("phone", 0),
        applications_by_device=velocity.get("device_id", 0),
        applications_by_ip=velocity.get("ip_address", 0),
        applications_by_address=velocity.get("address", 0),
        enterprises_sharing_phone=counts.enterprises_sharing_phone,
        enterprises_sharing_id_number=counts.enterprises_sharing_id_number,
        registered_on=registered
        if isinstance(registered, date)
        else (date.fromisoformat(registered) if isinstance(registered, str) else None),
        requested_amount_fen=application.requested_amount_fen,
    )


def channel_of(application: Application) -> str:
    """How an application came in: a partner's key, an account manager, or the owner's phone.

    The names are the market's (``partner``, ``branch``, ``qr``: a scanned QR code opens the
    H5 application on the owner's phone), so models trained on it read them alike.
    """
    if application.partner_id is not None:
        return "partner"
    if application.account_manager_id is not None:
        return "branch"
    return "qr"


def _make_offer(o: Origination, application: Application, assessment: Assessment) -> Offer:
    if (
        assessment.limit_fen is None
        or assessment.annual_rate is None
        or assessment.term_months is None
    ):
        raise InvalidInput("an offer needs limit, annual rate and term")
    now = o.clock.now()
    return Offer(
        offer_id=new_id("ofr"),
        application_id=application.application_id,
        limit_fen=assessment.limit_fen,
        annual_rate=assessment.annual_rate,
        term_months=assessment.term_months,
        grade=assessment.grade,
        made_at=now,
        expires_at=now + o.offer_validity,
    )


def decision_record(
    application_id: str, decided_at: datetime, assessment: Assessment, hits: tuple[Reason, ...]
) -> DecisionRecord:
    """The stored record of an automatic assessment (after the anti-fraud policy)."""
    if assessment.evidence is None:
        raise InvalidInput("only an assessment with its evidence can be recorded")
    return DecisionRecord(
        application_id=application_id,
        decided_at=decided_at,
        evidence=assessment.evidence,
        outcome=assessment.outcome.value,
        reasons=assessment.reasons,
        grade=assessment.grade,
        limit_fen=assessment.limit_fen,
        annual_rate=None if assessment.annual_rate is None else str(assessment.annual_rate),
        term_months=assessment.term_months,
        pd=None if assessment.pd is None else str(assessment.pd),
        score=assessment.score,
        fraud_hits=tuple(h.code for h in hits),
        trace=assessment.trace,
    )


_OUTCOME_STATUS = {
    Outcome.APPROVE: S.OFFERED,
    Outcome.DECLINE: S.DECLINED,
    Outcome.REFER: S.REFERRED,
}


def assess_application(o: Origination, *, actor: Principal, application_id: str) -> ApplicationView:
    """Step 3: pull consented data, screen for fraud, ask the decision engine, record it.

    Asking again after a decision returns that decision: assessment happens once. The data
    pull, the screening and the decision run on a read-only snapshot, outside any write
    transaction (they are the slow part, and a real data provider answers over a network);
    the outcome is then written only if the application has not moved meanwhile.
    """
    require(actor, Permission.APPLICATION_ASSESS)
    with o.reading() as uow:
        application = _load(uow, actor, application_id)
        if application.status is not S.CONSENTED:
            if application.assessment is not None:
                return _view(uow, application)
            raise ConsentRequired(
                f"an application that is {application.status.value} cannot be assessed; "
                "the owner must consent first",
                details={"status": application.status.value},
            )
        consents = uow.consents.for_application(application_id)
        data = _pull(o, consents, application.applicant.uscc)
        hits = fraud.screen(_fraud_facts(o, uow, application, data), o.fraud_policy)
        earlier = uow.applications.earlier_of_enterprise(
            application.applicant.uscc, before=application.created_at
        )
    raw = o.assessor.assess(
        AssessmentRequest(
            application_id=application_id,
            uscc=application.applicant.uscc,
            requested_amount_fen=application.requested_amount_fen,
            as_of=o.clock.today(),
            data=data,
            fraud_hits=hits,
            requested_term_months=application.requested_term_months,
            channel=channel_of(application),
            earlier_applications=tuple(
                EarlierApplication(
                    application_date=a.created_at.date(),
                    channel=channel_of(a),
                    requested_amount_fen=a.requested_amount_fen,
                    requested_term_months=a.requested_term_months,
                )
                for a in earlier
            ),
        )
    )
    assessment = fraud.apply_policy(raw, hits)
    with o.uow_factory() as uow:
        current = _load(uow, actor, application_id)
        if current.version != application.version:
            # Another request decided it first (its decision stands), or the owner revoked
            # the consent meanwhile (nothing may be recorded from this pull).
            if current.assessment is not None:
                return _view(uow, current)
            raise ApplicationChanged(
                f"the application changed during its assessment and is now "
                f"{current.status.value}; ask again",
                details={"status": current.status.value},
            )
        now = o.clock.now()
        target = _OUTCOME_STATUS[assessment.outcome]
        assessed = application.moved_to(S.ASSESSED, at=now)
        final = replace(assessed.moved_to(target, at=now), assessment=assessment)
        # Two transitions, one row write: the intermediate state is recorded in the audit
        # trail, and nobody can observe it in the table mid-transaction anyway.
        uow.applications.update(final, expected_version=application.version)
        _audit_transition(
            uow, actor, application, S.ASSESSED, {"scopes_pulled": sorted(s.value for s in data)}
        )
        _audit_transition(
            uow,
            actor,
            assessed,
            target,
            {
                "outcome": assessment.outcome.value,
                "reasons": list(assessment.reasons),
                "grade": assessment.grade,
                "limit_fen": assessment.limit_fen,
            },
        )
        if assessment.evidence is not None:
            uow.decisions.add(decision_record(application_id, now, assessment, hits))
        offer = None
        if assessment.outcome is Outcome.APPROVE:
            offer = _make_offer(o, final, assessment)
            uow.offers.add(offer)
        view = ApplicationView(final, tuple(consents), offer, None)
        uow.commit()
    return view


def review_application(
    o: Origination,
    *,
    actor: Principal,
    application_id: str,
    approve: bool,
    note: str,
    limit_fen: int | None = None,
    annual_rate: Decimal | None = None,
    term_months: int | None = None,
) -> ApplicationView:
    """Step 4: an approver decides a referral; never the account manager who owns the customer."""
    require(actor, Permission.APPLICATION_REVIEW)
    if not note.strip():
        raise InvalidInput("a manual decision states its grounds", details={"field": "note"})
    with o.uow_factory() as uow:
        application = _load(uow, actor, application_id)
        if application.status is not S.REFERRED:
            raise InvalidTransition(
                f"only referred applications are reviewed; this one is {application.status.value}",
                details={"status": application.status.value},
            )
        if actor.user_id in (application.account_manager_id, application.applicant_user_id):
            raise FourEyesViolation(
                "the account manager who owns the customer may not decide the application"
            )
        proposed = application.assessment or Assessment(outcome=Outcome.REFER)
        if approve:
            decided = replace(
                proposed,
                outcome=Outcome.APPROVE,
                limit_fen=limit_fen if limit_fen is not None else proposed.limit_fen,
                annual_rate=annual_rate if annual_rate is not None else proposed.annual_rate,
                term_months=term_months if term_months is not None else proposed.term_months,
                trace={**proposed.trace, "manual_review": {"by": actor.user_id, "note": note}},
            )
        else:
            decided = replace(
                proposed,
                outcome=Outcome.DECLINE,
                reasons=(*proposed.reasons, MANUAL_DECLINE.code),
                trace={**proposed.trace, "manual_review": {"by": actor.user_id, "note": note}},
            )
        final = _transition(
            uow,
            actor,
            application,
            S.OFFERED if approve else S.DECLINED,
            o=o,
            payload={"manual": True, "note": note, "limit_fen": decided.limit_fen},
            assessment=decided,
            reviewed_by=actor.user_id,
        )
        if approve:
            uow.offers.add(_make_offer(o, final, decided))
        view = _view(uow, final)
        uow.commit()
    return view


def accept_offer(o: Origination, *, actor: Principal, application_id: str) -> ApplicationView:
    """Step 5: sign and accept the contract, then open the line in servicing.

    Two transactions around the servicing call: acceptance is committed first, the line is
    opened with the application id as idempotency key, and the application is marked. A crash
    in between leaves an accepted application; calling again completes it exactly once.
    """
    require(actor, Permission.OFFER_ACCEPT)
    now = o.clock.now()
    with o.uow_factory() as uow:
        application = _load(uow, actor, application_id)
        _ensure_owner(actor, application)
        if application.status is S.LINE_OPENED:
            return _view(uow, application)
        offer = uow.offers.for_application(application_id)
        if application.status is S.OFFERED:
            if offer is None:
                raise InvalidTransition("the application has no offer")
            if offer.is_expired(now):
                raise OfferExpired(
                    "the offer has expired; apply again",
                    details={"expired_at": offer.expires_at.isoformat()},
                )
            contract_no = f"HT{application.application_no[2:]}"
            text = render_contract(
                contract_no=contract_no,
                lender=o.lender_name,
                uscc=application.applicant.uscc,
                id_number=application.applicant.id_number,
                offer=offer,
            )
            digest = contract_digest(text)
            contract = Contract(
                contract_no=contract_no,
                application_id=application_id,
                text=text,
                sha256=digest,
                signature_hex=o.signer.sign(digest),
                signing_key_id=o.signer.key_id,
                signed_at=now,
                accepted_by=actor.user_id,
                accepted_at=now,
            )
            uow.contracts.add(contract)
            application = _transition(
                uow,
                actor,
                application,
                S.ACCEPTED,
                o=o,
                payload={"contract_no": contract_no, "contract_sha256": digest},
            )
            uow.commit()
        elif application.status is not S.ACCEPTED:
            raise InvalidTransition(
                f"an application that is {application.status.value} has no offer to accept",
                details={"status": application.status.value},
            )
        contract_or_none = uow.contracts.for_application(application_id)
    if offer is None or contract_or_none is None:
        raise InvalidTransition("the accepted application lacks its offer or contract")
    line_id = o.line_opener.open_line(
        LineOpening(
            idempotency_key=f"line-for-{application_id}",
            application_id=application_id,
            uscc=application.applicant.uscc,
            contract_no=contract_or_none.contract_no,
            limit_fen=offer.limit_fen,
            annual_rate=offer.annual_rate,
            term_months=offer.term_months,
            opened_on=o.clock.today(),
        )
    )
    with o.uow_factory() as uow:
        current = _load(uow, actor, application_id)
        if current.status is S.ACCEPTED:
            current = _transition(
                uow,
                actor,
                current,
                S.LINE_OPENED,
                o=o,
                payload={"credit_line_id": line_id},
                credit_line_id=line_id,
            )
        view = _view(uow, current)
        uow.commit()
    return view


def add_to_fraud_list(
    o: Origination,
    *,
    actor: Principal,
    list_name: str,
    uscc: str | None,
    id_number: str | None,
    note: str,
) -> None:
    """Risk officers maintain the internal blacklist and the executed-person list."""
    require(actor, Permission.FRAUD_LIST_MANAGE)
    if list_name not in ("blacklist", "executed_person"):
        raise InvalidInput("the list is blacklist or executed_person", details={"field": "list"})
    if uscc is None and id_number is None:
        raise InvalidInput("a list entry names an enterprise or a person")
    code = validate_uscc(uscc) if uscc else None
    person = validate_id_number(id_number) if id_number else None
    with o.uow_factory() as uow:
        uow.fraud_lists.add(
            "blacklist" if list_name == "blacklist" else "executed_person",
            uscc=code,
            id_number=person,
            note=note,
        )
        audit.record(
            uow,
            actor=actor.audit_name(),
            action=f"fraud_list.{list_name}.added",
            entity="fraud_list",
            entity_id=code or "person",
            payload={"uscc": code, "note": note},
        )
        uow.commit()
