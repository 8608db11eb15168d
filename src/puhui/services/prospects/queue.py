"""The account manager's queue: list, read, move a prospect along, note, territories.

The queue moves ``new -> contacted -> interested``, and to ``not_interested`` from any of
them (an enterprise that said no may be contacted again later). ``applied`` is reached only by
linking an application (``conversion.link_application``) and ``expired`` only by a re-run or
the validity passing: nobody sets them by hand. Every move is audited and kept in the
prospect's history.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.identity import validate_mobile
from puhui.domain.prospects import ProspectStatus
from puhui.services.audit import record
from puhui.services.notifications import MessageStatus, OutboxMessage
from puhui.services.prospects.access import ProspectAccess, require_worker, taker
from puhui.services.prospects.ports import (
    InvalidProspectTransition,
    OfferState,
    ProspectEvent,
    ProspectExpired,
    ProspectQuery,
    ProspectRecord,
    ProspectsUnitOfWork,
)
from puhui.services.security.permissions import Permission, Principal, require

S = ProspectStatus
QUEUE_MOVES: dict[ProspectStatus, frozenset[ProspectStatus]] = {
    S.NEW: frozenset({S.CONTACTED, S.NOT_INTERESTED}),
    S.CONTACTED: frozenset({S.INTERESTED, S.NOT_INTERESTED}),
    S.INTERESTED: frozenset({S.CONTACTED, S.NOT_INTERESTED}),
    S.NOT_INTERESTED: frozenset({S.CONTACTED}),
    S.APPLIED: frozenset(),
    S.EXPIRED: frozenset(),
}
"""Where a manager may move a prospect from each status."""
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
MAX_PAGE = 200
MAX_NOTE = 2000
ENTITY = "prospect"


@dataclass(frozen=True, slots=True)
class ProspectView:
    record: ProspectRecord
    history: tuple[ProspectEvent, ...]


def parse_month(value: str | None) -> dt.date | None:
    """A month written ``YYYY-MM`` as its first day (None stays None)."""
    if value is None:
        return None
    match = _MONTH.fullmatch(value)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InvalidInput("a month is written YYYY-MM", details={"field": "month"})
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def is_live(record: ProspectRecord, today: dt.date) -> bool:
    """Still offered: not expired by a run, and within its validity."""
    return record.status is not ProspectStatus.EXPIRED and today <= record.row.valid_until


def require_live(record: ProspectRecord, today: dt.date) -> None:
    if not is_live(record, today):
        raise ProspectExpired(
            f"the pre-approval of {record.row.uscc} lapsed on {record.row.valid_until}"
            if record.status is not ProspectStatus.EXPIRED
            else f"the pre-approval of {record.row.uscc} is no longer listed",
            details={"prospect_id": record.prospect_id},
        )


def require_prospect(uow: ProspectsUnitOfWork, prospect_id: str) -> ProspectRecord:
    found = uow.prospects.get(prospect_id)
    if found is None:
        raise NotFound("no such prospect", details={"prospect_id": prospect_id})
    return found


def list_prospects(
    access: ProspectAccess, *, actor: Principal, query: ProspectQuery
) -> list[ProspectRecord]:
    require(actor, Permission.PROSPECT_READ)
    if not 1 <= query.limit <= MAX_PAGE or query.offset < 0:
        raise InvalidInput(f"a page holds 1 to {MAX_PAGE} prospects", details={"field": "limit"})
    with access.units() as uow:
        return uow.prospects.find(query)


def get_prospect(access: ProspectAccess, *, actor: Principal, prospect_id: str) -> ProspectView:
    require(actor, Permission.PROSPECT_READ)
    with access.units() as uow:
        found = require_prospect(uow, prospect_id)
        return ProspectView(found, tuple(uow.prospects.events(prospect_id)))


def save_change(
    uow: ProspectsUnitOfWork,
    actor: Principal,
    before: ProspectRecord,
    after: ProspectRecord,
    action: str,
    *,
    detail: str | None = None,
    payload: dict[str, object] | None = None,
) -> None:
    """Store a changed prospect with its history line and audit event (caller commits)."""
    uow.prospects.save(after, expected_version=before.version)
    moved = before.status is not after.status
    uow.prospects.add_events(
        [
            ProspectEvent(
                before.prospect_id,
                after.updated_at,
                actor.audit_name(),
                action,
                before.status if moved else None,
                after.status if moved else None,
                detail,
            )
        ]
    )
    record(
        uow,
        actor=actor.audit_name(),
        action=f"prospect.{action}",
        entity=ENTITY,
        entity_id=before.prospect_id,
        payload={
            "uscc": before.row.uscc,
            "from": before.status.value,
            "to": after.status.value,
            **(payload or {}),
        },
    )


def cancel_message(
    uow: ProspectsUnitOfWork,
    actor: Principal,
    message: OutboxMessage,
    *,
    reason: str,
    now: dt.datetime,
) -> None:
    """Withdraw a pending message and mark its prospect's offer cancelled (caller commits)."""
    uow.prospects.save_message(replace(message, status=MessageStatus.CANCELLED, last_error=reason))
    stored = uow.prospects.get(message.subject_id)
    if stored is None:
        return
    changed = replace(
        stored, offer_status=OfferState.CANCELLED, updated_at=now, version=stored.version + 1
    )
    save_change(
        uow,
        actor,
        stored,
        changed,
        "offer_cancelled",
        detail=message.message_id,
        payload={"message_id": message.message_id, "reason": reason},
    )


