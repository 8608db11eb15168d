"""Token revocation (per token and per user) and rate-limit counts shared by API processes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels = None
depends_on = None

ID = 40
HASH = 64


def upgrade() -> None:
    op.create_table(
        "security_revoked_tokens",
        sa.Column("token_id", sa.String(ID), nullable=False),
        sa.Column("user_id", sa.String(ID), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_id", name="pk_security_revoked_tokens"),
    )
    op.create_index(
        "ix_security_revoked_tokens_expires_at", "security_revoked_tokens", ["expires_at"]
    )
    op.create_table(
        "security_user_revocations",
        sa.Column("user_id", sa.String(ID), nullable=False),
        sa.Column("revoked_before", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_security_user_revocations"),
    )
    op.create_table(
        "security_rate_limits",
        sa.Column("limiter", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(HASH), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("limiter", "key_hash", name="pk_security_rate_limits"),
    )


def downgrade() -> None:
    op.drop_table("security_rate_limits")
    op.drop_table("security_user_revocations")
    op.drop_index("ix_security_revoked_tokens_expires_at", table_name="security_revoked_tokens")
    op.drop_table("security_revoked_tokens")
