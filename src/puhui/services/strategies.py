"""Strategy lifecycle: draft -> submitted -> approved (four eyes) -> active -> retired, audited."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from puhui.decision.engine import CompiledStrategy
from puhui.decision.strategy import dump_document, load_strategy
from puhui.domain.clock import Clock
from puhui.domain.errors import Conflict, NotFound
from puhui.services.audit import record
from puhui.services.ports import UnitOfWork

logger = logging.getLogger(__name__)

ENTITY = "strategy"


class StrategyStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    ACTIVE = "active"
    RETIRED = "retired"


class StrategyStateConflict(Conflict):
    """The action is not allowed from the version's current status."""

    code = "strategy_state_conflict"


class FourEyesViolation(Conflict):
    """The approver wrote or submitted the version: approval needs a second person."""

    code = "four_eyes_violation"


@dataclass(frozen=True, slots=True)
class StrategyVersion:
    """One stored version of a strategy; the document is immutable once submitted."""

    name: str
    version: int
    status: StrategyStatus
    document: str
    content_hash: str
    created_by: str
    created_at: datetime
    submitted_by: str | None = None
    submitted_at: datetime | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    activated_at: datetime | None = None
    retired_at: datetime | None = None

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


class StrategyRepository(Protocol):
    def get(self, name: str, version: int) -> StrategyVersion | None: ...

    def add(self, version: StrategyVersion) -> None: ...

    def update(self, version: StrategyVersion) -> None: ...

    def list(self, name: str | None = None) -> list[StrategyVersion]: ...

    def active(self, name: str) -> StrategyVersion | None: ...


class StrategyUnitOfWork(UnitOfWork, Protocol):
    @property
    def strategies(self) -> StrategyRepository: ...


UowFactory = Callable[[], StrategyUnitOfWork]


def _compile(text: str, source: str) -> CompiledStrategy:
    return load_strategy(source, text=text)


def _require(uow: StrategyUnitOfWork, name: str, version: int) -> StrategyVersion:
    found = uow.strategies.get(name, version)
    if found is None:
        raise NotFound(f"no strategy {name}@{version}")
    return found


def _audit(
    uow: StrategyUnitOfWork, actor: str, action: str, item: StrategyVersion, before: str | None
) -> None:
    record(
        uow,
        actor=actor,
        action=f"strategy.{action}",
        entity=ENTITY,
        entity_id=item.label,
        payload={
            "name": item.name,
            "version": item.version,
            "content_hash": item.content_hash,
            "from": before,
            "to": item.status.value,
        },
    )


def _transition(
    uow: StrategyUnitOfWork,
    item: StrategyVersion,
    allowed_from: tuple[StrategyStatus, ...],
    action: str,
) -> None:
    if item.status not in allowed_from:
        raise StrategyStateConflict(
            f"cannot {action} {item.label}: it is {item.status.value} "
            f"(allowed from {', '.join(s.value for s in allowed_from)})",
            details={"status": item.status.value},
        )


def create_draft(
    uow_factory: UowFactory, *, text: str, actor: str, clock: Clock
) -> StrategyVersion:
    """Store a new version as a draft; the document must validate and its version be new."""
    compiled = _compile(text, "draft")
    with uow_factory() as uow:
        name, version = compiled.document.name, compiled.document.version
        if uow.strategies.get(name, version) is not None:
            raise Conflict(f"{name}@{version} already exists: give the document a new version")
        item = StrategyVersion(
            name=name,
            version=version,
            status=StrategyStatus.DRAFT,
            document=text,
            content_hash=compiled.content_hash,
            created_by=actor,
            created_at=clock.now(),
        )
        uow.strategies.add(item)
        _audit(uow, actor, "draft_created", item, None)
        uow.commit()
    logger.info("strategy %s drafted by %s", item.label, actor)
    return item


def update_draft(
    uow_factory: UowFactory, *, text: str, actor: str, clock: Clock
) -> StrategyVersion:
    """Replace the document of a draft (same name and version); submitted versions are frozen."""
    compiled = _compile(text, "draft")
    with uow_factory() as uow:
        item = _require(uow, compiled.document.name, compiled.document.version)
        _transition(uow, item, (StrategyStatus.DRAFT,), "edit")
        updated = replace(item, document=text, content_hash=compiled.content_hash)
        uow.strategies.update(updated)
        _audit(uow, actor, "draft_updated", updated, item.status.value)
        uow.commit()
    return updated


