"""Applying and consent: a new application (idempotent), consent given and revoked."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta

from puhui.domain.audit import AuditRecord, canonical_json
from puhui.domain.errors import IdempotencyConflict, InvalidInput, NotFound
from puhui.domain.ids import new_id
from puhui.domain.origination.application import Applicant, Application, ApplicationStatus
from puhui.domain.origination.channel import Channel
from puhui.domain.origination.consent import Consent, DataScope
from puhui.domain.origination.errors import (
    ApplicationNumberTaken,
    DuplicateApplication,
    Forbidden,
    InvalidTransition,
)
from puhui.services import audit
from puhui.services.origination.context import (
    ENTITY,
    NewApplication,
    Origination,
    ensure_owner,
    load_visible,
    transition,
    transition_record,
)
from puhui.services.origination.origin import origin_of
from puhui.services.origination.ports import (
    IdempotencyRecord,
)
from puhui.services.security.accounts import ensure_applicant
from puhui.services.security.permissions import Permission, Principal, Role, require

logger = logging.getLogger(__name__)


def _request_hash(origination: Origination, request: NewApplication) -> str:
    body = canonical_json({k: getattr(request, k) for k in request.__dataclass_fields__})
    return hmac.new(origination.request_hash_key, body.encode(), hashlib.sha256).hexdigest()


def _application_no(today: date) -> str:
    return f"PH{today:%Y%m%d}{secrets.randbelow(10**8):08d}"


NUMBER_DRAWS = 5
"""Attempts at a free application number: with 10^8 numbers a day, two in a row are rare."""


def create_application(
    origination: Origination,
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
    channel, branch_code = origin_of(
        actor, channel=request.channel, branch_code=request.branch_code
    )
    scope = f"applications.create:{actor.user_id}"
    request_hash = _request_hash(origination, request)
    for draw in range(NUMBER_DRAWS):
        try:
            created = _create_once(
                origination,
                actor=actor,
                applicant=applicant,
                request=request,
                origin=(channel, branch_code),
                scope=scope,
                request_hash=request_hash,
                idempotency_key=idempotency_key,
            )
        except ApplicationNumberTaken:
            # The whole unit of work rolled back; draw another number and apply again.
            logger.warning("application number drawn twice (attempt %d); drawing again", draw + 1)
            continue
        if origination.on_created is not None:
            origination.on_created(created)
        return created
    raise ApplicationNumberTaken(f"no free application number after {NUMBER_DRAWS} draws")


def _create_once(
    origination: Origination,
    *,
    actor: Principal,
    applicant: Applicant,
    request: NewApplication,
    origin: tuple[Channel, str | None],
    scope: str,
    request_hash: str,
    idempotency_key: str | None,
) -> Application:
    now = origination.clock.now()
    with origination.uow_factory() as uow:
        if idempotency_key is not None:
            seen = uow.idempotency.get(scope, idempotency_key)
            if seen is not None:
                if not hmac.compare_digest(seen.request_hash, request_hash):
                    raise IdempotencyConflict(
                        "this idempotency key was used with a different request",
                        details={"idempotency_key": idempotency_key},
                    )
                return load_visible(uow, actor, seen.resource_id)
        if actor.role is Role.APPLICANT:
            owner = uow.users.get(actor.user_id)
            if owner is None or owner.phone != applicant.phone:
                raise Forbidden(
                    "an applicant applies with the phone number they signed in with",
                    details={"field": "phone"},
                )
        else:
            owner = ensure_applicant(uow, phone=applicant.phone, at_clock=origination.clock)
        existing = uow.applications.find_open_for_enterprise(applicant.uscc)
        if existing is not None and existing.status is ApplicationStatus.OFFERED:
            offer = uow.offers.for_application(existing.application_id)
            if offer is not None and offer.is_expired(now):
                transition(uow, actor, existing, ApplicationStatus.EXPIRED, origination=origination)
                existing = None
        if existing is not None:
            raise DuplicateApplication(
                "the enterprise already has an open application",
                details={"uscc": applicant.uscc},
            )
        application = Application(
            application_id=new_id("app"),
            application_no=_application_no(origination.clock.today()),
            applicant=applicant,
            requested_amount_fen=request.requested_amount_fen,
            requested_term_months=request.requested_term_months,
            status=ApplicationStatus.CREATED,
            created_at=now,
            updated_at=now,
            applicant_user_id=owner.user_id,
            account_manager_id=actor.user_id if actor.role is Role.ACCOUNT_MANAGER else None,
            partner_id=actor.partner_id if actor.role is Role.PARTNER else None,
            channel=origin[0],
            branch_code=origin[1],
            partner_score=request.partner_score,
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
                "channel": origin[0].value,
                "branch_code": origin[1],
                "partner_score": request.partner_score,
            },
        )
        uow.commit()
    logger.info("application %s created", application.application_no)
    return application


def give_consent(
    origination: Origination,
    *,
    actor: Principal,
    application_id: str,
    scopes: Iterable[DataScope],
    purpose: str,
    valid_days: int = 90,
) -> Consent:
    """Step 2: the owner authorises data pulls for a purpose, until an expiry."""
    require(actor, Permission.CONSENT_MANAGE)
    now = origination.clock.now()
    if not 1 <= valid_days <= 366:
        raise InvalidInput("a consent lasts 1 to 366 days", details={"field": "valid_days"})
    with origination.uow_factory() as uow:
        application = load_visible(uow, actor, application_id)
        ensure_owner(actor, application)
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
        records = [
            AuditRecord(
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
        ]
        if application.status is ApplicationStatus.CREATED:
            consented = application.moved_to(ApplicationStatus.CONSENTED, at=now)
            uow.applications.update(consented, previous=application)
            records.append(transition_record(actor, application, ApplicationStatus.CONSENTED, None))
        # The grant and the move in one append (one round trip for their numbers).
        audit.record_all(uow, records)
        uow.commit()
    return consent


def revoke_consent(
    origination: Origination, *, actor: Principal, application_id: str, consent_id: str
) -> Consent:
    """Revocation is honoured at once: no further pull uses this consent."""
    require(actor, Permission.CONSENT_MANAGE)
    now = origination.clock.now()
    with origination.uow_factory() as uow:
        application = load_visible(uow, actor, application_id)
        ensure_owner(actor, application)
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
        if application.status is ApplicationStatus.CONSENTED and not still_active:
            transition(uow, actor, application, ApplicationStatus.CREATED, origination=origination)
        uow.commit()
    return revoked
