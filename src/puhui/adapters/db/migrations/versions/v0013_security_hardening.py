"""Role grants: approver and admin roles need a second admin (four eyes).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision: str | None = "0012"
branch_labels = None
depends_on = None

ID = 40


def upgrade() -> None:
    op.create_table(
        "security_role_grants",
        sa.Column("grant_id", sa.String(ID), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(ID), nullable=True),
        sa.Column("requested_by", sa.String(ID), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(ID), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("grant_id", name="pk_security_role_grants"),
    )
    op.create_index(
        "ix_security_role_grants_status", "security_role_grants", ["status", "requested_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_security_role_grants_status", table_name="security_role_grants")
    op.drop_table("security_role_grants")
