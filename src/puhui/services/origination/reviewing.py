"""Manual review (four eyes) and acceptance: sign the contract, open the credit line."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from puhui.domain.errors import InvalidInput
from puhui.domain.origination.application import ApplicationStatus
from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.domain.origination.contract import Contract, contract_digest, render_contract
from puhui.domain.origination.errors import (
    FourEyesViolation,
    InvalidTransition,
    OfferExpired,
)
from puhui.domain.origination.reasons import MANUAL_DECLINE
from puhui.services.origination.context import (
    ApplicationView,
    Origination,
    ensure_owner,
    load_visible,
    make_offer,
    transition,
    view_of,
)
from puhui.services.origination.ports import (
    LineOpening,
)
from puhui.services.security.permissions import Permission, Principal, require


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
            contract_no = f"HT{application.application_no[2:]}"
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
    if offer is None or contract_or_none is None:
        raise InvalidTransition("the accepted application lacks its offer or contract")
    line_id = origination.line_opener.open_line(
        LineOpening(
            idempotency_key=f"line-for-{application_id}",
            application_id=application_id,
            uscc=application.applicant.uscc,
            contract_no=contract_or_none.contract_no,
            limit_fen=offer.limit_fen,
            annual_rate=offer.annual_rate,
            term_months=offer.term_months,
            opened_on=origination.clock.today(),
        )
    )
    with origination.uow_factory() as uow:
        current = load_visible(uow, actor, application_id)
        if current.status is ApplicationStatus.ACCEPTED:
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
