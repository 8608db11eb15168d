"""Guarantee agreements may name a channel: applications through it are decided with the
agreement's coverage (the strategy's ``guarantee_coverage`` input).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision: str | None = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("guarantee_agreements") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("guarantee_agreements") as batch:
        batch.drop_column("channel")
