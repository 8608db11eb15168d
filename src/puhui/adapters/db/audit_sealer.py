"""Sealing pending audit events into the hash chain once their transactions are over.

On PostgreSQL a writer takes a number from a sequence and writes its event pending (see
``audit_repository``). Numbers are drawn in one order and committed in another, and a
rolled-back transaction leaves its number unused, so the sealer may link an event only
when no running transaction can still commit a lower number. It knows that from a fence:
it reads the last number drawn, *then* takes a transaction id of its own. Every number up
to that value was drawn by a transaction that already had an id (a writer takes its id
before its number), hence an id below the sealer's. Once the oldest transaction still
running (the snapshot's ``xmin``) is at or past the sealer's id, all of those writers have
committed or rolled back, and the events up to the fence are final: sealed in number order,
a missing number is a rollback, never a write still in flight. (The snapshot's ``xmax`` is
no substitute for the sealer's id: it is one past the last *completed* transaction, and a
running transaction above it appears in no snapshot's list of running ones.)

Sealers take a transaction-level advisory lock, so one seals at a time; the fence is kept in
the head row, where the next run (of any process) finds it final or not.

On SQLite events are sealed as they are written, and sealing here has nothing to do.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref

from sqlalchemy import Connection, Engine, bindparam, event, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from puhui.adapters.db.tables import audit_events, audit_head
from puhui.domain.audit import AuditEvent, event_mac_of, seal_hash

logger = logging.getLogger(__name__)

ADVISORY_LOCK_KEY = 0x70756875_61756469  # "puhuaudi": the audit sealer's lock
_BATCH = 5_000
UNSEALED_KEY = "puhui_audit_unsealed"
"""``Connection.info`` flag: this connection wrote pending events since it last sealed."""

_DRAWN = text("SELECT last_value, is_called FROM audit_event_ordinal")  # the sequence
_OWN_XID = text("SELECT pg_current_xact_id()::text::bigint")
_OLDEST_RUNNING = text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
_READ_HEAD = select(
    audit_head.c.seq, audit_head.c.hash, audit_head.c.fence_seq, audit_head.c.fence_xid
).where(audit_head.c.id == 1)
# One statement for a batch: an ``executemany`` ran one UPDATE per event on the server.
# The range of the batch's numbers lets the planner find the rows through the primary key
# whatever the table's size: without it, it joined the batch to a scan of the whole table
# while that table was small enough (a custom plan each time, for about a hundred numbers).
_SEAL_EVENTS = text(
    "UPDATE audit_events AS e SET prev_hash = v.prev_hash, hash = v.hash "
    "FROM unnest(CAST(:seqs AS bigint[]), CAST(:prevs AS varchar[]), "
    "CAST(:hashes AS varchar[])) AS v(seq, prev_hash, hash) "
    "WHERE e.seq = v.seq AND e.seq BETWEEN :low AND :high"
)
_MOVE_HEAD = (
    update(audit_head)
    .where(audit_head.c.id == 1)
    .values(
        seq=bindparam("b_seq"),
        hash=bindparam("b_hash"),
        fence_seq=bindparam("b_fence_seq"),
        fence_xid=bindparam("b_fence_xid"),
    )
)


def seal_pending(connection: Connection, *, key: bytes, wait: bool = True) -> int:
    """Seal every final pending event, in number order, in the connection's transaction.

    Returns how many were sealed. With ``wait`` it queues behind a sealer at work (to
    verify everything final); without, it leaves the work to that sealer. An event whose
    own MAC does not hold is not sealed, nor anything after it: the chain stops there and
    verification names it.
    """
    if connection.dialect.name != "postgresql":
        return 0
    if wait:
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
    elif not connection.execute(
        text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY}
    ).scalar_one():
        return 0
    # The order matters, one statement each: the number, then an id, then a snapshot.
    last_value, is_called = connection.execute(_DRAWN).one()
    drawn = int(last_value) if is_called else int(last_value) - 1
    own_xid = int(connection.execute(_OWN_XID).scalar_one())
    oldest_running = int(connection.execute(_OLDEST_RUNNING).scalar_one())
    head = connection.execute(_READ_HEAD).one()
    if oldest_running >= own_xid:  # no transaction older than this one is running
        final_through, fence = drawn, (drawn, own_xid)
    elif oldest_running >= head.fence_xid:  # every writer behind the last fence has finished
        final_through, fence = int(head.fence_seq), (drawn, own_xid)
    else:
        final_through, fence = int(head.seq), (int(head.fence_seq), int(head.fence_xid))
    seq, prev_hash = int(head.seq), str(head.hash)
    sealed = 0
    while seq < final_through:
        rows = connection.execute(
            select(audit_events)
            .where(audit_events.c.seq > seq, audit_events.c.seq <= final_through)
            .order_by(audit_events.c.seq)
            .limit(_BATCH)
        ).all()
        seqs: list[int] = []
        prevs: list[str] = []
        hashes: list[str] = []
        refused = False
        for row in rows:
            event = AuditEvent(
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
            if event.sealed or event.event_mac != event_mac_of(event, key=key):
                logger.error(
                    "audit event %d is not sealed: %s; the chain stops before it",
                    event.seq,
                    "it is already sealed beyond the head"
                    if event.sealed
                    else "its MAC does not match",
                )
                refused = True
                break
            event_hash = seal_hash(event, prev_hash=prev_hash, key=key)
            seqs.append(event.seq)
            prevs.append(prev_hash)
            hashes.append(event_hash)
            seq, prev_hash = event.seq, event_hash
        if seqs:
            connection.execute(
                _SEAL_EVENTS,
                {
                    "seqs": seqs,
                    "prevs": prevs,
                    "hashes": hashes,
                    "low": min(seqs),
                    "high": max(seqs),
                },
            )
            sealed += len(seqs)
        if refused or len(rows) < _BATCH:
            break
    connection.execute(
        _MOVE_HEAD,
        {"b_seq": seq, "b_hash": prev_hash, "b_fence_seq": fence[0], "b_fence_xid": fence[1]},
    )
    return sealed


class _BackgroundSealer:
    """A daemon thread that seals when woken by a commit, at most every ``pause`` seconds."""

    def __init__(self, engine: Engine, key: bytes, pause: float) -> None:
        self.wake = threading.Event()
        self.stopped = False
        self._engine = weakref.ref(engine)
        self._key = key
        self._pause = pause
        self.thread = threading.Thread(target=self._run, name="audit-sealer", daemon=True)

    def _run(self) -> None:
        while True:
            # A commit wakes it; the timeout catches events whose fence was not yet final.
            self.wake.wait(timeout=1.0)
            self.wake.clear()
            engine = self._engine()
            if engine is None or self.stopped:  # ends with the engine it serves
                return
            try:
                with engine.connect() as connection, connection.begin():
                    seal_pending(connection, key=self._key, wait=False)
            except SQLAlchemyError as exc:  # the next run retries; the events stay pending
                logger.warning("audit sealing failed, will retry: %s", exc)
            del engine
            time.sleep(self._pause)


_SEALERS: weakref.WeakKeyDictionary[Engine, _BackgroundSealer] = weakref.WeakKeyDictionary()
_SEALERS_GUARD = threading.Lock()


def seal_in_background(engine: Engine, *, key: bytes, pause_seconds: float = 0.25) -> bool:
    """Seal this engine's pending events in a thread of this process (a server).

    Commits then only wake the thread instead of sealing on the request path, and many
    commits share one sealing transaction. Returns False (and does nothing) on SQLite or
    when the thread already runs; call it in each server process (threads do not survive
    fork).
    """
    if engine.dialect.name != "postgresql":
        return False
    with _SEALERS_GUARD:
        running = _SEALERS.get(engine)
        if running is not None and running.thread.is_alive() and not running.stopped:
            return False
        sealer = _BackgroundSealer(engine, key, pause_seconds)

        @event.listens_for(engine, "engine_disposed")
        def _stop(_engine: Engine) -> None:
            sealer.stopped = True
            sealer.wake.set()

        _SEALERS[engine] = sealer
        sealer.thread.start()
        return True


_INLINE_PAUSE_SECONDS = 0.05
_last_inline_seal: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()


def seal_after_commit(connection: Connection, *, key: bytes) -> None:
    """After a commit that wrote pending events: wake the background sealer, or seal now.

    Without a background sealer (a CLI command, a batch job) the committing thread seals,
    at most every 50 ms per engine, so that a job committing in a tight loop does not double
    its transactions; what a skipped turn leaves pending is sealed by the next turn or by
    ``puhui audit verify``. The commit has happened: a failure to seal is logged, not raised
    (the events stay pending, protected by their own MACs).
    """
    if not connection.info.pop(UNSEALED_KEY, False):
        return
    engine = connection.engine
    sealer = _SEALERS.get(engine)
    if sealer is not None and sealer.thread.is_alive() and not sealer.stopped:
        sealer.wake.set()
        return
    now = time.monotonic()
    if now - _last_inline_seal.get(engine, -_INLINE_PAUSE_SECONDS) < _INLINE_PAUSE_SECONDS:
        return
    _last_inline_seal[engine] = now
    try:
        with connection.begin():
            seal_pending(connection, key=key, wait=False)
    except SQLAlchemyError as exc:
        logger.warning("audit sealing after commit failed, left for later: %s", exc)
