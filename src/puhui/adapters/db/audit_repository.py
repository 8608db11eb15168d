"""The audit log on SQL: append (sealed at once on SQLite, pending on PostgreSQL), stream.

SQLite admits one writer at a time, so an event is chained inside its own transaction, under
the head it read. On PostgreSQL that lock on the head row serialised every writing
transaction of the platform for its whole length; there an event is written pending (a
number from a sequence and its own MAC) and ``audit_sealer`` links it into the chain after
its transaction has finished.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Insert,
    TextualSelect,
    bindparam,
    func,
    select,
    text,
    update,
)

from puhui.adapters.db import fast
from puhui.adapters.db.audit_sealer import UNSEALED_KEY, seal_pending
from puhui.adapters.db.tables import audit_events, audit_head
from puhui.domain.audit import AuditEvent, AuditRecord, ChainHead, next_event, pending_event
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
# The transaction takes its id before its number: the sealer's fence relies on every number
# being drawn by a transaction that already has an id (the CTE is evaluated first).
_NEXT_ORDINAL = text(
    "WITH tx AS MATERIALIZED (SELECT pg_current_xact_id() AS xid) "
    "SELECT nextval('audit_event_ordinal') AS n FROM tx"  # tables.AUDIT_ORDINAL_SEQUENCE
).columns(n=BigInteger())
# Several numbers at once, for the events of one unit of work written together; the
# transaction's id is still taken first, and the numbers come back in increasing order.
# One statement per count, with the count written in: with ``generate_series(1, $1)`` the
# server re-planned every execution (a generic plan expects 1,000 rows, so the planner kept
# choosing a custom one), about 80 µs of its CPU each time.
_NEXT_ORDINALS: dict[int, TextualSelect] = {}


def _next_ordinals(count: int) -> TextualSelect:
    statement = _NEXT_ORDINALS.get(count)
    if statement is None:
        if count < 2:
            raise ValueError(f"a batch of ordinals holds at least two, not {count}")
        series = f"generate_series(1, {int(count)})"  # a number: no text from outside
        statement = _NEXT_ORDINALS[count] = text(
            "WITH tx AS MATERIALIZED (SELECT pg_current_xact_id() AS xid) "  # noqa: S608
            "SELECT n FROM (SELECT nextval('audit_event_ordinal') AS n "
            "FROM tx, " + series + ") AS drawn ORDER BY n"
        ).columns(n=BigInteger())
    return statement


_EVENT_COLUMNS = tuple(column.name for column in audit_events.columns)
_INSERT_EVENTS: dict[int, Insert] = {}


def _insert_events(events: Sequence[AuditEvent]) -> tuple[Insert, dict[str, Any]]:
    """One INSERT of several rows (built once per count) and its parameters.

    An ``executemany`` of two rows cost more on psycopg (its pipeline machinery) than one
    statement with two rows of values."""
    count = len(events)
    statement = _INSERT_EVENTS.get(count)
    if statement is None:
        statement = _INSERT_EVENTS[count] = audit_events.insert().values(
            [{name: bindparam(f"{name}_{i}") for name in _EVENT_COLUMNS} for i in range(count)]
        )
    params = {
        f"{name}_{i}": value
        for i, event in enumerate(events)
        for name, value in _row(event).items()
    }
    return statement, params


_MOVE_HEAD = (
    update(audit_head)
    .where(audit_head.c.id == 1)
    .values(seq=bindparam("b_seq"), hash=bindparam("b_hash"))
)
# SQLite: move the head only if it is still where this process last moved it. Under BEGIN
# IMMEDIATE nobody else writes until the commit, so one matched row proves the guess was the
# head; no match (another process wrote, or the guessing transaction rolled back) costs a
# read of the head and a second update. The common case is one statement fewer per event.
_MOVE_HEAD_FROM = (
    update(audit_head)
    .where(
        audit_head.c.id == 1,
        audit_head.c.seq == bindparam("b_was_seq"),
        audit_head.c.hash == bindparam("b_was_hash"),
    )
    .values(seq=bindparam("b_seq"), hash=bindparam("b_hash"))
)
# The head each SQLite database's writers of this process last moved it to, by connection
# pool (one per engine; a disposed engine's new pool starts without a guess). Only a guess:
# ``_MOVE_HEAD_FROM`` checks it inside the write lock.
_LAST_HEADS: weakref.WeakKeyDictionary[Any, tuple[int, str]] = weakref.WeakKeyDictionary()


class SqlAuditLog:
    def __init__(
        self, connection: Connection, *, clock: Clock, key: bytes, read_only: bool = False
    ) -> None:
        self._connection = connection
        self._read_only = read_only
        self._clock = clock
        self._key = key
        self._deferred = connection.dialect.name == "postgresql"
        # The head as this transaction last wrote it, with the (nested) transaction it is
        # valid in: a second append in the same transaction need not read the locked row
        # again. Any commit, rollback or savepoint change makes the cached head unusable.
        self._cached_head: tuple[object, object, int, str] | None = None

    def _head_in_this_transaction(self) -> tuple[int, str] | None:
        """The head this transaction last moved, if it is still the same (nested)
        transaction: then it is the head, no guess."""
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
        return None

    def append(self, record: AuditRecord) -> AuditEvent:
        if self._read_only:
            raise RuntimeError("a state change recorded in a read-only unit of work")
        if self._deferred:
            return self._append_pending(record)
        return self._append_sealed([record])[0]

    def append_all(self, records: Sequence[AuditRecord]) -> list[AuditEvent]:
        """Append several events in this order, with fewer round trips than one by one.

        On PostgreSQL their numbers come from one statement and the rows go in with one
        more; on SQLite they are chained in turn, inserted together and the head moves once.
        """
        if self._read_only:
            raise RuntimeError("a state change recorded in a read-only unit of work")
        if not records:
            return []
        if not self._deferred:
            return self._append_sealed(records)
        if len(records) == 1:  # one event: the single append is as cheap
            return [self._append_pending(records[0])]
        occurred_at = self._clock.now()
        seqs = fast.execute(self._connection, _next_ordinals(len(records))).scalars()
        events = [
            pending_event(record, seq=int(seq), occurred_at=occurred_at, key=self._key)
            for record, seq in zip(records, seqs, strict=True)
        ]
        fast.execute(self._connection, *_insert_events(events))
        self._connection.info[UNSEALED_KEY] = True
        return events

    def _chain(self, records: Sequence[AuditRecord], seq: int, prev_hash: str) -> list[AuditEvent]:
        occurred_at = self._clock.now()
        events = []
        for record in records:
            event = next_event(
                record, seq=seq + 1, prev_hash=prev_hash, occurred_at=occurred_at, key=self._key
            )
            events.append(event)
            seq, prev_hash = event.seq, str(event.hash)
        return events

    def _append_sealed(self, records: Sequence[AuditRecord]) -> list[AuditEvent]:
        """SQLite: chain the events after the head, move the head, insert them, in this
        transaction (which holds the database's write lock)."""
        connection = self._connection
        known = self._head_in_this_transaction()
        pool = connection.engine.pool
        guess = known or _LAST_HEADS.get(pool)
        events: list[AuditEvent] = []
        if guess is not None:
            events = self._chain(records, *guess)
            last = events[-1]
            moved = fast.execute(
                connection,
                _MOVE_HEAD_FROM,
                {
                    "b_seq": last.seq,
                    "b_hash": last.hash,
                    "b_was_seq": guess[0],
                    "b_was_hash": guess[1],
                },
            ).rowcount
            if moved != 1:
                events = []
        if not events:
            head = fast.execute(connection, _READ_HEAD_FOR_UPDATE).one_or_none()
            if head is None:
                raise ConfigurationError("audit chain head is missing: run `puhui db upgrade`")
            events = self._chain(records, int(head.seq), str(head.hash))
            last = events[-1]
            fast.execute(connection, _MOVE_HEAD, {"b_seq": last.seq, "b_hash": last.hash})
        if len(events) == 1:
            fast.execute(connection, _INSERT_EVENT, _row(events[0]))
        else:
            fast.execute(connection, *_insert_events(events))
        head_now = (events[-1].seq, str(events[-1].hash))
        self._cached_head = (
            connection.get_transaction(),
            connection.get_nested_transaction(),
            *head_now,
        )
        _LAST_HEADS[pool] = head_now
        return events

    def _append_pending(self, record: AuditRecord) -> AuditEvent:
        seq = int(fast.execute(self._connection, _NEXT_ORDINAL).scalar_one())
        event = pending_event(record, seq=seq, occurred_at=self._clock.now(), key=self._key)
        fast.execute(self._connection, _INSERT_EVENT, _row(event))
        self._connection.info[UNSEALED_KEY] = True
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
                    event_mac=row.event_mac,
                )
            last_seq = rows[-1].seq

    def head(self) -> ChainHead | None:
        row = self._connection.execute(
            select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
        ).one_or_none()
        return None if row is None else ChainHead(seq=row.seq, hash=row.hash)

    def seal_pending(self) -> int:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot seal audit events")
        return seal_pending(self._connection, key=self._key, wait=True)

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
                event_mac=row.event_mac,
            )
            for row in rows
        ]

    def count(self) -> int:
        return int(
            self._connection.execute(select(func.count()).select_from(audit_events)).scalar_one()
        )


def _row(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "actor": event.actor,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "occurred_at": event.occurred_at,
        "payload_digest": event.payload_digest,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "event_mac": event.event_mac,
    }
