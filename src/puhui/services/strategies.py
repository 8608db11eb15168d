"""Strategy lifecycle: draft -> submitted -> approved (four eyes) -> active -> retired, audited.

The same lifecycle governs every versioned decision document: credit strategies, post-loan
trigger rules and concentration limits. A version's ``kind`` names the compiler that
validates it; everything else (four eyes, one active version per name, the audit) is shared.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from puhui.decision.concentration import load_concentration
from puhui.decision.engine import CompiledStrategy
from puhui.decision.renewal import renewal_rules
from puhui.decision.strategy import dump_document, load_strategy, parse_document
from puhui.decision.triggers import load_triggers
from puhui.domain.clock import Clock
from puhui.domain.errors import Conflict, InvalidInput, NotFound
from puhui.domain.lending.loan_changes import RenewalRules
from puhui.risk.need import PRE_CONSENT_SOURCES
from puhui.services.audit import record
from puhui.services.ports import UnitOfWork

logger = logging.getLogger(__name__)

ENTITY = "strategy"


class DocumentKind(StrEnum):
    """Which kind of governed document a version holds (and so which compiler checks it)."""

    STRATEGY = "strategy"
    TRIGGERS = "triggers"
    """Post-loan trigger rules (``decision.triggers``)."""
    CONCENTRATION = "concentration"
    """Concentration and cluster limits (``decision.concentration``)."""


@dataclass(frozen=True, slots=True)
class DocumentIdentity:
    """What the lifecycle needs of a compiled document of any kind."""

    name: str
    version: int
    content_hash: str


def _canonical_hash(data: object) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def identify(kind: DocumentKind, text: str, source: str) -> DocumentIdentity:
    """Validate ``text`` as a document of ``kind``; every problem is reported with its line."""
    if kind is DocumentKind.STRATEGY:
        strategy = load_strategy(source, text=text, preapproval_sources=PRE_CONSENT_SOURCES)
        return DocumentIdentity(
            strategy.document.name, strategy.document.version, strategy.content_hash
        )
    if kind is DocumentKind.TRIGGERS:
        triggers = load_triggers(source, text=text)
        return DocumentIdentity(
            triggers.document.name, triggers.document.version, triggers.content_hash
        )
    limits = load_concentration(source, text=text).document
    return DocumentIdentity(
        limits.name, limits.version, _canonical_hash(limits.model_dump(mode="json"))
    )


class StrategyStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    ACTIVE = "active"
    RETIRED = "retired"


class StrategyStateConflict(Conflict):
    """The action is not allowed from the version's current status."""

    code = "strategy_state_conflict"


class ReturnReasonInvalid(InvalidInput):
    """The reason for sending a version back is blank or longer than ``MAX_RETURN_REASON``."""

    code = "return_reason_invalid"


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
    kind: DocumentKind = DocumentKind.STRATEGY
    returned_by: str | None = None
    returned_at: datetime | None = None
    return_reason: str | None = None
    """The latest sending back to draft: who, when and why (None: never sent back, or sent
    back without a reason)."""

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


class ChallengerMode(StrEnum):
    LIVE = "live"
    """Decides its share of the traffic; the champion's decision is kept as the shadow."""
    SHADOW = "shadow"
    """Decides nothing: its decision on every application is recorded beside the champion's."""


@dataclass(frozen=True, slots=True)
class Challenger:
    """An approved version run beside the active one (the champion) on live traffic."""

    name: str
    version: int
    share_bp: int
    """Share of applications it decides, in basis points (0 in shadow mode)."""
    mode: ChallengerMode
    started_by: str
    started_at: datetime

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def setting(self) -> ChallengerSetting:
        return ChallengerSetting(self.name, self.version, self.share_bp, self.mode)

    @property
    def salt(self) -> str:
        return self.setting.salt


@dataclass(frozen=True, slots=True)
class ChallengerSetting:
    """What routing needs of a running challenger (the lifecycle's ``Challenger`` without who
    started it and when)."""

    name: str
    version: int
    share_bp: int
    mode: ChallengerMode

    @property
    def salt(self) -> str:
        """The experiment's hash salt: a new challenger version reshuffles the buckets."""
        return f"{self.name}:challenger:{self.version}"


@dataclass(frozen=True, slots=True)
class LiveStamp:
    """Which versions decide right now; cheap to read, compared to notice a change."""

    active_version: int | None
    active_hash: str | None
    challenger: ChallengerSetting | None


