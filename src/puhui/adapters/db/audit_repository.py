"""The audit log on SQL: append under a lock on the chain head, stream for verification."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection, func, select, update

from puhui.adapters.db.tables import audit_events, audit_head
from puhui.domain.audit import AuditEvent, AuditRecord, ChainHead, next_event
from puhui.domain.clock import Clock
from puhui.domain.errors import ConfigurationError

_STREAM_BATCH = 10_000


class SqlAuditLog:
    def __init__(self, connection: Connection, *, clock: Clock, key: bytes) -> None:
        self._connection = connection
        self._clock = clock
        self._key = key

    def append(self, record: AuditRecord) -> AuditEvent:
        head = self._connection.execute(
            select(audit_head.c.seq, audit_head.c.hash)
            .where(audit_head.c.id == 1)
            .with_for_update()
        ).one_or_none()
        if head is None:
            raise ConfigurationError("audit chain head is missing: run `puhui db upgrade`")
        event = next_event(
            record,
            seq=head.seq + 1,
            prev_hash=head.hash,
            occurred_at=self._clock.now(),
            key=self._key,
        )
        self._connection.execute(
            audit_events.insert().values(
                seq=event.seq,
                actor=event.actor,
                action=event.action,
                entity=event.entity,
                entity_id=event.entity_id,
                occurred_at=event.occurred_at,
                payload_digest=event.payload_digest,
                prev_hash=event.prev_hash,
                hash=event.hash,
            )
        )
        self._connection.execute(
            update(audit_head).where(audit_head.c.id == 1).values(seq=event.seq, hash=event.hash)
        )
        return event

    def events(self) -> Iterator[AuditEvent]:
        last_seq = 0
        while True:
            rows = self._connection.execute(
                select(audit_events)
                .where(audit_events.c.seq > last_seq)
                .order_by(audit_events.c.seq)
                .limit(_STREAM_BATCH)
            ).all()
            if not rows:
                return
            for row in rows:
                yield AuditEvent(
                    seq=row.seq,
                    actor=row.actor,
                    action=row.action,
                    entity=row.entity,
                    entity_id=row.entity_id,
                    occurred_at=row.occurred_at,
                    payload_digest=row.payload_digest,
                    prev_hash=row.prev_hash,
                    hash=row.hash,
                )
            last_seq = rows[-1].seq

    def head(self) -> ChainHead | None:
        row = self._connection.execute(
            select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
        ).one_or_none()
        return None if row is None else ChainHead(seq=row.seq, hash=row.hash)

    def count(self) -> int:
        return int(
            self._connection.execute(select(func.count()).select_from(audit_events)).scalar_one()
        )
