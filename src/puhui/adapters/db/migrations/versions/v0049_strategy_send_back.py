"""A strategy version sent back to draft keeps who sent it back, when and why.

Until now sending a submitted version back to draft cleared its submission and kept nothing
else: the author saw a draft again and had to ask why. The three columns hold the latest
sending back and stay after the version is submitted again, so its next approver sees what
was asked. Versions sent back before this revision keep NULLs.

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0049"
down_revision: str | None = "0048"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("strategy_versions") as batch:
        batch.add_column(sa.Column("returned_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("return_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("strategy_versions") as batch:
        batch.drop_column("return_reason")
        batch.drop_column("returned_at")
        batch.drop_column("returned_by")
