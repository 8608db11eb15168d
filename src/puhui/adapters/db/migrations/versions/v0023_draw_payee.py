"""A receipt records the payee of an entrusted payment (受托支付): dealer loans pay the core.

The column is nullable: receipts drawn before it existed, and every draw paid to the
borrower, have none. Issue #17 numbers this migration 0023 after the supply-chain tables
(0022); on this branch 0022 is not there yet, so it follows 0021 — merging re-points
``down_revision`` to "0022" (one line; the migration touches no table 0022 creates).

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision: str | None = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.add_column(sa.Column("payee", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("payee")
