"""Applications keep the green pre-screen's label and catalogue category the decision read
(``green_label``, ``green_category``; docs/green.md), so the loans of their lines can be
reported as green loans by category.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision: str | None = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("origination_applications") as batch:
        batch.add_column(sa.Column("green_label", sa.String(20), nullable=True))
        batch.add_column(sa.Column("green_category", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("origination_applications") as batch:
        batch.drop_column("green_category")
        batch.drop_column("green_label")
