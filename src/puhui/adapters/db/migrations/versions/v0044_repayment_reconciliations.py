"""Repayment reconciliations (还款对账) are recorded: who compared which channel file with the
books of a value date, when, the totals, and each break. Until now a reconciliation was
computed and shown, and nothing kept it.

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0044"
down_revision: str | None = "0043"
branch_labels = None
depends_on = None

ID = 40
KEY = 200


def upgrade() -> None:
    op.create_table(
        "repayment_reconciliations",
        sa.Column("run_id", sa.String(ID), nullable=False),
        sa.Column("value_date", sa.Date, nullable=False),
        sa.Column("file_sha256", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=True),
        sa.Column("reconciled_by", sa.String(KEY), nullable=False),
        sa.Column("reconciled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("matched", sa.BigInteger, nullable=False),
        sa.Column("matched_fen", sa.BigInteger, nullable=False),
        sa.Column("ours_count", sa.BigInteger, nullable=False),
        sa.Column("ours_fen", sa.BigInteger, nullable=False),
        sa.Column("theirs_count", sa.BigInteger, nullable=False),
        sa.Column("theirs_fen", sa.BigInteger, nullable=False),
        sa.Column("breaks_count", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_repayment_reconciliations"),
    )
    op.create_index(
        "ix_repayment_reconciliations_value_date", "repayment_reconciliations", ["value_date"]
    )
    op.create_table(
        "repayment_reconciliation_breaks",
        sa.Column("run_id", sa.String(ID), nullable=False),
        sa.Column("line_no", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("order_id", sa.String(128), nullable=False),
        sa.Column("loan_id", sa.String(KEY), nullable=False),
        sa.Column("ours_loan_id", sa.Text, nullable=True),
        sa.Column("ours_fen", sa.BigInteger, nullable=True),
        sa.Column("theirs_fen", sa.BigInteger, nullable=True),
        sa.Column("channel_ref", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "line_no", name="pk_repayment_reconciliation_breaks"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["repayment_reconciliations.run_id"], name="fk_reconciliation_breaks_run"
        ),
    )


def downgrade() -> None:
    op.drop_table("repayment_reconciliation_breaks")
    op.drop_index("ix_repayment_reconciliations_value_date", "repayment_reconciliations")
    op.drop_table("repayment_reconciliations")
