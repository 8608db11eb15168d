"""An application records its channel and the branch or village service point it came through.

Both columns are nullable: applications made before they were kept stay without them. The
branch code is indexed for the console's list of a branch's applications.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision: str | None = "0017"
branch_labels = None
depends_on = None

INDEX = "ix_origination_applications_branch_code"


def upgrade() -> None:
    with op.batch_alter_table("origination_applications") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=True))
        batch.add_column(sa.Column("branch_code", sa.String(16), nullable=True))
        batch.create_index(INDEX, ["branch_code"])


def downgrade() -> None:
    with op.batch_alter_table("origination_applications") as batch:
        batch.drop_index(INDEX)
        batch.drop_column("branch_code")
        batch.drop_column("channel")