def move_prospect(
    access: ProspectAccess,
    *,
    actor: Principal,
    prospect_id: str,
    status: ProspectStatus,
    note: str = "",
) -> ProspectRecord:
    """Move a prospect along the queue; an optional note is appended to its notes."""
    require(actor, Permission.PROSPECT_WORK)
    now = access.clock.now()
    with access.units() as uow:
        stored = require_prospect(uow, prospect_id)
        require_worker(actor, stored)
        require_live(stored, access.clock.today())
        if status not in QUEUE_MOVES[stored.status]:
            raise InvalidProspectTransition(
                f"a {stored.status.value} prospect does not move to {status.value}",
                details={"from": stored.status.value, "to": status.value},
            )
        changed = replace(
            stored,
            status=status,
            notes=_appended(stored.notes, note, now, actor),
            assigned_to=stored.assigned_to or taker(actor),
            updated_at=now,
            version=stored.version + 1,
        )
        save_change(uow, actor, stored, changed, "status_changed")
        uow.commit()
    return changed


def add_note(
    access: ProspectAccess, *, actor: Principal, prospect_id: str, note: str
) -> ProspectRecord:
    require(actor, Permission.PROSPECT_WORK)
    if not note.strip():
        raise InvalidInput("a note has some text", details={"field": "note"})
    now = access.clock.now()
    with access.units() as uow:
        stored = require_prospect(uow, prospect_id)
        require_worker(actor, stored)
        changed = replace(
            stored,
            notes=_appended(stored.notes, note, now, actor),
            updated_at=now,
            version=stored.version + 1,
        )
        save_change(uow, actor, stored, changed, "noted")
        uow.commit()
    return changed


def _appended(notes: str, note: str, now: dt.datetime, actor: Principal) -> str:
    text = note.strip()
    if not text:
        return notes
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"a note has at most {MAX_NOTE} characters", details={"field": "note"})
    line = f"[{now:%Y-%m-%d %H:%M} {actor.user_id}] {text}"
    return f"{notes}\n{line}" if notes else line


def set_territory(
    access: ProspectAccess, *, actor: Principal, region_code: str, user_ids: Sequence[str]
) -> list[str]:
    """The account managers who cover a region code (replacing those before)."""
    require(actor, Permission.PROSPECT_MANAGE)
    code = region_code.strip()
    if not code.isdigit() or not 2 <= len(code) <= 12:
        raise InvalidInput("a region code is 2 to 12 digits", details={"field": "region_code"})
    wanted = sorted(set(user_ids))
    with access.units() as uow:
        managers = uow.prospects.account_managers(wanted)
        strangers = sorted(set(wanted) - managers)
        if strangers:
            raise InvalidInput(
                "only enabled account managers cover a region",
                details={"field": "user_ids", "not_managers": strangers},
            )
        uow.prospects.set_territory(code, wanted, actor=actor.audit_name())
        record(
            uow,
            actor=actor.audit_name(),
            action="prospects.territory_set",
            entity="prospect_territory",
            entity_id=code,
            payload={"user_ids": wanted},
        )
        uow.commit()
    return wanted


def record_opt_out(
    access: ProspectAccess,
    *,
    actor: Principal,
    uscc: str | None,
    phone: str | None,
    reason: str,
) -> str:
    """An enterprise or a phone asked for no marketing: every later offer to it is refused,
    and the offers queued for it and not sent yet are cancelled (in the same transaction)."""
    require(actor, Permission.PROSPECT_WORK)
    if not uscc and not phone:
        raise InvalidInput("an opt-out names an enterprise or a phone", details={"field": "uscc"})
    phone = None if not phone else validate_mobile(phone)
    uscc = None if not uscc else uscc.strip().upper()
    now = access.clock.now()
    with access.units() as uow:
        opt_out_id = uow.prospects.add_opt_out(
            uscc=uscc, phone=phone, reason=reason.strip() or "-", actor=actor.audit_name()
        )
        for message in uow.prospects.pending_for(uscc=uscc, phone=phone):
            cancel_message(uow, actor, message, reason="opted_out", now=now)
        record(
            uow,
            actor=actor.audit_name(),
            action="prospects.opted_out",
            entity="marketing_opt_out",
            entity_id=opt_out_id,
            payload={"uscc": uscc, "phone_given": phone is not None},
        )
        uow.commit()
    return opt_out_id
