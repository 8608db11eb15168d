"""Loading a pre-approval run: all or nothing, and a re-run of a month keeps the work done.

One transaction writes the run, its prospects, their history and the audit event: a run that
fails anywhere (a bad row, a crash of the batch before it hands over, the database) leaves the
month's list as it was. A re-run of a month updates the rows of enterprises it still lists
(the run's figures change; status, notes, assignment, contact and offer stay), adds the new
ones and expires the ones it drops, unless an application is already under way (``applied``
stays: the work is done and the conversion still counts). A prospect the run lists again after
an earlier run expired it gets back the status it had when dropped (an enterprise that said no
is not marketed again as ``new``), with its notes and assignment.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from puhui.domain.errors import InvalidInput
from puhui.domain.ids import new_id
from puhui.domain.prospects import ProspectRow, ProspectStatus
from puhui.services.audit import record
from puhui.services.prospects.access import ProspectAccess
from puhui.services.prospects.assignment import assign
from puhui.services.prospects.ports import (
    ProspectEvent,
    ProspectRecord,
    ProspectsUnitOfWork,
    RunMeta,
    RunRecord,
)
from puhui.services.security.permissions import Permission, Principal, require

logger = logging.getLogger(__name__)

KEPT_WHEN_DROPPED = frozenset({ProspectStatus.APPLIED, ProspectStatus.EXPIRED})
"""Statuses a re-run that drops the prospect leaves as they are."""
MAX_ERRORS_SHOWN = 20


@dataclass(frozen=True, slots=True)
class LoadReport:
    run_id: str
    month: dt.date
    rows_loaded: int
    rows_new: int
    rows_kept: int
    rows_expired: int
    assigned: int
    unassigned: int
    """Live prospects of the month that no manager's territory covers."""


def _check_rows(month: dt.date, rows: Sequence[ProspectRow]) -> None:
    """Every problem of the list at once; any one refuses the whole run."""
    if month.day != 1:
        raise InvalidInput("a run's month is the first day of a month", details={"field": "month"})
    errors: list[str] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        if row.month != month:
            errors.append(f"row {index}: {row.uscc} is of {row.month:%Y-%m}, not {month:%Y-%m}")
        if row.uscc in seen:
            errors.append(f"row {index}: {row.uscc} is listed twice")
        seen.add(row.uscc)
    if errors:
        raise InvalidInput(
            f"the run has {len(errors)} bad rows; nothing was loaded: "
            + "; ".join(errors[:MAX_ERRORS_SHOWN]),
            details={"errors": errors[:MAX_ERRORS_SHOWN], "bad_rows": len(errors)},
        )


def load_run(
    access: ProspectAccess,
    *,
    actor: Principal,
    month: dt.date,
    rows: Sequence[ProspectRow],
    meta: RunMeta,
) -> LoadReport:
    """Load one run's list for ``month`` (rows in any order; ``priority`` orders them)."""
    require(actor, Permission.PROSPECT_MANAGE)
    _check_rows(month, rows)
    now = access.clock.now()
    run_id = new_id("prun")
    who = actor.audit_name()
    with access.units() as uow:
        repo = uow.prospects
        listed = repo.listed(month)
        fresh: list[ProspectRecord] = []
        changed: list[ProspectRecord] = []
        events: list[ProspectEvent] = []
        for row in rows:
            existing = listed.get(row.uscc)
            if existing is None:
                fresh.append(
                    ProspectRecord(
                        prospect_id=new_id("prs"),
                        row=row,
                        run_id=run_id,
                        status=ProspectStatus.NEW,
                        created_at=now,
                        updated_at=now,
                    )
                )
                continue
            status = existing.status
            if status is ProspectStatus.EXPIRED:
                status = _status_when_dropped(repo.events(existing.prospect_id))
                events.append(
                    ProspectEvent(
                        existing.prospect_id, now, who, "relisted", ProspectStatus.EXPIRED, status
                    )
                )
            changed.append(
                replace(
                    existing,
                    row=row,
                    run_id=run_id,
                    status=status,
                    updated_at=now,
                    version=existing.version + 1,
                )
            )
        kept = {r.uscc for r in rows}
        expired = [
            replace(r, status=ProspectStatus.EXPIRED, updated_at=now, version=r.version + 1)
            for uscc, r in listed.items()
            if uscc not in kept and r.status not in KEPT_WHEN_DROPPED
        ]
        events.extend(
            ProspectEvent(
                r.prospect_id,
                now,
                who,
                "dropped_by_run",
                listed[r.row.uscc].status,
                ProspectStatus.EXPIRED,
                run_id,
            )
            for r in expired
        )
        run = RunRecord(
            run_id=run_id,
            month=month,
            loaded_at=now,
            loaded_by=who,
            rows_loaded=len(rows),
            rows_new=len(fresh),
            rows_kept=len(changed),
            rows_expired=len(expired),
            meta=meta,
        )
        repo.add_run(run)
        events.extend(
            ProspectEvent(r.prospect_id, now, who, "loaded", None, r.status, run_id) for r in fresh
        )
        live = [r for r in fresh + changed if r.status is not ProspectStatus.EXPIRED]
        assigned = _assign(uow, month, live=live, now=now, who=who, events=events)
        by_id = {r.prospect_id: r for r in live}
        fresh = [replace(r, assigned_to=assigned.get(r.prospect_id, r.assigned_to)) for r in fresh]
        changed = [
            replace(r, assigned_to=assigned.get(r.prospect_id, r.assigned_to))
            if r.prospect_id in by_id
            else r
            for r in changed
        ]
        repo.add_all(fresh)
        repo.update_all(changed + expired)
        repo.add_events(events)
        unassigned = sum(
            1
            for r in fresh + changed
            if r.assigned_to is None and r.status is not ProspectStatus.EXPIRED
        )
        record(
            uow,
            actor=who,
            action="prospects.run_loaded",
            entity="prospect_run",
            entity_id=run_id,
            payload={
                "month": month.isoformat(),
                "rows_loaded": len(rows),
                "rows_new": len(fresh),
                "rows_kept": len(changed),
                "rows_expired": len(expired),
                "assigned": len(assigned),
                "strategy_version": meta.strategy_version,
                "model_version": meta.model_version,
                "sources": sorted(meta.sources),
            },
        )
        uow.commit()
    logger.info(
        "prospect run %s for %s: %d listed (%d new, %d kept, %d expired)",
        run_id,
        f"{month:%Y-%m}",
        len(rows),
        len(fresh),
        len(changed),
        len(expired),
    )
    return LoadReport(
        run_id=run_id,
        month=month,
        rows_loaded=len(rows),
        rows_new=len(fresh),
        rows_kept=len(changed),
        rows_expired=len(expired),
        assigned=len(assigned),
        unassigned=unassigned,
    )


def _status_when_dropped(history: Sequence[ProspectEvent]) -> ProspectStatus:
    """The status the last ``dropped_by_run`` found (``new`` when the history has none)."""
    for event in reversed(history):
        if event.action == "dropped_by_run" and event.from_status is not None:
            return event.from_status
    return ProspectStatus.NEW


def _assign(
    uow: ProspectsUnitOfWork,
    month: dt.date,
    *,
    live: Sequence[ProspectRecord],
    now: dt.datetime,
    who: str,
    events: list[ProspectEvent],
) -> dict[str, str]:
    territories = uow.prospects.territories()
    chosen = assign(live, territories, uow.prospects.open_counts(month))
    events.extend(
        ProspectEvent(prospect_id, now, who, "assigned", detail=manager)
        for prospect_id, manager in sorted(chosen.items())
    )
    return chosen
