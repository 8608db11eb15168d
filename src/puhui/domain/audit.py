"""Audit events and their hash chain: any edited, inserted or deleted event is detectable.

Each event's hash covers its own fields and the hash of the event before it, so changing
or removing one event breaks every link after it. The chain head (last sequence number and
hash) is stored apart, so that cutting events off the end is detected too. With a secret
key the hashes are HMACs, so that someone who can write to the database but does not hold
the key cannot rebuild a consistent chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from puhui.domain.errors import InvalidInput

GENESIS_HASH = "0" * 64


def canonical_json(payload: Mapping[str, Any]) -> str:
    """The one serialisation used for digests: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def payload_digest(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What a service asks to record: who did what to which entity."""

    actor: str
    action: str
    entity: str
    entity_id: str
    payload: Mapping[str, Any]

    def __post_init__(self) -> None:
        for name in ("actor", "action", "entity", "entity_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(f"audit {name} must be a non-empty string")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """An appended, chained audit event as it is stored."""

    seq: int
    actor: str
    action: str
    entity: str
    entity_id: str
    occurred_at: datetime
    payload_digest: str
    prev_hash: str
    hash: str


def _timestamp(at: datetime) -> str:
    if at.tzinfo is None:
        # Some databases hand back naive datetimes; the platform stores UTC only.
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def chain_hash(
    *,
    seq: int,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    occurred_at: datetime,
    payload_digest: str,
    prev_hash: str,
    key: bytes = b"",
) -> str:
    message = canonical_json(
        {
            "seq": seq,
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "occurred_at": _timestamp(occurred_at),
            "payload_digest": payload_digest,
            "prev_hash": prev_hash,
        }
    ).encode()
    if key:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def next_event(
    record: AuditRecord, *, seq: int, prev_hash: str, occurred_at: datetime, key: bytes = b""
) -> AuditEvent:
    digest = payload_digest(record.payload)
    return AuditEvent(
        seq=seq,
        actor=record.actor,
        action=record.action,
        entity=record.entity,
        entity_id=record.entity_id,
        occurred_at=occurred_at,
        payload_digest=digest,
        prev_hash=prev_hash,
        hash=chain_hash(
            seq=seq,
            actor=record.actor,
            action=record.action,
            entity=record.entity,
            entity_id=record.entity_id,
            occurred_at=occurred_at,
            payload_digest=digest,
            prev_hash=prev_hash,
            key=key,
        ),
    )


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first event at which the chain stops being consistent, and why."""

    seq: int
    reason: str


@dataclass(frozen=True, slots=True)
class ChainHead:
    seq: int
    hash: str


def verify_chain(
    events: Iterable[AuditEvent], head: ChainHead | None, *, key: bytes = b""
) -> tuple[int, ChainBreak | None]:
    """Walk the events in sequence order; return how many were checked and the first break."""
    expected_seq = 1
    prev_hash = GENESIS_HASH
    checked = 0
    for event in events:
        if event.seq != expected_seq:
            missing = expected_seq if event.seq > expected_seq else event.seq
            return checked, ChainBreak(
                missing, f"sequence jumps from {expected_seq - 1} to {event.seq}"
            )
        if event.prev_hash != prev_hash:
            return checked, ChainBreak(
                event.seq, "previous-hash link does not match the event before"
            )
        recomputed = chain_hash(
            seq=event.seq,
            actor=event.actor,
            action=event.action,
            entity=event.entity,
            entity_id=event.entity_id,
            occurred_at=event.occurred_at,
            payload_digest=event.payload_digest,
            prev_hash=event.prev_hash,
            key=key,
        )
        if not hmac.compare_digest(recomputed, event.hash):
            return checked, ChainBreak(event.seq, "event content does not match its hash")
        checked += 1
        prev_hash = event.hash
        expected_seq += 1
    last_seq = expected_seq - 1
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != last_seq or not hmac.compare_digest(head_hash, prev_hash):
        return checked, ChainBreak(
            min(head_seq, last_seq) + 1 if head_seq != last_seq else last_seq,
            f"chain head records event {head_seq} but the log ends at event {last_seq}"
            if head_seq != last_seq
            else "chain head hash does not match the last event",
        )
    return checked, None
