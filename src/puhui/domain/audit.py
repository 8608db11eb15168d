"""Audit events and their hash chain: any edited, inserted or deleted event is detectable.

Each event's hash covers its own fields and the hash of the event before it, so changing
or removing one event breaks every link after it. The chain head (last sealed sequence
number and hash) is stored apart, so that cutting events off the end is detected too. With
a secret key the hashes are HMACs, so that someone who can write to the database but does
not hold the key cannot rebuild a consistent chain.

An event is written first and sealed into the chain later (on PostgreSQL, by a sealer after
the writing transaction has finished: see the audit trail ADR). Until then it carries its
own MAC over its fields, so a pending event cannot be edited or forged without the key
either; sealing refuses an event whose MAC does not match. Sequence numbers increase
strictly but may skip a number that a rolled-back transaction took: the hash links, not
dense numbers, prove that nothing between two sealed events was removed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring as _quote  # json.dumps's string escaping
from typing import Any, NamedTuple

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
    prev_hash: str | None
    hash: str | None
    event_mac: str | None = None

    @property
    def sealed(self) -> bool:
        """True once the event is linked into the chain (its hash is known)."""
        return self.hash is not None


def _timestamp(at: datetime) -> str:
    if at.tzinfo is None:
        # Some databases hand back naive datetimes; the platform stores UTC only.
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _sign(message: str, key: bytes) -> str:
    encoded = message.encode()
    if key:
        return hmac.new(key, encoded, hashlib.sha256).hexdigest()
    return hashlib.sha256(encoded).hexdigest()


class _Signed(NamedTuple):
    """The canonical JSON (``canonical_json``) of an event's fields, in the two parts the
    signed messages share: the event MAC adds ``"kind":"event"`` between them, the chain
    hash adds ``prev_hash`` after them. Written out by hand because every state change of
    the platform signs twice: the keys are fixed and already in sorted order, and each
    string is escaped by the same C function ``json.dumps`` uses."""

    head: str
    tail: str
    seq: int

    def event_mac(self, key: bytes) -> str:
        return _sign(f'{self.head},"kind":"event",{self.tail},"seq":{self.seq}}}', key)

    def chain_hash(self, prev_hash: str, key: bytes) -> str:
        return _sign(
            f'{self.head},{self.tail},"prev_hash":{_quote(prev_hash)},"seq":{self.seq}}}', key
        )


def _signed(  # noqa: PLR0917 - the signed fields, in one place
    seq: int,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    occurred_at: str,
    payload_digest: str,
) -> _Signed:
    if type(seq) is not int:  # bool, or a number json would write otherwise
        raise InvalidInput("an audit sequence number is an integer")
    return _Signed(
        f'{{"action":{_quote(action)},"actor":{_quote(actor)},"entity":{_quote(entity)},'
        f'"entity_id":{_quote(entity_id)}',
        f'"occurred_at":{_quote(occurred_at)},"payload_digest":{_quote(payload_digest)}',
        seq,
    )


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
    signed = _signed(seq, actor, action, entity, entity_id, _timestamp(occurred_at), payload_digest)
    return signed.chain_hash(prev_hash, key)


def event_mac(
    *,
    seq: int,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    occurred_at: datetime,
    payload_digest: str,
    key: bytes = b"",
) -> str:
    """The event's own MAC, written with it: it protects the event before it is sealed."""
    signed = _signed(seq, actor, action, entity, entity_id, _timestamp(occurred_at), payload_digest)
    return signed.event_mac(key)


def event_mac_of(event: AuditEvent, *, key: bytes = b"") -> str:
    return event_mac(
        seq=event.seq,
        actor=event.actor,
        action=event.action,
        entity=event.entity,
        entity_id=event.entity_id,
        occurred_at=event.occurred_at,
        payload_digest=event.payload_digest,
        key=key,
    )


def seal_hash(event: AuditEvent, *, prev_hash: str, key: bytes = b"") -> str:
    """The chain hash of ``event`` linked after ``prev_hash``."""
    return chain_hash(
        seq=event.seq,
        actor=event.actor,
        action=event.action,
        entity=event.entity,
        entity_id=event.entity_id,
        occurred_at=event.occurred_at,
        payload_digest=event.payload_digest,
        prev_hash=prev_hash,
        key=key,
    )


