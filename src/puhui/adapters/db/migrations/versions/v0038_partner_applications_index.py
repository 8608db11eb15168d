"""A partner's applications are listed by an index on (partner_id, created_at).

A partner's page of its applications (the open API's list, newest first) read
``partner_id = ? [AND status = ?] ORDER BY created_at DESC, application_id LIMIT n``. With an
index on ``partner_id`` alone, the page without a status sorted every application the partner
ever brought; with a status, SQLite (which keeps no statistics) walked the status's index
through every partner's applications of that status. The index on the partner and the
creation time serves both: the partner's newest first, stopping at the page.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0038"
down_revision: str | None = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_origination_applications_partner_id_created_at",
        "origination_applications",
        ["partner_id", "created_at"],
    )
    op.drop_index("ix_origination_applications_partner_id", table_name="origination_applications")


def downgrade() -> None:
    op.create_index(
        "ix_origination_applications_partner_id", "origination_applications", ["partner_id"]
    )
    op.drop_index(
        "ix_origination_applications_partner_id_created_at",
        table_name="origination_applications",
    )
