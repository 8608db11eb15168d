"""What the platform holds: a status summary for operators."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from puhui.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class PlatformSummary:
    table_counts: dict[str, int]
    audit_events: int


def summarise_platform(uow_factory: Callable[[], UnitOfWork]) -> PlatformSummary:
    with uow_factory() as uow:
        return PlatformSummary(table_counts=uow.table_counts(), audit_events=uow.audit.count())