def pending_event(
    record: AuditRecord, *, seq: int, occurred_at: datetime, key: bytes = b""
) -> AuditEvent:
    """An event written but not yet sealed: its own MAC, no link to the chain yet."""
    return _event(record, seq=seq, occurred_at=occurred_at, prev_hash=None, key=key)


def next_event(
    record: AuditRecord, *, seq: int, prev_hash: str, occurred_at: datetime, key: bytes = b""
) -> AuditEvent:
    """An event sealed at once after ``prev_hash``: its MAC and its chain hash."""
    return _event(record, seq=seq, occurred_at=occurred_at, prev_hash=prev_hash, key=key)


def _event(
    record: AuditRecord, *, seq: int, occurred_at: datetime, prev_hash: str | None, key: bytes
) -> AuditEvent:
    # The fields are formatted once for both signatures (every state change comes here).
    digest = payload_digest(record.payload)
    signed = _signed(
        seq,
        record.actor,
        record.action,
        record.entity,
        record.entity_id,
        _timestamp(occurred_at),
        digest,
    )
    return AuditEvent(
        seq=seq,
        actor=record.actor,
        action=record.action,
        entity=record.entity,
        entity_id=record.entity_id,
        occurred_at=occurred_at,
        payload_digest=digest,
        prev_hash=prev_hash,
        hash=None if prev_hash is None else signed.chain_hash(prev_hash, key),
        event_mac=signed.event_mac(key),
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


class ChainCheck(NamedTuple):
    """What a walk over the chain found: sealed events verified, the first break, pending."""

    checked: int
    first_break: ChainBreak | None
    pending: int = 0


def _mac_holds(event: AuditEvent, key: bytes) -> bool:
    if event.event_mac is None:
        return False
    return hmac.compare_digest(event_mac_of(event, key=key), event.event_mac)


def verify_chain(  # noqa: PLR0911 - one walk, one early return per kind of break
    events: Iterable[AuditEvent], head: ChainHead | None, *, key: bytes = b""
) -> ChainCheck:
    """Walk the events in sequence order; return what was checked and the first break.

    Events up to the head must be sealed and linked; events after it are pending (written,
    not yet sealed, or sealed after the head was read): each must carry a valid MAC of its
    own. Sequence numbers must increase; a skipped number is a rolled-back write, and the
    link of the next event proves nothing sealed was taken out there.
    """
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    prev_seq = 0
    sealed_seq = 0
    prev_hash = GENESIS_HASH
    checked = 0
    pending = 0
    for event in events:
        if event.seq <= prev_seq:
            return ChainCheck(
                checked, ChainBreak(event.seq, f"sequence goes back from {prev_seq}"), pending
            )
        if event.seq > head_seq:
            if not _mac_holds(event, key):
                return ChainCheck(
                    checked, ChainBreak(event.seq, "pending event does not match its MAC"), pending
                )
            pending += 1
            prev_seq = event.seq
            continue
        if event.hash is None or event.prev_hash is None:
            return ChainCheck(
                checked,
                ChainBreak(event.seq, "event inside the sealed chain has no hash"),
                pending,
            )
        if event.prev_hash != prev_hash:
            if event.seq != prev_seq + 1:
                return ChainCheck(
                    checked,
                    ChainBreak(
                        prev_seq + 1,
                        f"events between {prev_seq} and {event.seq} are missing "
                        "(the next link does not match)",
                    ),
                    pending,
                )
            return ChainCheck(
                checked,
                ChainBreak(event.seq, "previous-hash link does not match the event before"),
                pending,
            )
        if not hmac.compare_digest(seal_hash(event, prev_hash=prev_hash, key=key), event.hash):
            return ChainCheck(
                checked, ChainBreak(event.seq, "event content does not match its hash"), pending
            )
        if event.event_mac is not None and not _mac_holds(event, key):
            return ChainCheck(
                checked, ChainBreak(event.seq, "event content does not match its MAC"), pending
            )
        checked += 1
        prev_hash = event.hash
        prev_seq = sealed_seq = event.seq
    if head_seq != sealed_seq:
        return ChainCheck(
            checked,
            ChainBreak(
                min(head_seq, sealed_seq) + 1,
                f"chain head records event {head_seq} but the sealed log ends at event "
                f"{sealed_seq}",
            ),
            pending,
        )
    if not hmac.compare_digest(head_hash, prev_hash):
        return ChainCheck(
            checked,
            ChainBreak(sealed_seq, "chain head hash does not match the last event"),
            pending,
        )
    return ChainCheck(checked, None, pending)
