"""Origination's collaborators, the views its use cases return, and the rules they share.

Who may see an application, how it moves between statuses (audited), who owns it, and
the offer an approval makes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from puhui.domain.audit import AuditRecord
from puhui.domain.clock import Clock
from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.ids import new_id
from puhui.domain.origination import fraud
from puhui.domain.origination.application import Application, ApplicationStatus
from puhui.domain.origination.assessment import Assessment
from puhui.domain.origination.consent import Consent
from puhui.domain.origination.contract import Contract
from puhui.domain.origination.errors import Forbidden
from puhui.domain.origination.offer import Offer
from puhui.services.origination.ports import (
    Assessor,
    CreditLineOpener,
    DataSource,
    OfferBounds,
    OriginationUnitOfWork,
    RelationshipGraph,
    Signer,
    TermBound,
)
from puhui.services.security.permissions import Principal, Role

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
    offer_bounds: tuple[OfferBounds, ...] = ()
    """Sources of offer bounds beyond the line opener's product (the strategy's pricing)."""
    graph: RelationshipGraph | None = None
    """The relationship graph checked online (anti-fraud's second layer); ``None``: not
    configured, and every decision's trace says the graph was unavailable."""
    graph_policy: fraud.GraphPolicy = field(default_factory=fraud.GraphPolicy)
    on_created: Callable[[Application], None] | None = None
    """Told of each application once it is stored (the prospects' fast-track links it to the
    enterprise's live pre-approval); it must not fail: the application is already made."""
    decide_in_one_transaction: bool = False
    """Assess in the writing transaction itself (PostgreSQL) instead of reading a snapshot
    first and writing in a second transaction (SQLite, whose single writer lock must not be
    held while the decision engine runs). Row locks are per application on PostgreSQL, so
    one transaction costs nobody else anything and saves a transaction's round trips."""

    def bounds_on(self, as_of: date) -> tuple[TermBound, ...]:
        """Every bound an offer made on ``as_of`` keeps: the product's, then the others'.

        The line opener's product always counts when the opener knows it: the line opens on
        that product, so an offer outside it could be signed but never opened.
        """
        sources: list[OfferBounds] = []
        opener: object = self.line_opener
        if isinstance(opener, OfferBounds):
            sources.append(opener)
        sources.extend(s for s in self.offer_bounds if s is not opener)
        return tuple(bound for source in sources for bound in source.offer_bounds(as_of))

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
    channel: str | None = None
    """A channel code (``h5_qr``, ``branch``…); None takes the actor's usual channel."""
    branch_code: str | None = None
    partner_score: int | None = None
    """A referring partner's risk score of the applicant (0-1000): a strategy input."""


@dataclass(frozen=True, slots=True)
class ApplicationView:
    """An application with what the owner and staff see alongside it."""

    application: Application
    consents: tuple[Consent, ...] = ()
    offer: Offer | None = None
    contract: Contract | None = None


def ensure_visible(actor: Principal, application: Application) -> None:
    """Applicants see their own, partners their referrals; others get "not found"."""
    if actor.is_staff:
        return
    if actor.role is Role.APPLICANT and application.applicant_user_id == actor.user_id:
        return
    if actor.role is Role.PARTNER and application.partner_id == actor.partner_id:
        return
    raise NotFound("no such application", details={"application_id": application.application_id})


def load_visible(uow: OriginationUnitOfWork, actor: Principal, application_id: str) -> Application:
    application = uow.applications.get(application_id)
    if application is None:
        raise NotFound("no such application", details={"application_id": application_id})
    ensure_visible(actor, application)
    return application


def view_of(uow: OriginationUnitOfWork, application: Application) -> ApplicationView:
    app_id = application.application_id
    return ApplicationView(
        application=application,
        consents=tuple(uow.consents.for_application(app_id)),
        offer=uow.offers.for_application(app_id),
        contract=uow.contracts.for_application(app_id),
    )


def transition(
    uow: OriginationUnitOfWork,
    actor: Principal,
    application: Application,
    target: ApplicationStatus,
    *,
    origination: Origination,
    payload: Mapping[str, Any] | None = None,
    **changes: Any,
) -> Application:
    moved = replace(application.moved_to(target, at=origination.clock.now()), **changes)
    uow.applications.update(moved, previous=application)
    audit_transition(uow, actor, application, target, payload)
    return moved


def audit_transition(
    uow: OriginationUnitOfWork,
    actor: Principal,
    application: Application,
    target: ApplicationStatus,
    payload: Mapping[str, Any] | None,
) -> None:
    uow.audit.append(transition_record(actor, application, target, payload))


def transition_record(
    actor: Principal,
    application: Application,
    target: ApplicationStatus,
    payload: Mapping[str, Any] | None,
) -> AuditRecord:
    """The audit record of ``application`` moving to ``target`` (``audit.record_all`` writes
    several at once)."""
    return AuditRecord(
        actor=actor.audit_name(),
        action=f"application.{target.value}",
        entity=ENTITY,
        entity_id=application.application_id,
        payload={"from": application.status.value, "to": target.value, **(payload or {})},
    )


def ensure_owner(actor: Principal, application: Application) -> None:
    if actor.role is not Role.APPLICANT or application.applicant_user_id != actor.user_id:
        raise Forbidden("only the owner who applied may do this")


def make_offer(origination: Origination, application: Application, assessment: Assessment) -> Offer:
    """The offer an approving assessment makes, valid for ``offer_validity``."""
    if (
        assessment.limit_fen is None
        or assessment.annual_rate is None
        or assessment.term_months is None
    ):
        raise InvalidInput("an offer needs limit, annual rate and term")
    now = origination.clock.now()
    return Offer(
        offer_id=new_id("ofr"),
        application_id=application.application_id,
        limit_fen=assessment.limit_fen,
        annual_rate=assessment.annual_rate,
        term_months=assessment.term_months,
        grade=assessment.grade,
        made_at=now,
        expires_at=now + origination.offer_validity,
    )
