"""Ports: what services need from the outside world, as Protocols adapters implement."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from puhui.domain.audit import AuditEvent, AuditRecord, ChainHead


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters of an audit search; None means "any". Times are aware, ``until`` exclusive."""

    actor: str | None = None
    action_prefix: str | None = None
    entity: str | None = None
    entity_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    offset: int = 0


class AuditLog(Protocol):
    def append(self, record: AuditRecord) -> AuditEvent:
        """Append an event to the chain, in the caller's transaction."""
        ...

    def events(self) -> Iterator[AuditEvent]:
        """All events in sequence order (streamed)."""
        ...

    def head(self) -> ChainHead | None: ...

    def seal_pending(self) -> int:
        """Link every final pending event into the chain, in the caller's transaction."""
        ...

    def count(self) -> int: ...

    def search(self, query: AuditQuery) -> list[AuditEvent]:
        """Events matching every given filter, newest first, a page at a time."""
        ...


class UnitOfWork(Protocol):
    """One business transaction. Services commit; repositories and routes never do."""

    @property
    def audit(self) -> AuditLog: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def table_counts(self) -> dict[str, int]:
        """Row counts of the platform's tables, for status reports."""
        ...
