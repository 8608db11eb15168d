"""Manual review (four eyes) and acceptance: sign the contract, open the credit line.

An offer keeps every bound before anything is signed: the product the line opens on, the
LPR floor and the legal cap of the licence type, the strategy's limits. A line servicing
still refuses leaves the application ``line_failed``, which staff retry or cancel; it never
blocks a new application of the enterprise.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from puhui.domain.errors import InvalidInput, PuhuiError
from puhui.domain.lending.integer_interest import check_rate_places
from puhui.domain.origination.application import Application, ApplicationStatus
from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.domain.origination.contract import Contract, contract_digest, render_contract
from puhui.domain.origination.errors import (
    FourEyesViolation,
    InvalidTransition,
    LineOpeningFailed,
    OfferExpired,
    OfferOutOfBounds,
)
from puhui.domain.origination.offer import Offer
from puhui.domain.origination.reasons import MANUAL_DECLINE
from puhui.services import audit
from puhui.services.origination.context import (
    ENTITY,
    ApplicationView,
    Origination,
    ensure_owner,
    load_visible,
    make_offer,
    transition,
    view_of,
)
from puhui.services.origination.owner_views import contract_number
from puhui.services.origination.ports import (
    ApplicationRepository,
    LineOpening,
    TermBound,
)
from puhui.services.security.permissions import Permission, Principal, require

logger = logging.getLogger(__name__)

_INTEGER_FIELDS = frozenset({"limit_fen", "term_months"})


def _shown(field: str, value: Decimal | None) -> int | str | None:
    """A bound or value as the error shows it: fen and months as integers, rates as text."""
    if value is None:
        return None
    return int(value) if field in _INTEGER_FIELDS else str(value)


def check_offer_terms(
    bounds: Iterable[TermBound], *, limit_fen: int, annual_rate: Decimal, term_months: int
) -> None:
    """Refuse terms outside any bound, naming the first one broken (and listing all of them)."""
    if isinstance(limit_fen, bool) or not isinstance(limit_fen, int) or limit_fen <= 0:
        raise InvalidInput("a limit is a positive number of fen", details={"field": "limit_fen"})
    if isinstance(term_months, bool) or not isinstance(term_months, int) or term_months <= 0:
        raise InvalidInput(
            "a term is a positive number of months", details={"field": "term_months"}
        )
    if not annual_rate.is_finite() or annual_rate <= 0:
        raise InvalidInput("an annual rate is positive", details={"field": "annual_rate"})
    check_rate_places(annual_rate)
    values = {
        "limit_fen": Decimal(limit_fen),
        "annual_rate": annual_rate,
        "term_months": Decimal(term_months),
    }
    broken: list[dict[str, Any]] = [
        {
            "field": bound.field,
            "value": _shown(bound.field, values[bound.field]),
            "bound": bound.bound,
            "minimum": _shown(bound.field, bound.minimum),
            "maximum": _shown(bound.field, bound.maximum),
        }
        for bound in bounds
        if not bound.admits(values[bound.field])
    ]
    if broken:
        first = broken[0]
        allowed = f"{first['minimum'] if first['minimum'] is not None else '-inf'} to " + (
            f"{first['maximum'] if first['maximum'] is not None else 'inf'}"
        )
        raise OfferOutOfBounds(
            f"{first['field']} {first['value']} is outside {first['bound']}: allowed {allowed}",
            details={**first, "violations": broken},
        )


def review_bounds(origination: Origination, *, actor: Principal) -> tuple[TermBound, ...]:
    """The bounds an approval made today must keep (what the review form shows)."""
    require(actor, Permission.APPLICATION_REVIEW)
    return origination.bounds_on(origination.clock.today())


def review_application(
    origination: Origination,
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
    # Read the bounds before taking the write lock (the strategy's may need a query).
    bounds = origination.bounds_on(origination.clock.today()) if approve else ()
    with origination.uow_factory() as uow:
        application = load_visible(uow, actor, application_id)
        if application.status is not ApplicationStatus.REFERRED:
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
            if (
                decided.limit_fen is None
                or decided.annual_rate is None
                or decided.term_months is None
            ):
                raise InvalidInput(
                    "an approval names the limit, the annual rate and the term",
                    details={
                        "missing": [
                            name
                            for name in ("limit_fen", "annual_rate", "term_months")
                            if getattr(decided, name) is None
                        ]
                    },
                )
            check_offer_terms(
                bounds,
                limit_fen=decided.limit_fen,
                annual_rate=decided.annual_rate,
                term_months=decided.term_months,
            )
        else:
            decided = replace(
                proposed,
                outcome=Outcome.DECLINE,
                reasons=(*proposed.reasons, MANUAL_DECLINE.code),
                trace={**proposed.trace, "manual_review": {"by": actor.user_id, "note": note}},
            )
        final = transition(
            uow,
            actor,
            application,
            ApplicationStatus.OFFERED if approve else ApplicationStatus.DECLINED,
            origination=origination,
            payload={"manual": True, "note": note, "limit_fen": decided.limit_fen},
            assessment=decided,
            reviewed_by=actor.user_id,
        )
        if approve:
            uow.offers.add(make_offer(origination, final, decided))
        view = view_of(uow, final)
        uow.commit()
    return view


def accept_offer(
    origination: Origination, *, actor: Principal, application_id: str
) -> ApplicationView:
    """Step 5: sign and accept the contract, then open the line in servicing.

    Two transactions around the servicing call: acceptance is committed first, the line is
    opened with the application id as idempotency key, and the application is marked. A crash
    in between leaves an accepted application; calling again completes it exactly once.
    """
    require(actor, Permission.OFFER_ACCEPT)
    now = origination.clock.now()
    with origination.uow_factory() as uow:
        application = load_visible(uow, actor, application_id)
        ensure_owner(actor, application)
        if application.status is ApplicationStatus.LINE_OPENED:
            return view_of(uow, application)
        offer = uow.offers.for_application(application_id)
        if application.status is ApplicationStatus.OFFERED:
            if offer is None:
                raise InvalidTransition("the application has no offer")
            if offer.is_expired(now):
                raise OfferExpired(
                    "the offer has expired; apply again",
                    details={"expired_at": offer.expires_at.isoformat()},
                )
            # The offer keeps its bounds before anything is signed (an automatic offer too).
            check_offer_terms(
                origination.bounds_on(offer.made_at.date()),
                limit_fen=offer.limit_fen,
                annual_rate=offer.annual_rate,
                term_months=offer.term_months,
            )
            contract_no = contract_number(application.application_no)
            text = render_contract(
                contract_no=contract_no,
                lender=origination.lender_name,
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
                signature_hex=origination.signer.sign(digest),
                signing_key_id=origination.signer.key_id,
                signed_at=now,
                accepted_by=actor.user_id,
                accepted_at=now,
            )
            uow.contracts.add(contract)
            application = transition(
                uow,
                actor,
                application,
                ApplicationStatus.ACCEPTED,
                origination=origination,
                payload={"contract_no": contract_no, "contract_sha256": digest},
            )
            uow.commit()
        elif application.status is not ApplicationStatus.ACCEPTED:
            raise InvalidTransition(
                f"an application that is {application.status.value} has no offer to accept",
                details={"status": application.status.value},
            )
        contract_or_none = uow.contracts.for_application(application_id)
    return _open_line(origination, actor, application, offer, contract_or_none)


def _open_line(
    origination: Origination,
    actor: Principal,
    application: Application,
    offer: Offer | None,
    contract: Contract | None,
) -> ApplicationView:
    """Open the line an accepted contract grants; a refusal marks the application failed.

    Servicing's refusals (a ``PuhuiError``: the product's bounds, a conflict) move the
    application to ``line_failed`` and raise ``LineOpeningFailed``. Anything else (a crash,
    the database gone) leaves it accepted, and asking again completes it exactly once.
    """
    application_id = application.application_id
    if offer is None or contract is None:
        raise InvalidTransition("the accepted application lacks its offer or contract")
    try:
        line_id = origination.line_opener.open_line(
            LineOpening(
                idempotency_key=f"line-for-{application_id}",
                application_id=application_id,
                uscc=application.applicant.uscc,
                contract_no=contract.contract_no,
                limit_fen=offer.limit_fen,
                annual_rate=offer.annual_rate,
                term_months=offer.term_months,
                opened_on=origination.clock.today(),
            )
        )
    except PuhuiError as refused:
        _record_line_failure(origination, actor, application_id, refused)
        raise LineOpeningFailed(
            "the contract is signed but the credit line could not be opened; "
            "staff will retry or cancel the application",
            details={
                "application_id": application_id,
                "status": ApplicationStatus.LINE_FAILED.value,
                "cause": refused.code,
            },
        ) from refused
    with origination.uow_factory() as uow:
        current = load_visible(uow, actor, application_id)
        if current.status in (ApplicationStatus.ACCEPTED, ApplicationStatus.LINE_FAILED):
            current = transition(
                uow,
                actor,
                current,
                ApplicationStatus.LINE_OPENED,
                origination=origination,
                payload={"credit_line_id": line_id},
                credit_line_id=line_id,
            )
        view = view_of(uow, current)
        uow.commit()
    return view


def _record_line_failure(
    origination: Origination, actor: Principal, application_id: str, refused: PuhuiError
) -> None:
    """Move an accepted application to ``line_failed`` (a failed retry is audited only)."""
    payload = {"cause": refused.code, "message": refused.message}
    logger.warning("credit line for application %s refused: %s", application_id, refused.code)
    with origination.uow_factory() as uow:
        current = load_visible(uow, actor, application_id)
        if current.status is ApplicationStatus.ACCEPTED:
            transition(
                uow,
                actor,
                current,
                ApplicationStatus.LINE_FAILED,
                origination=origination,
                payload=payload,
            )
        else:
            audit.record(
                uow,
                actor=actor.audit_name(),
                action="application.line_opening_refused",
                entity=ENTITY,
                entity_id=application_id,
                payload={"status": current.status.value, **payload},
            )
        uow.commit()


def retry_line_opening(
    origination: Origination, *, actor: Principal, application_id: str
) -> ApplicationView:
    """Staff ask servicing again to open the line of a failed (or stuck accepted) application.

    Refused while a newer application of the enterprise is open or has opened its line: the
    enterprise would hold two lines for one need; cancel this one instead.
    """
    require(actor, Permission.APPLICATION_REVIEW)
    with origination.uow_factory() as uow:
        application = load_visible(uow, actor, application_id)
        if application.status is ApplicationStatus.LINE_OPENED:
            return view_of(uow, application)
        if application.status not in (ApplicationStatus.LINE_FAILED, ApplicationStatus.ACCEPTED):
            raise InvalidTransition(
                f"only a failed line opening is retried; this application is "
                f"{application.status.value}",
                details={"status": application.status.value},
            )
        _ensure_no_newer_application(origination, uow.applications, application)
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="application.line_opening_retried",
            entity=ENTITY,
            entity_id=application_id,
            payload={"status": application.status.value},
        )
        offer = uow.offers.for_application(application_id)
        contract = uow.contracts.for_application(application_id)
        uow.commit()
    return _open_line(origination, actor, application, offer, contract)


def _ensure_no_newer_application(
    origination: Origination, applications: ApplicationRepository, application: Application
) -> None:
    horizon = origination.clock.now() + timedelta(days=1)
    for other in applications.earlier_of_enterprise(application.applicant.uscc, before=horizon):
        if other.application_id == application.application_id:
            continue
        newer = other.created_at >= application.created_at
        if newer and (other.is_open or other.status is ApplicationStatus.LINE_OPENED):
            raise InvalidTransition(
                "a newer application of the enterprise is open or has its line; "
                "cancel this one instead",
                details={"status": application.status.value, "newer": other.application_id},
            )


def cancel_application(
    origination: Origination, *, actor: Principal, application_id: str, note: str
) -> ApplicationView:
    """Staff cancel an application whose line servicing would not open (audited, with grounds)."""
    require(actor, Permission.APPLICATION_REVIEW)
    if not note.strip():
        raise InvalidInput("a cancellation states its grounds", details={"field": "note"})
    with origination.uow_factory() as uow:
        application = load_visible(uow, actor, application_id)
        if application.status is ApplicationStatus.CANCELLED:
            return view_of(uow, application)
        if application.status is not ApplicationStatus.LINE_FAILED:
            raise InvalidTransition(
                f"only an application whose line failed to open is cancelled; this one is "
                f"{application.status.value}",
                details={"status": application.status.value},
            )
        cancelled = transition(
            uow,
            actor,
            application,
            ApplicationStatus.CANCELLED,
            origination=origination,
            payload={"note": note},
        )
        view = view_of(uow, cancelled)
        uow.commit()
    return view
