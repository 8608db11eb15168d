"""A restructuring re-ages its loan: the change record keeps the arrears it brought forward.

The overdue principal, the interest and penalties billed, when the loan fell overdue and how
many days past due it was, at approval (``LoanAccount.arrears_brought_forward``). NULL: the
change brought nothing forward (not in arrears, not a restructuring, or approved before this).

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision: str | None = "0041"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("arrears_principal_fen", sa.BigInteger()),
    ("arrears_interest_fen", sa.BigInteger()),
    ("arrears_penalty_fen", sa.BigInteger()),
    ("arrears_overdue_since", sa.Date()),
    ("arrears_days_past_due", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("loan_changes") as batch:
        for name, kind in _COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("loan_changes") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
