"""Fast-track and conversion: an application made by a prospect, and how it ended.

Fast-track here means three things (ADR 0033): the application is linked to the prospect
(the prospect becomes ``applied``), reviewers get the fast-track queue (applications from
prospects still open, in the run's priority order, with the pre-approved limit, rate and
validity beside them) to take before the walk-in queue, and the outcome is recorded on the
prospect as its conversion (approved with the offered limit, or declined).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from puhui.domain.errors import ConfigurationError, Conflict, InvalidInput, NotFound
from puhui.domain.lending.schedule import add_months
from puhui.domain.origination.application import Application
from puhui.domain.prospects import ProspectStatus
from puhui.services.prospects.access import ProspectAccess, require_worker, taker
from puhui.services.prospects.ports import (
    ApplicationOutcome,
    ApplicationOutcomes,
    Conversion,
    ProspectRecord,
    ProspectsUnitOfWork,
)
from puhui.services.prospects.queue import is_live, require_live, require_prospect, save_change
from puhui.services.security.permissions import SYSTEM, Permission, Principal, require

logger = logging.getLogger(__name__)

APPROVED = frozenset({"offered", "accepted", "line_opened", "line_failed"})
"""Application statuses that mean the bank said yes (an offer was made)."""
DECLINED = frozenset({"declined"})
OPEN = frozenset({"created", "consented", "assessed", "referred"})
"""Still to be decided: the fast-track queue shows these."""
MAX_PAGE = 200


def _outcomes(access: ProspectAccess) -> ApplicationOutcomes:
    if access.outcomes is None:
        raise ConfigurationError("applications are not wired to prospects here")
    return access.outcomes


def conversion_of(outcome: ApplicationOutcome) -> Conversion | None:
    if outcome.status in APPROVED:
        return Conversion.APPROVED
    if outcome.status in DECLINED:
        return Conversion.DECLINED
    return None


def link_application(
    access: ProspectAccess, *, actor: Principal, prospect_id: str, application_id: str
) -> ProspectRecord:
    """The prospect applied: its application (same enterprise) is linked and fast-tracked."""
    require(actor, Permission.PROSPECT_WORK)
    outcome = _outcomes(access).outcome(application_id)
    if outcome is None:
        raise NotFound("no such application", details={"application_id": application_id})
    now = access.clock.now()
    with access.units() as uow:
        stored = require_prospect(uow, prospect_id)
        require_worker(actor, stored)
        if stored.application_id == application_id:
            return stored
        if stored.application_id is not None:
            raise Conflict(
                "the prospect is linked to another application already",
                details={"application_id": stored.application_id},
            )
        require_live(stored, access.clock.today())
        if outcome.uscc != stored.row.uscc:
            raise InvalidInput(
                "the application is from another enterprise than the prospect",
                details={"field": "application_id"},
            )
        if uow.prospects.by_application(application_id) is not None:
            raise Conflict(
                "the application is linked to another prospect",
                details={"application_id": application_id},
            )
        changed = replace(
            stored,
            status=ProspectStatus.APPLIED,
            application_id=application_id,
            applied_at=now,
            assigned_to=stored.assigned_to or taker(actor),
            updated_at=now,
            version=stored.version + 1,
        )
        save_change(
            uow,
            actor,
            stored,
            changed,
            "applied",
            detail=application_id,
            payload={"application_id": application_id},
        )
        converted = _convert(uow, actor, changed, outcome, access)
        uow.commit()
    return converted or changed


LIVE_LISTS_MONTHS = 14
"""Lists that may still hold a live offer: validity is at most 366 days after the month after
the run's as-of month (``decision.document``)."""