@dataclass(frozen=True, slots=True)
class InputSchema:
    """The strategy inputs the platform knows: those it feeds, and those it names but leaves
    missing for now (the strategy treats a missing value as "no evidence")."""

    fed: frozenset[str]
    known_unfed: frozenset[str] = frozenset()

    def problems(self, strategy: CompiledStrategy) -> dict[str, list[str]]:
        """Unknown inputs, and required inputs the platform does not feed (empty when fine)."""
        declared = strategy.document.inputs
        known = self.fed | self.known_unfed
        unknown = sorted(name for name in declared if name not in known)
        unfed_required = sorted(
            name for name, spec in declared.items() if spec.required and name not in self.fed
        )
        found = {}
        if unknown:
            found["unknown_inputs"] = unknown
        if unfed_required:
            found["required_inputs_not_fed"] = unfed_required
        return found


class StrategyDoesNotFit(Conflict):
    """The version reads inputs that the platform's feature store and application do not give."""

    code = "strategy_inputs_missing"


class StrategyRepository(Protocol):
    def get(self, name: str, version: int) -> StrategyVersion | None: ...

    def add(self, version: StrategyVersion) -> None: ...

    def update(self, version: StrategyVersion) -> None: ...

    def list(self, name: str | None = None, kind: str | None = None) -> list[StrategyVersion]: ...

    def active(self, name: str) -> StrategyVersion | None: ...

    def live_stamp(self, name: str) -> LiveStamp: ...

    def challenger(self, name: str) -> Challenger | None: ...

    def set_challenger(self, challenger: Challenger) -> None: ...

    def clear_challenger(self, name: str) -> None: ...


class StrategyUnitOfWork(UnitOfWork, Protocol):
    @property
    def strategies(self) -> StrategyRepository: ...


UowFactory = Callable[[], StrategyUnitOfWork]


def _compile(text: str, source: str) -> CompiledStrategy:
    return load_strategy(source, text=text, preapproval_sources=PRE_CONSENT_SOURCES)


def _require(uow: StrategyUnitOfWork, name: str, version: int) -> StrategyVersion:
    found = uow.strategies.get(name, version)
    if found is None:
        raise NotFound(f"no strategy {name}@{version}")
    return found


def _audit(
    uow: StrategyUnitOfWork,
    actor: str,
    action: str,
    item: StrategyVersion,
    before: str | None,
    **extra: str | None,
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
            "kind": item.kind.value,
            "from": before,
            "to": item.status.value,
            **extra,
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


def _refuse_other_kind(uow: StrategyUnitOfWork, name: str, kind: DocumentKind) -> None:
    # Names are unique across kinds: "the active version of X" must mean one document.
    other = [v for v in uow.strategies.list(name) if v.kind is not kind]
    if other:
        raise Conflict(
            f"{name} is the name of a {other[0].kind.value} document, not of {kind.value}",
            details={"name": name, "kind": other[0].kind.value},
        )


def create_draft(
    uow_factory: UowFactory,
    *,
    text: str,
    actor: str,
    clock: Clock,
    kind: DocumentKind = DocumentKind.STRATEGY,
) -> StrategyVersion:
    """Store a new version as a draft; the document must validate and its version be new."""
    compiled = identify(kind, text, "draft")
    with uow_factory() as uow:
        name, version = compiled.name, compiled.version
        _refuse_other_kind(uow, name, kind)
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
            kind=kind,
        )
        uow.strategies.add(item)
        _audit(uow, actor, "draft_created", item, None)
        uow.commit()
    logger.info("strategy %s drafted by %s", item.label, actor)
    return item


def update_draft(
    uow_factory: UowFactory,
    *,
    text: str,
    actor: str,
    clock: Clock,
    kind: DocumentKind = DocumentKind.STRATEGY,
) -> StrategyVersion:
    """Replace the document of a draft (same name and version); submitted versions are frozen."""
    compiled = identify(kind, text, "draft")
    with uow_factory() as uow:
        item = _require(uow, compiled.name, compiled.version)
        if item.kind is not kind:
            raise Conflict(f"{item.label} is a {item.kind.value} document, not {kind.value}")
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
        identify(item.kind, item.document, item.label)
        updated = replace(
            item, status=StrategyStatus.APPROVED, approved_by=actor, approved_at=clock.now()
        )
        uow.strategies.update(updated)
        _audit(uow, actor, "approved", updated, item.status.value)
        uow.commit()
    return updated


