"""Audit use cases: record a state change, verify the chain."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from puhui.domain.audit import AuditEvent, AuditRecord, ChainBreak, verify_chain
from puhui.domain.errors import InvalidInput
from puhui.services.ports import AuditQuery, UnitOfWork

logger = logging.getLogger(__name__)


def record(
    uow: UnitOfWork,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    payload: Mapping[str, Any],
) -> AuditEvent:
    """Append an audit event inside the caller's transaction (the caller commits)."""
    return uow.audit.append(
        AuditRecord(actor=actor, action=action, entity=entity, entity_id=entity_id, payload=payload)
    )


@runtime_checkable
class BatchAppend(Protocol):
    """An audit log that appends several events in fewer round trips (the SQL one)."""

    def append_all(self, records: Sequence[AuditRecord]) -> list[AuditEvent]: ...


def record_all(uow: UnitOfWork, records: Sequence[AuditRecord]) -> list[AuditEvent]:
    """Append several events, in this order, inside the caller's transaction.

    The same events as one ``record`` each; an audit log that can batch them (on
    PostgreSQL one statement draws every number, one ``executemany`` writes the rows) does.
    """
    log = uow.audit
    if isinstance(log, BatchAppend):
        return log.append_all(records)
    return [log.append(record) for record in records]


@dataclass(frozen=True, slots=True)
class ChainReport:
    events_checked: int
    first_break: ChainBreak | None
    pending: int = 0
    """Events written but not sealed into the chain yet (their own MACs were checked)."""

    @property
    def ok(self) -> bool:
        return self.first_break is None


MAX_PAGE = 1_000


def search_audit(uow_factory: Callable[[], UnitOfWork], query: AuditQuery) -> list[AuditEvent]:
    """Who did what to which entity, and when: events matching the filters, newest first.

    The trail keeps a digest of each event's payload, not the payload: it proves what was
    recorded without holding personal data twice.
    """
    if not 1 <= query.limit <= MAX_PAGE or query.offset < 0:
        raise InvalidInput(f"a page holds 1 to {MAX_PAGE} events and starts at 0 or later")
    for moment in (query.since, query.until):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("audit search times are timezone-aware")
    if query.since is not None and query.until is not None and query.until <= query.since:
        raise InvalidInput("the search window ends before it starts")
    with uow_factory() as uow:
        return uow.audit.search(query)


def verify_audit_chain(uow_factory: Callable[[], UnitOfWork], *, key: bytes) -> ChainReport:
    """Seal what is final, then check every sealed event and the MAC of every pending one.

    Events still pending are those of transactions that were running (or of numbers drawn
    after the head was read): they are counted, not hidden.
    """
    with uow_factory() as uow:
        uow.audit.seal_pending()
        uow.commit()
    with uow_factory() as uow:
        head = uow.audit.head()
        checked, first_break, pending = verify_chain(uow.audit.events(), head, key=key)
    if first_break is not None:
        logger.error("audit chain broken at event %d: %s", first_break.seq, first_break.reason)
    return ChainReport(events_checked=checked, first_break=first_break, pending=pending)
