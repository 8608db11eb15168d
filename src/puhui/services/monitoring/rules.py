"""Trigger rules as governed documents: the active version decides, the lifecycle changes it.

Trigger rules (and concentration limits) share the strategies' lifecycle and table: draft ->
submit -> approve with four eyes -> active, every transition audited (``services.strategies``
with a ``DocumentKind``). This module adds what monitoring needs on top.
"""

from __future__ import annotations

from puhui.decision.concentration import (
    SHIPPED_CONCENTRATION,
    CompiledConcentration,
    load_concentration,
)
from puhui.decision.triggers import SHIPPED_TRIGGERS, CompiledTriggers, load_triggers
from puhui.domain.errors import Conflict, NotFound
from puhui.services import strategies
from puhui.services.strategies import DocumentKind, StrategyVersion


def compiled(version: StrategyVersion) -> CompiledTriggers:
    if version.kind is not DocumentKind.TRIGGERS:
        raise Conflict(
            f"{version.label} is a {version.kind.value} document, not trigger rules",
            details={"kind": version.kind.value},
        )
    return load_triggers(version.label, text=version.document)


def active_triggers(
    uow_factory: strategies.UowFactory, name: str = SHIPPED_TRIGGERS
) -> tuple[StrategyVersion, CompiledTriggers]:
    """The active version of the trigger rules ``name``, and its compiled form."""
    version = strategies.active_version(uow_factory, name)
    if version is None:
        raise NotFound(
            f"trigger rules {name!r} have no active version: migrate the database "
            "(it seeds the shipped rules) or activate one",
            details={"name": name},
        )
    return version, compiled(version)


def triggers_version(
    uow_factory: strategies.UowFactory, name: str, version: int
) -> tuple[StrategyVersion, CompiledTriggers]:
    """A stored version (a resumed run finishes with the rules it started with)."""
    stored = strategies.get_version(uow_factory, name, version)
    return stored, compiled(stored)


def active_concentration(
    uow_factory: strategies.UowFactory, name: str = SHIPPED_CONCENTRATION
) -> CompiledConcentration:
    """The active version of the concentration limits ``name`` (governed like the rules)."""
    version = strategies.active_version(uow_factory, name)
    if version is None:
        raise NotFound(
            f"concentration limits {name!r} have no active version: migrate the database "
            "(it seeds the shipped limits) or activate one",
            details={"name": name},
        )
    if version.kind is not DocumentKind.CONCENTRATION:
        raise Conflict(
            f"{version.label} is a {version.kind.value} document, not concentration limits",
            details={"kind": version.kind.value},
        )
    return load_concentration(version.label, text=version.document)