MAX_RETURN_REASON = 500


def _return_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    text = reason.strip()
    if not text or len(text) > MAX_RETURN_REASON:
        raise ReturnReasonInvalid(
            f"the reason for sending a version back is 1 to {MAX_RETURN_REASON} characters",
            details={"field": "reason"},
        )
    return text


def reject(
    uow_factory: UowFactory,
    name: str,
    version: int,
    *,
    actor: str,
    clock: Clock,
    reason: str | None = None,
) -> StrategyVersion:
    """Send a submitted version back to draft; the version keeps who sent it back, when and
    ``reason`` (what its author should change), until it is sent back again."""
    text = _return_reason(reason)
    with uow_factory() as uow:
        item = _require(uow, name, version)
        _transition(uow, item, (StrategyStatus.SUBMITTED,), "reject")
        updated = replace(
            item,
            status=StrategyStatus.DRAFT,
            submitted_by=None,
            submitted_at=None,
            returned_by=actor,
            returned_at=clock.now(),
            return_reason=text,
        )
        uow.strategies.update(updated)
        _audit(uow, actor, "rejected", updated, item.status.value, reason=text)
        uow.commit()
    return updated


def _check_fits(item: StrategyVersion, schema: InputSchema | None) -> None:
    if schema is None or item.kind is not DocumentKind.STRATEGY:
        return
    problems = schema.problems(_compile(item.document, item.label))
    if problems:
        names = sorted({name for found in problems.values() for name in found})
        raise StrategyDoesNotFit(
            f"{item.label} reads inputs the platform does not provide: {', '.join(names)}",
            details=problems,
        )


def activate(
    uow_factory: UowFactory,
    name: str,
    version: int,
    *,
    actor: str,
    clock: Clock,
    schema: InputSchema | None = None,
) -> StrategyVersion:
    """Make a version the active one of its name; the previously active version is retired.

    A retired version may be activated again: that is the one-step rollback. With
    ``schema`` (the platform's inputs), a version that reads an input the platform does not
    know, or requires one it does not feed, is refused with the names.
    """
    with uow_factory() as uow:
        item = _require(uow, name, version)
        _transition(uow, item, (StrategyStatus.APPROVED, StrategyStatus.RETIRED), "activate")
        _check_fits(item, schema)
        challenger = uow.strategies.challenger(name)
        if challenger is not None and challenger.version == version:
            # The challenger won: it becomes the champion and the experiment ends.
            uow.strategies.clear_challenger(name)
            _audit_challenger(uow, actor, "challenger_ended", challenger)
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


def _audit_challenger(
    uow: StrategyUnitOfWork, actor: str, action: str, challenger: Challenger
) -> None:
    record(
        uow,
        actor=actor,
        action=f"strategy.{action}",
        entity=ENTITY,
        entity_id=challenger.label,
        payload={
            "name": challenger.name,
            "version": challenger.version,
            "share_bp": challenger.share_bp,
            "mode": challenger.mode.value,
        },
    )


MAX_LIVE_SHARE_BP = 5_000
"""A live challenger decides at most half the traffic: the champion stays the majority."""


def start_challenger(
    uow_factory: UowFactory,
    name: str,
    version: int,
    *,
    mode: ChallengerMode,
    share_bp: int,
    actor: str,
    clock: Clock,
    schema: InputSchema | None = None,
) -> Challenger:
    """Run an approved version beside the champion: live on a share, or in shadow on all.

    Only a version that passed four eyes (approved, or retired after being active) may
    decide live traffic; the assignment is a hash of the enterprise, so an enterprise meets
    the same arm every time. Replaces any challenger running for this strategy.
    """
    if mode is ChallengerMode.SHADOW and share_bp != 0:
        raise InvalidInput("a shadow challenger takes no share of the traffic")
    if mode is ChallengerMode.LIVE and not 1 <= share_bp <= MAX_LIVE_SHARE_BP:
        raise InvalidInput(
            f"a live challenger's share is 1 to {MAX_LIVE_SHARE_BP} basis points",
            details={"field": "share_bp"},
        )
    with uow_factory() as uow:
        item = _require(uow, name, version)
        _transition(
            uow, item, (StrategyStatus.APPROVED, StrategyStatus.RETIRED), "run as challenger"
        )
        _check_fits(item, schema)
        if uow.strategies.active(name) is None:
            raise StrategyStateConflict(f"{name} has no active version to challenge")
        challenger = Challenger(
            name=name,
            version=version,
            share_bp=share_bp,
            mode=mode,
            started_by=actor,
            started_at=clock.now(),
        )
        uow.strategies.set_challenger(challenger)
        _audit_challenger(uow, actor, "challenger_started", challenger)
        uow.commit()
    logger.info("strategy %s runs as %s challenger (%d bp)", challenger.label, mode, share_bp)
    return challenger


