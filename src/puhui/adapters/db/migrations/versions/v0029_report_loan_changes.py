"""The portfolio report counts renewed, extended and restructured loans: one row per date and
kind of change (loans, outstanding principal, non-performing loans among them).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision: str | None = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_loan_changes",
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("loans", sa.BigInteger, nullable=False),
        sa.Column("principal_fen", sa.BigInteger, nullable=False),
        sa.Column("non_performing_loans", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("as_of", "kind", name="pk_report_loan_changes"),
    )


def downgrade() -> None:
    op.drop_table("report_loan_changes")
