"""A restructuring may change the loan's contract rate: the change record keeps the new rate.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision: str | None = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loan_changes") as batch:
        batch.add_column(sa.Column("new_annual_rate", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("loan_changes") as batch:
        batch.drop_column("new_annual_rate")
