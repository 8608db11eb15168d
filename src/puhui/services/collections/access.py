"""Who may do what in collections, write-offs and concentration (the API's entry points).

Collectors are account managers and operations staff; operations and risk officers hand cases
out; risk officers decide write-offs (never their own proposal) and read concentration;
auditors read. Contact notes are shown to those who work cases; readers see them masked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from puhui.domain.clock import Clock
from puhui.domain.errors import NotFound
from puhui.domain.monitoring.collection import (
    ContactChannel,
    ContactResult,
    WriteOffStatus,
)
from puhui.services import concentration
from puhui.services.collections import cases, write_offs
from puhui.services.collections.ports import (
    CollectionCase,
    CollectionsUnitOfWork,
    QueueFilter,
    StoredContact,
    StoredPromise,
    StoredProposal,
)
from puhui.services.concentration_ports import StoredEvaluation
from puhui.services.origination.credit_access import scoped_key
from puhui.services.security.permissions import Permission, Principal, require

MASKED_NOTE = "***"


@dataclass(frozen=True)
class PostLoanAccess:
    """The collaborators of the collections, write-off and concentration routes."""

    units: Callable[[], CollectionsUnitOfWork]
    clock: Clock
    concentration: concentration.Concentration


def queue(access: PostLoanAccess, *, actor: Principal, query: QueueFilter) -> cases.QueuePage:
    require(actor, Permission.COLLECTIONS_READ)
    return cases.queue_page(access.units, query)


def count_my_cases(access: PostLoanAccess, *, actor: Principal) -> int:
    """The open collection cases the user holds (claimed, or given to them)."""
    require(actor, Permission.COLLECTIONS_WORK)
    with access.units() as uow:
        return uow.collections.count_held(actor.audit_name())


def _masked(actor: Principal, contacts: list[StoredContact]) -> list[StoredContact]:
    if actor.can(Permission.COLLECTIONS_WORK):
        return contacts
    return [replace(c, note=MASKED_NOTE if c.note else "") for c in contacts]


def case_detail(access: PostLoanAccess, *, actor: Principal, case_id: str) -> cases.CaseDetail:
    require(actor, Permission.COLLECTIONS_READ)
    detail = cases.case_detail(access.units, case_id)
    return replace(detail, contacts=_masked(actor, detail.contacts))


def claim(access: PostLoanAccess, *, actor: Principal, case_id: str) -> CollectionCase:
    require(actor, Permission.COLLECTIONS_WORK)
    name = actor.audit_name()
    return cases.assign(
        access.units, case_id, assignee=name, actor=name, clock=access.clock, claim=True
    )


def assign(
    access: PostLoanAccess, *, actor: Principal, case_id: str, assignee: str
) -> CollectionCase:
    require(actor, Permission.COLLECTIONS_ASSIGN)
    return cases.assign(
        access.units, case_id, assignee=assignee, actor=actor.audit_name(), clock=access.clock
    )


def record_contact(
    access: PostLoanAccess,
    *,
    actor: Principal,
    case_id: str,
    channel: ContactChannel,
    result: ContactResult,
    contacted_at: datetime,
    note: str,
    idempotency_key: str,
) -> StoredContact:
    require(actor, Permission.COLLECTIONS_WORK)
    done = cases.record_contact(
        access.units,
        case_id,
        channel=channel,
        result=result,
        contacted_at=contacted_at,
        note=note,
        actor=actor.audit_name(),
        idempotency_key=scoped_key(actor, idempotency_key),
        clock=access.clock,
    )
    found = cases.case_detail(access.units, case_id).contacts
    return next(c for c in found if c.contact_id == done.entity_id)


def promise(
    access: PostLoanAccess,
    *,
    actor: Principal,
    case_id: str,
    amount_fen: int,
    promised_on: date,
    grace_days: int,
    idempotency_key: str,
) -> StoredPromise:
    require(actor, Permission.COLLECTIONS_WORK)
    done = cases.promise_to_pay(
        access.units,
        case_id,
        amount_fen=amount_fen,
        promised_on=promised_on,
        grace_days=grace_days,
        actor=actor.audit_name(),
        idempotency_key=scoped_key(actor, idempotency_key),
        clock=access.clock,
    )
    found = cases.case_detail(access.units, case_id).promises
    return next(p for p in found if p.promise_id == done.entity_id)


def propose_write_off(
    access: PostLoanAccess, *, actor: Principal, receipt_id: str, reason: str, idempotency_key: str
) -> StoredProposal:
    require(actor, Permission.COLLECTIONS_WORK)
    done = write_offs.propose(
        access.units,
        receipt_id,
        reason=reason,
        actor=actor.audit_name(),
        idempotency_key=scoped_key(actor, idempotency_key),
        clock=access.clock,
    )
    return write_offs.get_proposal(access.units, done.entity_id)


def decide_write_off(
    access: PostLoanAccess,
    *,
    actor: Principal,
    proposal_id: str,
    approve: bool,
    note: str | None,
    idempotency_key: str,
) -> StoredProposal:
    require(actor, Permission.WRITE_OFF_DECIDE)
    decide = write_offs.approve if approve else write_offs.reject
    decide(
        access.units,
        proposal_id,
        actor=actor.audit_name(),
        idempotency_key=scoped_key(actor, idempotency_key),
        clock=access.clock,
        note=note,
    )
    return write_offs.get_proposal(access.units, proposal_id)


def get_write_off(access: PostLoanAccess, *, actor: Principal, proposal_id: str) -> StoredProposal:
    require(actor, Permission.COLLECTIONS_READ)
    return write_offs.get_proposal(access.units, proposal_id)


def list_write_offs(
    access: PostLoanAccess, *, actor: Principal, status: WriteOffStatus | None, limit: int
) -> list[StoredProposal]:
    require(actor, Permission.COLLECTIONS_READ)
    return write_offs.list_proposals(access.units, status, limit=limit)


def latest_concentration(access: PostLoanAccess, *, actor: Principal) -> StoredEvaluation:
    require(actor, Permission.CONCENTRATION_READ)
    found = concentration.latest(access.concentration)
    if found is None:
        raise NotFound("no concentration evaluation has run yet")
    return found
