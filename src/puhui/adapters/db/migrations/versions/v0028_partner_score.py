"""Applications keep the referring partner's risk score of the applicant (0-1000), which the
strategy reads as ``partner_score`` (facilitation, docs/partners.md).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision: str | None = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("origination_applications") as batch:
        batch.add_column(sa.Column("partner_score", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("origination_applications") as batch:
        batch.drop_column("partner_score")
