"""Table definitions (SQLAlchemy Core). Money columns are BIGINT fen; timestamps are UTC."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

AUDIT_ORDINAL_SEQUENCE = "audit_event_ordinal"
"""PostgreSQL: the sequence that numbers audit events (SQLite numbers them under its lock)."""

audit_events = Table(
    "audit_events",
    metadata,
    Column(
        "seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    ),
    Column("actor", String(128), nullable=False),
    Column("action", String(128), nullable=False),
    Column("entity", String(64), nullable=False),
    Column("entity_id", String(128), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("payload_digest", String(64), nullable=False),
    # The chain link and hash, set when the event is sealed (NULL while it is pending). Not
    # unique: verification recomputes every hash, and the index cost every event a page
    # (migration 0040).
    Column("prev_hash", String(64), nullable=True),
    Column("hash", String(64), nullable=True),
    # The event's own MAC, written with it (NULL only on events from before sealing).
    Column("event_mac", String(64), nullable=True),
    # Audit search: who touched an entity, what an actor did, what happened when.
    Index("ix_audit_events_entity", "entity", "entity_id"),
    Index("ix_audit_events_actor", "actor"),
    Index("ix_audit_events_occurred_at", "occurred_at"),
)

# One row (id = 1): the last event's sequence number and hash. Appends lock this row, which
# serialises writers on PostgreSQL and lets verification detect events cut off the end.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    # The sealer's fence (PostgreSQL): every event numbered up to fence_seq was written by a
    # transaction with an id below fence_xid, so once no such transaction is running, the
    # events up to fence_seq are final and may be sealed.
    Column("fence_seq", BigInteger, nullable=False, server_default="0"),
    Column("fence_xid", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("id = 1", name="single_row"),
)
