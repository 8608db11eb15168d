"""Ports: what services need from the outside world, as Protocols adapters implement."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Protocol, Self

from puhui.domain.audit import AuditEvent, AuditRecord, ChainHead


class AuditLog(Protocol):
    def append(self, record: AuditRecord) -> AuditEvent:
        """Append an event to the chain, in the caller's transaction."""
        ...

    def events(self) -> Iterator[AuditEvent]:
        """All events in sequence order (streamed)."""
        ...

    def head(self) -> ChainHead | None: ...

    def count(self) -> int: ...


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