def submit(
    uow_factory: UowFactory, name: str, version: int, *, actor: str, clock: Clock
) -> StrategyVersion:
    with uow_factory() as uow:
        item = _require(uow, name, version)
        _transition(uow, item, (StrategyStatus.DRAFT,), "submit")
        updated = replace(
            item, status=StrategyStatus.SUBMITTED, submitted_by=actor, submitted_at=clock.now()
        )
        uow.strategies.update(updated)
        _audit(uow, actor, "submitted", updated, item.status.value)
        uow.commit()
    return updated


def approve(
    uow_factory: UowFactory, name: str, version: int, *, actor: str, clock: Clock
) -> StrategyVersion:
    """Approve a submitted version; the approver must be neither its author nor its submitter."""
    with uow_factory() as uow:
        item = _require(uow, name, version)
        _transition(uow, item, (StrategyStatus.SUBMITTED,), "approve")
        if actor in (item.created_by, item.submitted_by):
            raise FourEyesViolation(
                f"{actor} wrote or submitted {item.label}: another person must approve it"
            )
        # The document is re-validated: a stored draft must still compile under today's engine.
        _compile(item.document, item.label)
        updated = replace(
            item, status=StrategyStatus.APPROVED, approved_by=actor, approved_at=clock.now()
        )
        uow.strategies.update(updated)
        _audit(uow, actor, "approved", updated, item.status.value)
        uow.commit()
    return updated


def reject(
    uow_factory: UowFactory, name: str, version: int, *, actor: str, clock: Clock
) -> StrategyVersion:
    """Send a submitted version back to draft."""
    with uow_factory() as uow:
        item = _require(uow, name, version)
        _transition(uow, item, (StrategyStatus.SUBMITTED,), "reject")
        updated = replace(item, status=StrategyStatus.DRAFT, submitted_by=None, submitted_at=None)
        uow.strategies.update(updated)
        _audit(uow, actor, "rejected", updated, item.status.value)
        uow.commit()
    return updated


def activate(
    uow_factory: UowFactory, name: str, version: int, *, actor: str, clock: Clock
) -> StrategyVersion:
    """Make a version the active one of its name; the previously active version is retired.

    A retired version may be activated again: that is the one-step rollback.
    """
    with uow_factory() as uow:
        item = _require(uow, name, version)
        _transition(uow, item, (StrategyStatus.APPROVED, StrategyStatus.RETIRED), "activate")
        now = clock.now()
        previous = uow.strategies.active(name)
        if previous is not None:
            retired = replace(previous, status=StrategyStatus.RETIRED, retired_at=now)
            uow.strategies.update(retired)
            _audit(uow, actor, "retired", retired, previous.status.value)
        updated = replace(item, status=StrategyStatus.ACTIVE, activated_at=now, retired_at=None)
        uow.strategies.update(updated)
        _audit(uow, actor, "activated", updated, item.status.value)
        uow.commit()
    return updated


def retire(
    uow_factory: UowFactory, name: str, version: int, *, actor: str, clock: Clock
) -> StrategyVersion:
    with uow_factory() as uow:
        item = _require(uow, name, version)
        _transition(uow, item, (StrategyStatus.ACTIVE,), "retire")
        updated = replace(item, status=StrategyStatus.RETIRED, retired_at=clock.now())
        uow.strategies.update(updated)
        _audit(uow, actor, "retired", updated, item.status.value)
        uow.commit()
    return updated


def get_version(uow_factory: UowFactory, name: str, version: int) -> StrategyVersion:
    with uow_factory() as uow:
        return _require(uow, name, version)


def list_versions(uow_factory: UowFactory, name: str | None = None) -> list[StrategyVersion]:
    with uow_factory() as uow:
        return uow.strategies.list(name)


def load_active(uow_factory: UowFactory, name: str) -> CompiledStrategy:
    """The active version of a strategy, compiled and ready to decide."""
    with uow_factory() as uow:
        item = uow.strategies.active(name)
    if item is None:
        raise NotFound(f"strategy {name!r} has no active version")
    return _compile(item.document, item.label)


def diff_versions(uow_factory: UowFactory, name: str, old: int, new: int) -> str:
    """A unified diff of two versions in canonical form (formatting changes do not show)."""
    with uow_factory() as uow:
        before, after = _require(uow, name, old), _require(uow, name, new)
    old_text = dump_document(_compile(before.document, before.label).document)
    new_text = dump_document(_compile(after.document, after.label).document)
    return "".join(
        difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=before.label,
            tofile=after.label,
        )
    )
