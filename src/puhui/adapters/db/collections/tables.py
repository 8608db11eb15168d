"""Tables of collections and concentration, on the shared metadata (money BIGINT fen).

A collection case follows one delinquent receipt (借据); its promises to pay, contact log and
write-off proposals hang off it. The contact log's free text may name people, so it is sealed
like the other personal data (``adapters.db.encryption``). A concentration evaluation keeps the
book's clusters and its breaches as they were on the day it ran.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from puhui.adapters.db.columns import ID, UtcDateTime
from puhui.adapters.db.tables import metadata

_ACTOR = 128

collection_cases = Table(
    "collection_cases",
    metadata,
    Column("case_id", String(ID), primary_key=True),
    Column("receipt_id", String(ID), nullable=False, unique=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("line_id", String(ID), nullable=True),
    Column("status", String(16), nullable=False),
    Column("bucket", String(16), nullable=True),
    Column("days_past_due", Integer, nullable=False),
    Column("overdue_fen", BigInteger, nullable=False),
    Column("outstanding_fen", BigInteger, nullable=False),
    Column("assignee", String(_ACTOR), nullable=True),
    Column("opened_on", Date, nullable=False),
    Column("refreshed_on", Date, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    CheckConstraint("overdue_fen >= 0 AND outstanding_fen >= 0", name="amounts_not_negative"),
    # The queue: open cases of a bucket, oldest then largest first.
    Index("ix_collection_cases_queue", "status", "bucket", "days_past_due", "overdue_fen"),
)

collection_promises = Table(
    "collection_promises",
    metadata,
    Column("promise_id", String(ID), primary_key=True),
    Column("case_id", String(ID), nullable=False, index=True),
    Column("receipt_id", String(ID), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("made_on", Date, nullable=False),
    Column("promised_on", Date, nullable=False),
    Column("grace_days", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("paid_fen", BigInteger, nullable=False),
    Column("evaluated_on", Date, nullable=True),
    Column("created_by", String(_ACTOR), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("amount_fen > 0 AND paid_fen >= 0", name="amounts"),
)

collection_contacts = Table(
    "collection_contacts",
    metadata,
    Column("contact_id", String(ID), primary_key=True),
    Column("case_id", String(ID), nullable=False),
    Column("receipt_id", String(ID), nullable=False),
    Column("contacted_at", UtcDateTime, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("result", String(16), nullable=False),
    Column("made_by", String(_ACTOR), nullable=False),
    Column("note_enc", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_collection_contacts_case", "case_id", "contacted_at"),
)

write_off_proposals = Table(
    "write_off_proposals",
    metadata,
    Column("proposal_id", String(ID), primary_key=True),
    Column("receipt_id", String(ID), nullable=False, index=True),
    # Equal to receipt_id while the proposal is undecided, NULL after: one open proposal per
    # receipt, as a portable unique constraint (NULLs never collide).
    Column("open_receipt_id", String(ID), nullable=True, unique=True),
    Column("case_id", String(ID), nullable=True),
    Column("principal_fen", BigInteger, nullable=False),
    Column("interest_fen", BigInteger, nullable=False),
    Column("days_past_due", Integer, nullable=False),
    Column("reason", String(400), nullable=False),
    Column("proposed_by", String(_ACTOR), nullable=False),
    Column("proposed_on", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("decided_by", String(_ACTOR), nullable=True),
    Column("decided_on", Date, nullable=True),
    Column("decision_note", String(400), nullable=True),
    Column("entry_key", String(200), nullable=True),
    Column("written_off_fen", BigInteger, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    CheckConstraint("principal_fen >= 0 AND interest_fen >= 0", name="amounts_not_negative"),
)

concentration_evaluations = Table(
    "concentration_evaluations",
    metadata,
    Column("evaluation_id", String(ID), primary_key=True),
    Column("document", String(100), nullable=False),
    Column("as_of", Date, nullable=False, index=True),
    Column("evaluated_at", UtcDateTime, nullable=False),
    Column("evaluated_by", String(_ACTOR), nullable=False),
    Column("book_fen", BigInteger, nullable=False),
    Column("customers", Integer, nullable=False),
    # Exposure by cluster (dimension, cluster, exposure, alerted, customers) as JSON.
    Column("clusters_json", Text, nullable=False),
    Column("proposed_strategy", String(100), nullable=True),
)

concentration_breaches = Table(
    "concentration_breaches",
    metadata,
    Column("evaluation_id", String(ID), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("dimension", String(32), nullable=False),
    Column("cluster", String(100), nullable=False),
    Column("code", String(64), nullable=False),
    Column("value", String(20), nullable=False),
    Column("threshold", String(20), nullable=False),
    Column("exposure_fen", BigInteger, nullable=False),
    Column("base_fen", BigInteger, nullable=False),
    Column("parameter", String(64), nullable=False),
    Column("multiplier", String(20), nullable=False),
    PrimaryKeyConstraint("evaluation_id", "seq", name="pk_concentration_breaches"),
)