def link_new_application(
    access: ProspectAccess, *, application_id: str, uscc: str
) -> ProspectRecord | None:
    """The platform's own fast-track at submission: a new application of an enterprise that
    holds a live pre-approval is linked to it (the newest list's), audited as the system.

    The prospect's assignment stays as it is; an application already linked, or an enterprise
    without a live offer, changes nothing (``None``).
    """
    today = access.clock.today()
    now = access.clock.now()
    this_month = today.replace(day=1)
    months = [add_months(this_month, -back) for back in range(LIVE_LISTS_MONTHS)]
    # Most enterprises hold no live offer: one read without the write lock says so.
    with (access.readers or access.units)() as uow:
        if not _live_offers(uow, uscc, months, today):
            return None
    with access.units() as uow:
        live = _live_offers(uow, uscc, months, today)
        if not live or uow.prospects.by_application(application_id) is not None:
            return None
        stored = max(live, key=lambda r: r.row.month)
        changed = replace(
            stored,
            status=ProspectStatus.APPLIED,
            application_id=application_id,
            applied_at=now,
            updated_at=now,
            version=stored.version + 1,
        )
        save_change(
            uow,
            SYSTEM,
            stored,
            changed,
            "applied",
            detail=application_id,
            payload={"application_id": application_id, "linked_by": "submission"},
        )
        uow.commit()
    return changed


def _live_offers(
    uow: ProspectsUnitOfWork, uscc: str, months: Sequence[date], today: date
) -> list[ProspectRecord]:
    return [
        r
        for r in uow.prospects.of_enterprise(uscc, months)
        if r.application_id is None and is_live(r, today)
    ]


def link_at_submission(access: ProspectAccess) -> Callable[[Application], None]:
    """Origination's ``on_created``: :func:`link_new_application`. A failure is logged, never
    raised: the application is made, and a manager can still link it from the queue."""

    def link(application: Application) -> None:
        try:
            link_new_application(
                access,
                application_id=application.application_id,
                uscc=application.applicant.uscc,
            )
        except Exception:  # the application stands without the link
            logger.exception("application %s: not linked to a prospect", application.application_id)

    return link


def _convert(
    uow: ProspectsUnitOfWork,
    actor: Principal,
    stored: ProspectRecord,
    outcome: ApplicationOutcome,
    access: ProspectAccess,
) -> ProspectRecord | None:
    conversion = conversion_of(outcome)
    if conversion is None or stored.conversion is not None:
        return None
    limit = outcome.limit_fen if conversion is Conversion.APPROVED else None
    changed = replace(
        stored,
        conversion=conversion,
        conversion_limit_fen=limit,
        converted_at=access.clock.now(),
        updated_at=access.clock.now(),
        version=stored.version + 1,
    )
    save_change(
        uow,
        actor,
        stored,
        changed,
        "converted",
        detail=conversion.value,
        payload={
            "application_id": outcome.application_id,
            "conversion": conversion.value,
            "limit_fen": limit,
        },
    )
    return changed


def record_conversions(access: ProspectAccess, *, actor: Principal, limit: int = 1000) -> int:
    """Record the outcome of every decided application of an applied prospect (idempotent)."""
    require(actor, Permission.PROSPECT_MANAGE)
    outcomes = _outcomes(access)
    recorded = 0
    with access.units() as uow:
        waiting = uow.prospects.unconverted(limit)
        found = outcomes.outcomes([r.application_id for r in waiting if r.application_id])
        for stored in waiting:
            outcome = found.get(stored.application_id or "")
            if outcome is not None and _convert(uow, actor, stored, outcome, access) is not None:
                recorded += 1
        uow.commit()
    return recorded


@dataclass(frozen=True, slots=True)
class FastTrackItem:
    record: ProspectRecord
    application_status: str


def fast_track_queue(
    access: ProspectAccess, *, actor: Principal, limit: int = 50
) -> list[FastTrackItem]:
    """Open applications from prospects, by the run's priority: reviewers take these first."""
    require(actor, Permission.APPLICATION_LIST)
    require(actor, Permission.PROSPECT_READ)
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"a page holds 1 to {MAX_PAGE} items", details={"field": "limit"})
    with access.units() as uow:
        waiting = uow.prospects.unconverted(10_000)
    found = _outcomes(access).outcomes([r.application_id for r in waiting if r.application_id])
    items = [
        FastTrackItem(r, found[r.application_id].status)
        for r in waiting
        if r.application_id in found and found[r.application_id].status in OPEN
    ]
    items.sort(key=lambda i: (i.record.row.priority, i.record.applied_at or i.record.updated_at))
    return items[:limit]
