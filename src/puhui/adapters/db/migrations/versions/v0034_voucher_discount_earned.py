"""The discount interest of a financed voucher is earned over its days, not at settlement:
each financing keeps how much of its interest was recognised as income so far.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision: str | None = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voucher_financings") as batch:
        batch.add_column(
            sa.Column("interest_earned_fen", sa.BigInteger(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("voucher_financings") as batch:
        batch.drop_column("interest_earned_fen")
