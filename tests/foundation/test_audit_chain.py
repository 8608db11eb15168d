import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from puhui.domain.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditRecord,
    ChainHead,
    canonical_json,
    event_mac_of,
    next_event,
    payload_digest,
    verify_chain,
)
from puhui.domain.errors import InvalidInput

KEY = b"k" * 32
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def build_chain(n: int, key: bytes = KEY) -> list[AuditEvent]:
    events: list[AuditEvent] = []
    prev = GENESIS_HASH
    for i in range(1, n + 1):
        record = AuditRecord(
            "alice", "line.opened", "credit_line", f"line_{i}", {"limit_fen": i * 100}
        )
        event = next_event(
            record, seq=i, prev_hash=prev, occurred_at=T0 + timedelta(seconds=i), key=key
        )
        events.append(event)
        prev = event.hash
    return events


def head_of(events: list[AuditEvent]) -> ChainHead:
    return ChainHead(events[-1].seq, events[-1].hash)


def test_an_untouched_chain_verifies() -> None:
    events = build_chain(5)
    assert verify_chain(events, head_of(events), key=KEY) == (5, None, 0)


def test_an_empty_chain_verifies_against_the_genesis_head() -> None:
    assert verify_chain([], ChainHead(0, GENESIS_HASH), key=KEY) == (0, None, 0)


def test_an_edited_event_is_the_first_break() -> None:
    events = build_chain(5)
    events[2] = replace(events[2], actor="mallory")
    checked, broken, _ = verify_chain(events, head_of(events), key=KEY)
    assert checked == 2
    assert broken is not None
    assert broken.seq == 3
    assert "hash" in broken.reason


def test_an_edited_payload_digest_is_detected() -> None:
    events = build_chain(3)
    events[0] = replace(events[0], payload_digest=payload_digest({"limit_fen": 1}))
    _, broken, _ = verify_chain(events, head_of(events), key=KEY)
    assert broken is not None
    assert broken.seq == 1


def test_a_deleted_event_in_the_middle_is_detected() -> None:
    events = build_chain(5)
    head = head_of(events)
    del events[1]
    _, broken, _ = verify_chain(events, head, key=KEY)
    assert broken is not None
    assert broken.seq == 2


def test_events_cut_off_the_end_are_detected_by_the_head() -> None:
    events = build_chain(5)
    head = head_of(events)
    _, broken, _ = verify_chain(events[:3], head, key=KEY)
    assert broken is not None
    assert broken.seq == 4
    assert "chain head" in broken.reason


def test_a_chain_rebuilt_without_the_key_does_not_verify() -> None:
    forged = build_chain(3, key=b"")
    _, broken, _ = verify_chain(forged, head_of(forged), key=KEY)
    assert broken is not None
    assert broken.seq == 1


def test_naive_timestamps_from_the_database_are_read_as_utc() -> None:
    events = build_chain(2)
    naive = [replace(e, occurred_at=e.occurred_at.replace(tzinfo=None)) for e in events]
    assert verify_chain(naive, head_of(events), key=KEY) == (2, None, 0)


def test_records_need_every_field() -> None:
    with pytest.raises(InvalidInput, match="actor"):
        AuditRecord(" ", "x", "y", "z", {})


@pytest.mark.parametrize(
    "text",
    ["plain", 'quote " and back\\slash', "new\nline\ttab\x00\x1f", "中文 é 😀 \u2028", ""],
)
def test_the_signed_messages_are_the_canonical_json_of_the_fields(text: str) -> None:
    # The messages are written out by hand for speed: they must stay byte for byte the
    # canonical JSON that earlier events were signed with.
    at = datetime(2026, 3, 2, 1, 30, 0, 123456, tzinfo=UTC)
    entity_id = text or "id"
    record = AuditRecord(
        actor=f"a:{text}x", action="t.done", entity="e", entity_id=entity_id, payload={"v": text}
    )
    event = next_event(record, seq=12345678901, prev_hash=f"p{text}", occurred_at=at, key=KEY)
    fields = {
        "seq": 12345678901,
        "actor": record.actor,
        "action": "t.done",
        "entity": "e",
        "entity_id": entity_id,
        "occurred_at": "2026-03-02T01:30:00.123456Z",
        "payload_digest": event.payload_digest,
    }
    mac = hmac.new(KEY, canonical_json({**fields, "kind": "event"}).encode(), hashlib.sha256)
    link = hmac.new(
        KEY, canonical_json({**fields, "prev_hash": f"p{text}"}).encode(), hashlib.sha256
    )
    assert event.event_mac == mac.hexdigest()
    assert event.hash == link.hexdigest()
    assert event_mac_of(event, key=KEY) == event.event_mac


def test_a_sequence_number_must_be_an_integer() -> None:
    record = AuditRecord(actor="a", action="t.done", entity="e", entity_id="1", payload={})
    with pytest.raises(InvalidInput):
        next_event(record, seq=True, prev_hash="0" * 64, occurred_at=datetime.now(UTC), key=KEY)
