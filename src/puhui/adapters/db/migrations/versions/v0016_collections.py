"""Collections (cases, promises to pay, contact log, write-off proposals) and concentration
evaluations with their breaches.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision: str | None = "0015"
branch_labels = None
depends_on = None

ID = 40
ACTOR = 128


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "collection_cases",
        sa.Column("case_id", sa.String(ID), nullable=False),
        sa.Column("receipt_id", sa.String(ID), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("line_id", sa.String(ID), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("bucket", sa.String(16), nullable=True),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("overdue_fen", sa.BigInteger(), nullable=False),
        sa.Column("outstanding_fen", sa.BigInteger(), nullable=False),
        sa.Column("assignee", sa.String(ACTOR), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("refreshed_on", sa.Date(), nullable=False),
        _timestamp("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "overdue_fen >= 0 AND outstanding_fen >= 0",
            name="amounts_not_negative",
        ),
        sa.PrimaryKeyConstraint("case_id", name="pk_collection_cases"),
        sa.UniqueConstraint("receipt_id", name="uq_collection_cases_receipt_id"),
    )
    op.create_index("ix_collection_cases_customer_id", "collection_cases", ["customer_id"])
    op.create_index(
        "ix_collection_cases_queue",
        "collection_cases",
        ["status", "bucket", "days_past_due", "overdue_fen"],
    )
    op.create_table(
        "collection_promises",
        sa.Column("promise_id", sa.String(ID), nullable=False),
        sa.Column("case_id", sa.String(ID), nullable=False),
        sa.Column("receipt_id", sa.String(ID), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("made_on", sa.Date(), nullable=False),
        sa.Column("promised_on", sa.Date(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("evaluated_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(ACTOR), nullable=False),
        _timestamp("created_at"),
        sa.CheckConstraint("amount_fen > 0 AND paid_fen >= 0", name="amounts"),
        sa.PrimaryKeyConstraint("promise_id", name="pk_collection_promises"),
    )
    op.create_index("ix_collection_promises_case_id", "collection_promises", ["case_id"])
    op.create_table(
        "collection_contacts",
        sa.Column("contact_id", sa.String(ID), nullable=False),
        sa.Column("case_id", sa.String(ID), nullable=False),
        sa.Column("receipt_id", sa.String(ID), nullable=False),
        _timestamp("contacted_at"),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("made_by", sa.String(ACTOR), nullable=False),
        sa.Column("note_enc", sa.Text(), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("contact_id", name="pk_collection_contacts"),
    )
    op.create_index(
        "ix_collection_contacts_case", "collection_contacts", ["case_id", "contacted_at"]
    )
    op.create_table(
        "write_off_proposals",
        sa.Column("proposal_id", sa.String(ID), nullable=False),
        sa.Column("receipt_id", sa.String(ID), nullable=False),
        sa.Column("open_receipt_id", sa.String(ID), nullable=True),
        sa.Column("case_id", sa.String(ID), nullable=True),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(400), nullable=False),
        sa.Column("proposed_by", sa.String(ACTOR), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(ACTOR), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decision_note", sa.String(400), nullable=True),
        sa.Column("entry_key", sa.String(200), nullable=True),
        sa.Column("written_off_fen", sa.BigInteger(), nullable=True),
        _timestamp("created_at"),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "principal_fen >= 0 AND interest_fen >= 0",
            name="amounts_not_negative",
        ),
        sa.PrimaryKeyConstraint("proposal_id", name="pk_write_off_proposals"),
        sa.UniqueConstraint("open_receipt_id", name="uq_write_off_proposals_open_receipt_id"),
    )
    op.create_index("ix_write_off_proposals_receipt_id", "write_off_proposals", ["receipt_id"])
    op.create_table(
        "concentration_evaluations",
        sa.Column("evaluation_id", sa.String(ID), nullable=False),
        sa.Column("document", sa.String(100), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        _timestamp("evaluated_at"),
        sa.Column("evaluated_by", sa.String(ACTOR), nullable=False),
        sa.Column("book_fen", sa.BigInteger(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("clusters_json", sa.Text(), nullable=False),
        sa.Column("proposed_strategy", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("evaluation_id", name="pk_concentration_evaluations"),
    )
    op.create_index("ix_concentration_evaluations_as_of", "concentration_evaluations", ["as_of"])
    op.create_table(
        "concentration_breaches",
        sa.Column("evaluation_id", sa.String(ID), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(32), nullable=False),
        sa.Column("cluster", sa.String(100), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("value", sa.String(20), nullable=False),
        sa.Column("threshold", sa.String(20), nullable=False),
        sa.Column("exposure_fen", sa.BigInteger(), nullable=False),
        sa.Column("base_fen", sa.BigInteger(), nullable=False),
        sa.Column("parameter", sa.String(64), nullable=False),
        sa.Column("multiplier", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("evaluation_id", "seq", name="pk_concentration_breaches"),
    )


def downgrade() -> None:
    op.drop_table("concentration_breaches")
    op.drop_index("ix_concentration_evaluations_as_of", table_name="concentration_evaluations")
    op.drop_table("concentration_evaluations")
    op.drop_index("ix_write_off_proposals_receipt_id", table_name="write_off_proposals")
    op.drop_table("write_off_proposals")
    op.drop_index("ix_collection_contacts_case", table_name="collection_contacts")
    op.drop_table("collection_contacts")
    op.drop_index("ix_collection_promises_case_id", table_name="collection_promises")
    op.drop_table("collection_promises")
    op.drop_index("ix_collection_cases_queue", table_name="collection_cases")
    op.drop_index("ix_collection_cases_customer_id", table_name="collection_cases")
    op.drop_table("collection_cases")
