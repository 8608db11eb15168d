"""A rejected role grant keeps why.

A second admin rejecting a request for an approver or administrator kept only who and when:
the requester had to ask why, and an auditor reviewing privileged access could not read it
back (the audit trail keeps payload digests). Grants decided before this revision, and
approved ones, keep NULL.

Revision ID: 0050
Revises: 0049
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0050"
down_revision: str | None = "0049"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("security_role_grants") as batch:
        batch.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("security_role_grants") as batch:
        batch.drop_column("decision_reason")
