"""Strategies and models as staff govern them: who may do what, then the shared lifecycle.

The lifecycle itself (``services.strategies``, ``risk.registry``) takes the actor as a name, as
the command line gives it; this module is what a signed-in person calls. It checks the role
first (``STRATEGY_MANAGE`` proposes, ``STRATEGY_APPROVE`` approves and activates, and the same
for models), names the actor by ``Principal.audit_name()`` so four eyes compares people, and
adds what the console reads: a new draft from an existing version, a backtest of a stored
version over the real decisions of a period, and a monitoring run of a registered model.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from puhui.decision.backtest import DEFAULT_LGD, BacktestReport, run_backtest
from puhui.decision.strategy import dump_document, load_strategy, parse_document
from puhui.domain.clock import Clock
from puhui.domain.errors import InvalidInput, NotFound
from puhui.services import strategies
from puhui.services.origination.ports import OriginationUnitOfWork
from puhui.services.ports import UnitOfWork
from puhui.services.security.permissions import Permission, Principal, require

if TYPE_CHECKING:
    # The modelling stack takes seconds to import: the functions import it when called.
    from puhui.risk.monitoring import MonitoringResult
    from puhui.risk.registry import ModelRegistry, RegistryEntry
    from puhui.services.model_monitoring import DecisionHistory

DocumentKind = strategies.DocumentKind
StrategyVersion = strategies.StrategyVersion
_VERSION_LINE = re.compile(r"^version:[ \t]*\d+[ \t]*$", re.MULTILINE)


def require_any(principal: Principal, *permissions: Permission) -> None:
    """Refused unless the principal holds at least one of ``permissions``."""
    if not any(principal.can(p) for p in permissions):
        require(principal, permissions[0])


# --- strategies and the other governed documents ------------------------------------------


def list_documents(
    uow: strategies.UowFactory, *, actor: Principal, kind: DocumentKind | None = None
) -> list[StrategyVersion]:
    """Every stored version (of one kind, or of all kinds), newest version first per name."""
    require(actor, Permission.STRATEGY_READ)
    found = strategies.list_versions(uow, None, kind)
    return sorted(found, key=lambda v: (v.kind.value, v.name, -v.version))


def get_document(
    uow: strategies.UowFactory, *, actor: Principal, name: str, version: int
) -> StrategyVersion:
    require(actor, Permission.STRATEGY_READ)
    return strategies.get_version(uow, name, version)


def versions_of(
    uow: strategies.UowFactory, *, actor: Principal, name: str
) -> list[StrategyVersion]:
    """Every version of one document, newest first."""
    require(actor, Permission.STRATEGY_READ)
    return sorted(strategies.list_versions(uow, name, None), key=lambda v: -v.version)


def diff_documents(
    uow: strategies.UowFactory, *, actor: Principal, name: str, old: int, new: int
) -> str:
    """The unified diff of two versions (canonical form for credit strategies), as
    ``strategies.diff_versions`` writes it; canonical texts are remembered by content."""
    require(actor, Permission.STRATEGY_READ)
    before = strategies.get_version(uow, name, old)
    after = strategies.get_version(uow, name, new)
    both = before.kind is DocumentKind.STRATEGY and after.kind is DocumentKind.STRATEGY
    old_text = canonical_text(before) if both else before.document
    new_text = canonical_text(after) if both else after.document
    return "".join(
        difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=before.label,
            tofile=after.label,
        )
    )


def canonical_text(item: StrategyVersion) -> str:
    """A credit strategy written out in canonical form (defaults spelled, keys in order), so
    two versions compare by what they say; other kinds as they were written."""
    if item.kind is not DocumentKind.STRATEGY:
        return item.document
    return _canonical_strategy(item.document, item.label)


@lru_cache(maxsize=64)
def _canonical_strategy(text: str, source: str) -> str:
    # Parsing the schema is enough to write the canonical form (compiling costs twice as much).
    document, _ = parse_document(text, source=source)
    return dump_document(document)


def next_draft_text(
    uow: strategies.UowFactory, *, actor: Principal, name: str, version: int
) -> str:
    """The document of ``name@version`` renumbered as the next free version: a draft to edit."""
    require(actor, Permission.STRATEGY_MANAGE)
    source = strategies.get_version(uow, name, version)
    latest = max(v.version for v in strategies.list_versions(uow, name, None))
    text, replaced = _VERSION_LINE.subn(f"version: {latest + 1}", source.document, count=1)
    if not replaced:
        raise InvalidInput(f"{source.label} has no top-level 'version:' line to renumber")
    return text


def save_draft(
    uow: strategies.UowFactory,
    *,
    actor: Principal,
    text: str,
    kind: DocumentKind,
    clock: Clock,
) -> StrategyVersion:
    """Store ``text`` as a draft: a new version, or the new text of a draft of the same version."""
    require(actor, Permission.STRATEGY_MANAGE)
    identity = strategies.identify(kind, text, "draft")
    existing = _stored(uow, identity.name, identity.version)
    if existing is not None and existing.status is strategies.StrategyStatus.DRAFT:
        return strategies.update_draft(
            uow, text=text, actor=actor.audit_name(), clock=clock, kind=kind
        )
    return strategies.create_draft(uow, text=text, actor=actor.audit_name(), clock=clock, kind=kind)


def _stored(uow: strategies.UowFactory, name: str, version: int) -> StrategyVersion | None:
    try:
        return strategies.get_version(uow, name, version)
    except NotFound:
        return None


def submit(
    uow: strategies.UowFactory, *, actor: Principal, name: str, version: int, clock: Clock
) -> StrategyVersion:
    require(actor, Permission.STRATEGY_MANAGE)
    return strategies.submit(uow, name, version, actor=actor.audit_name(), clock=clock)


def approve(
    uow: strategies.UowFactory, *, actor: Principal, name: str, version: int, clock: Clock
) -> StrategyVersion:
    """Approve a submitted version: a second person, never its author or submitter."""
    require(actor, Permission.STRATEGY_APPROVE)
    return strategies.approve(uow, name, version, actor=actor.audit_name(), clock=clock)


def reject(
    uow: strategies.UowFactory,
    *,
    actor: Principal,
    name: str,
    version: int,
    clock: Clock,
    reason: str | None = None,
) -> StrategyVersion:
    """Send a submitted version back to its author, with what to change."""
    require(actor, Permission.STRATEGY_APPROVE)
    return strategies.reject(
        uow, name, version, actor=actor.audit_name(), clock=clock, reason=reason
    )


def activate(
    uow: strategies.UowFactory,
    *,
    actor: Principal,
    name: str,
    version: int,
    clock: Clock,
    schema: strategies.InputSchema | None = None,
) -> StrategyVersion:
    """Make an approved (or retired) version the active one; checked against ``schema``."""
    require(actor, Permission.STRATEGY_APPROVE)
    return strategies.activate(
        uow, name, version, actor=actor.audit_name(), clock=clock, schema=schema
    )


def backtest(
    uow: strategies.UowFactory,
    reader: Callable[[], OriginationUnitOfWork],
    *,
    actor: Principal,
    name: str,
    version: int,
    first_day: dt.date,
    last_day: dt.date,
    licence_type: str = "bank",
    lgd: Decimal = DEFAULT_LGD,
) -> BacktestReport:
    """Replay the decisions stored in [first_day, last_day] through ``name@version``.

    The active version of the same strategy (when it is another version) is replayed beside
    it, for the swap set. What ``puhui strategy backtest --decided-from/--decided-to`` does.
    """
    from puhui.services.origination.replay import stored_population  # noqa: PLC0415 - scorer

    require_any(actor, Permission.STRATEGY_MANAGE, Permission.STRATEGY_APPROVE)
    item = strategies.get_version(uow, name, version)
    if item.kind is not DocumentKind.STRATEGY:
        raise InvalidInput(
            f"{item.label} is a {item.kind.value} document: only credit strategies replay decisions"
        )
    candidate = load_strategy(item.label, text=item.document)
    active = strategies.active_version(uow, name)
    against = (
        None
        if active is None or active.version == version
        else load_strategy(active.label, text=active.document)
    )
    rows = stored_population(reader, first_day, last_day)
    if not rows:
        raise NotFound(f"no stored decisions from {first_day} to {last_day}")
    return run_backtest(
        candidate,
        rows,
        against=against,
        as_of=last_day,
        licence_type=licence_type,
        lgd=lgd,
        population=f"stored decisions {first_day} .. {last_day}",
    )


# --- models -----------------------------------------------------------------------------


def list_models(registry: ModelRegistry, *, actor: Principal) -> list[RegistryEntry]:
    """Every registered version, the most recent registration first."""
    require(actor, Permission.MODEL_READ)
    return sorted(registry.entries(), key=lambda e: e.registered_at, reverse=True)


def get_model(registry: ModelRegistry, *, actor: Principal, version: str) -> RegistryEntry:
    require(actor, Permission.MODEL_READ)
    return registry.get(version)


def approve_model(
    registry: ModelRegistry, *, actor: Principal, version: str, at: dt.datetime
) -> RegistryEntry:
    """Approve a candidate: a second person, never the one who built it."""
    require(actor, Permission.MODEL_APPROVE)
    return registry.approve(version, approver=actor.audit_name(), at=at)


def promote_model(
    registry: ModelRegistry, *, actor: Principal, version: str, at: dt.datetime
) -> RegistryEntry:
    """Make an approved model the champion of its name; the previous champion retires."""
    require(actor, Permission.MODEL_MANAGE)
    return registry.promote(version, actor=actor.audit_name(), at=at)


def monitor(
    registry: ModelRegistry,
    history: DecisionHistory,
    audit_uow: Callable[[], UnitOfWork],
    *,
    actor: Principal,
    version: str,
    first_month: str,
    last_month: str,
    today: dt.date,
) -> MonitoringResult:
    """Monitor a registered model over decision months, as ``puhui model monitor`` does.

    Alerts go into the audit trail under the person who ran it.
    """
    from puhui.risk.artefact import load_reference_profile  # noqa: PLC0415 - modelling stack
    from puhui.services.model_monitoring import monitor_model  # noqa: PLC0415

    require_any(actor, Permission.MODEL_MANAGE, Permission.MODEL_APPROVE)
    registry.get(version)
    reference = load_reference_profile(Path(registry.root) / "models" / version)
    notes = () if reference is not None else ("the model has no reference profile: no PSI",)
    return monitor_model(
        history,
        audit_uow,
        model_version=version,
        first_month=first_month,
        last_month=last_month,
        reference=reference,
        today=today,
        actor=actor.audit_name(),
        notes=notes,
    )
