"""Repayments held in suspense (挂账): an order the channel collected on a closed day that no
loan was credited with is held, then applied to a loan or refunded, once.

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0045"
down_revision: str | None = "0044"
branch_labels = None
depends_on = None

ID = 40
KEY = 200


def upgrade() -> None:
    op.create_table(
        "repayment_suspense",
        sa.Column("item_id", sa.String(ID), nullable=False),
        sa.Column("order_id", sa.String(128), nullable=False, unique=True),
        sa.Column("loan_id", sa.String(KEY), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("value_date", sa.Date, nullable=False),
        sa.Column("channel_ref", sa.String(128), nullable=False),
        sa.Column("run_id", sa.String(ID), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("held_by", sa.String(KEY), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_on", sa.Date, nullable=True),
        sa.Column("resolved_by", sa.String(KEY), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("applied_loan_id", sa.String(KEY), nullable=True),
        sa.Column("repayment_key", sa.String(KEY), nullable=True, unique=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("item_id", name="pk_repayment_suspense"),
        sa.CheckConstraint("amount_fen > 0", name="amount_positive"),
        sa.CheckConstraint("status IN ('held', 'applied', 'refunded')", name="status_known"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["repayment_reconciliations.run_id"], name="fk_repayment_suspense_run"
        ),
    )
    op.create_index("ix_repayment_suspense_value_date", "repayment_suspense", ["value_date"])
    op.create_index("ix_repayment_suspense_status", "repayment_suspense", ["status"])


def downgrade() -> None:
    op.drop_index("ix_repayment_suspense_status", "repayment_suspense")
    op.drop_index("ix_repayment_suspense_value_date", "repayment_suspense")
    op.drop_table("repayment_suspense")
