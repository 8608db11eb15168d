"""The audit log on SQL: append under a lock on the chain head, stream for verification."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC

from sqlalchemy import Connection, bindparam, func, select, update

from puhui.adapters.db import fast
from puhui.adapters.db.tables import audit_events, audit_head
from puhui.domain.audit import AuditEvent, AuditRecord, ChainHead, next_event
from puhui.domain.clock import Clock
from puhui.domain.errors import ConfigurationError
from puhui.services.ports import AuditQuery

_STREAM_BATCH = 10_000


# Built once: constructing and cache-keying a Core statement per append cost more than
# running it on SQLite, and every state change in the platform appends at least one event.
_READ_HEAD_FOR_UPDATE = (
    select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
)
_INSERT_EVENT = audit_events.insert()
_MOVE_HEAD = (
    update(audit_head)
    .where(audit_head.c.id == 1)
    .values(seq=bindparam("b_seq"), hash=bindparam("b_hash"))
)


class SqlAuditLog:
    def __init__(
        self, connection: Connection, *, clock: Clock, key: bytes, read_only: bool = False
    ) -> None:
        self._connection = connection
        self._read_only = read_only
        self._clock = clock
        self._key = key
        # The head as this transaction last wrote it, with the (nested) transaction it is
        # valid in: a second append in the same transaction need not read the locked row
        # again. Any commit, rollback or savepoint change makes the cached head unusable.
        self._cached_head: tuple[object, object, int, str] | None = None

    def _current_head(self) -> tuple[int, str]:
        root = self._connection.get_transaction()
        nested = self._connection.get_nested_transaction()
        cached = self._cached_head
        if (
            cached is not None
            and root is not None
            and cached[0] is root
            and cached[1] is nested
            and root.is_active
        ):
            return cached[2], cached[3]
        head = fast.execute(self._connection, _READ_HEAD_FOR_UPDATE).one_or_none()
        if head is None:
            raise ConfigurationError("audit chain head is missing: run `puhui db upgrade`")
        return int(head.seq), str(head.hash)

    def append(self, record: AuditRecord) -> AuditEvent:
        if self._read_only:
            raise RuntimeError("a state change recorded in a read-only unit of work")
        seq, prev_hash = self._current_head()
        event = next_event(
            record,
            seq=seq + 1,
            prev_hash=prev_hash,
            occurred_at=self._clock.now(),
            key=self._key,
        )
        fast.execute(
            self._connection,
            _INSERT_EVENT,
            {
                "seq": event.seq,
                "actor": event.actor,
                "action": event.action,
                "entity": event.entity,
                "entity_id": event.entity_id,
                "occurred_at": event.occurred_at,
                "payload_digest": event.payload_digest,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
            },
        )
        fast.execute(self._connection, _MOVE_HEAD, {"b_seq": event.seq, "b_hash": event.hash})
        self._cached_head = (
            self._connection.get_transaction(),
            self._connection.get_nested_transaction(),
            event.seq,
            event.hash,
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

    def search(self, query: AuditQuery) -> list[AuditEvent]:
        column = audit_events.c
        statement = select(audit_events)
        if query.actor is not None:
            statement = statement.where(column.actor == query.actor)
        if query.action_prefix is not None:
            statement = statement.where(
                column.action.startswith(query.action_prefix, autoescape=True)
            )
        if query.entity is not None:
            statement = statement.where(column.entity == query.entity)
        if query.entity_id is not None:
            statement = statement.where(column.entity_id == query.entity_id)
        if query.since is not None:
            statement = statement.where(column.occurred_at >= query.since)
        if query.until is not None:
            statement = statement.where(column.occurred_at < query.until)
        rows = self._connection.execute(
            statement.order_by(column.seq.desc()).limit(query.limit).offset(query.offset)
        ).all()
        return [
            AuditEvent(
                seq=row.seq,
                actor=row.actor,
                action=row.action,
                entity=row.entity,
                entity_id=row.entity_id,
                occurred_at=row.occurred_at
                if row.occurred_at.tzinfo is not None
                else row.occurred_at.replace(tzinfo=UTC),
                payload_digest=row.payload_digest,
                prev_hash=row.prev_hash,
                hash=row.hash,
            )
            for row in rows
        ]

    def count(self) -> int:
        return int(
            self._connection.execute(select(func.count()).select_from(audit_events)).scalar_one()
        )
