"""The term an applicant asks for: a risk feature (term bounds exposure) and shown to staff.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("origination_applications") as batch:
        batch.add_column(sa.Column("requested_term_months", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("origination_applications") as batch:
        batch.drop_column("requested_term_months")
