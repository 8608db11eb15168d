"""A receipt records the payee of an entrusted payment (受托支付): dealer loans pay the core.

The column is nullable: receipts drawn before it existed, and every draw paid to the
borrower, have none. It follows the supply-chain tables (0022) and touches none of them.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision: str | None = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.add_column(sa.Column("payee", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("payee")
