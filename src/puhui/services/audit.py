"""Audit use cases: record a state change, verify the chain."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from puhui.domain.audit import AuditEvent, AuditRecord, ChainBreak, verify_chain
from puhui.services.ports import UnitOfWork

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


@dataclass(frozen=True, slots=True)
class ChainReport:
    events_checked: int
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify_audit_chain(uow_factory: Callable[[], UnitOfWork], *, key: bytes) -> ChainReport:
    with uow_factory() as uow:
        checked, first_break = verify_chain(uow.audit.events(), uow.audit.head(), key=key)
    if first_break is not None:
        logger.error("audit chain broken at event %d: %s", first_break.seq, first_break.reason)
    return ChainReport(events_checked=checked, first_break=first_break)