def stop_challenger(uow_factory: UowFactory, name: str, *, actor: str) -> Challenger:
    with uow_factory() as uow:
        challenger = uow.strategies.challenger(name)
        if challenger is None:
            raise NotFound(f"{name} has no challenger running")
        uow.strategies.clear_challenger(name)
        _audit_challenger(uow, actor, "challenger_ended", challenger)
        uow.commit()
    return challenger


def live_stamp(uow_factory: UowFactory, name: str) -> LiveStamp:
    with uow_factory() as uow:
        return uow.strategies.live_stamp(name)


SEED_AUTHOR = "package:puhui"
SEED_APPROVER = "system:seed"


def seed_shipped(
    uow_factory: UowFactory,
    *,
    text: str,
    clock: Clock,
    kind: DocumentKind = DocumentKind.STRATEGY,
) -> StrategyVersion | None:
    """Store a packaged document as the active version 1 of a fresh database.

    Does nothing when any version of that name is stored already: from then on the
    lifecycle (draft, four eyes, activation) is the only way a version changes.
    """
    compiled = identify(kind, text, "shipped")
    name, version = compiled.name, compiled.version
    with uow_factory() as uow:
        if uow.strategies.list(name):
            return None
        now = clock.now()
        item = StrategyVersion(
            name=name,
            version=version,
            status=StrategyStatus.ACTIVE,
            document=text,
            content_hash=compiled.content_hash,
            created_by=SEED_AUTHOR,
            created_at=now,
            approved_by=SEED_APPROVER,
            approved_at=now,
            activated_at=now,
            kind=kind,
        )
        uow.strategies.add(item)
        _audit(uow, SEED_APPROVER, "seeded", item, None)
        uow.commit()
    logger.info("strategy %s seeded from the package as the active version", item.label)
    return item


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


def list_versions(
    uow_factory: UowFactory,
    name: str | None = None,
    kind: DocumentKind | None = DocumentKind.STRATEGY,
) -> list[StrategyVersion]:
    """The stored versions (of one name), of one kind (strategies unless told; None: all)."""
    with uow_factory() as uow:
        return uow.strategies.list(name, None if kind is None else kind.value)


def active_version(uow_factory: UowFactory, name: str) -> StrategyVersion | None:
    """The active version of a governed document of any kind (None when none is active)."""
    with uow_factory() as uow:
        return uow.strategies.active(name)


def load_active(uow_factory: UowFactory, name: str) -> CompiledStrategy:
    """The active version of a strategy, compiled and ready to decide."""
    with uow_factory() as uow:
        item = uow.strategies.active(name)
    if item is None:
        raise NotFound(f"strategy {name!r} has no active version")
    return _compile(item.document, item.label)


def active_renewal_rules(uow_factory: UowFactory, name: str) -> RenewalRules:
    """The renewal mode of the active version of strategy ``name`` (read per decision, so an
    activated version takes effect for the next renewal without a restart)."""
    with uow_factory() as uow:
        item = uow.strategies.active(name)
    if item is None:
        raise NotFound(f"strategy {name!r} has no active version")
    document, _ = parse_document(item.document, source=item.label)
    return renewal_rules(document, label=item.label)


def diff_versions(uow_factory: UowFactory, name: str, old: int, new: int) -> str:
    """A unified diff of two versions in canonical form (formatting changes do not show)."""
    with uow_factory() as uow:
        before, after = _require(uow, name, old), _require(uow, name, new)
    if before.kind is not DocumentKind.STRATEGY or after.kind is not DocumentKind.STRATEGY:
        return "".join(
            difflib.unified_diff(
                before.document.splitlines(keepends=True),
                after.document.splitlines(keepends=True),
                fromfile=before.label,
                tofile=after.label,
            )
        )
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
