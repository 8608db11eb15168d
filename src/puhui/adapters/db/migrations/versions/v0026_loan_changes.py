"""Loan contract changes: extension (展期), restructuring (重组) and renewal without principal
repayment (无还本续贷), each linking the loan it changes (and, for a renewal, the new loan),
with who requested and who approved it and the restructuring's observation period.

No personal data: loans and user names only.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision: str | None = "0025"
branch_labels = None
depends_on = None

_ID = 40


def upgrade() -> None:
    op.create_table(
        "loan_changes",
        sa.Column("change_id", sa.String(_ID), primary_key=True),
        sa.Column("loan_id", sa.String(_ID), sa.ForeignKey("loans.loan_id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("in_difficulty", sa.Boolean, nullable=False),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("periods_before", sa.Integer, nullable=False),
        sa.Column("original_term_months", sa.Integer, nullable=False),
        sa.Column("maturity_before", sa.Date, nullable=False),
        sa.Column("extension_months", sa.Integer, nullable=True),
        sa.Column("new_term_months", sa.Integer, nullable=True),
        sa.Column("new_loan_id", sa.String(_ID), sa.ForeignKey("loans.loan_id"), nullable=True),
        sa.Column("principal_fen", sa.BigInteger, nullable=True),
        sa.Column("maturity_after", sa.Date, nullable=True),
        sa.Column("observation_ends_on", sa.Date, nullable=True),
        sa.Column("second_in_observation", sa.Boolean, nullable=False),
        sa.Column("approved_by", sa.String(128), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('renewal', 'extension', 'restructuring')", name="ck_loan_changes_kind"
        ),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'rejected')", name="ck_loan_changes_status"
        ),
        sa.CheckConstraint(
            "approved_by IS NULL OR approved_by <> requested_by",
            name="ck_loan_changes_four_eyes",
        ),
    )
    op.create_index("ix_loan_changes_loan", "loan_changes", ["loan_id", "effective_on"])
    op.create_index("ix_loan_changes_new_loan", "loan_changes", ["new_loan_id"])
    op.create_index("ix_loan_changes_status", "loan_changes", ["status", "requested_at"])


def downgrade() -> None:
    op.drop_index("ix_loan_changes_status", table_name="loan_changes")
    op.drop_index("ix_loan_changes_new_loan", table_name="loan_changes")
    op.drop_index("ix_loan_changes_loan", table_name="loan_changes")
    op.drop_table("loan_changes")
