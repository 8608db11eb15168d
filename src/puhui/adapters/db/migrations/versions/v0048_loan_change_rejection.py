"""A rejected loan change keeps who rejected it, when and why.

Until now the reason was given (the API, the CLI and the console all ask for it) but kept only
in the audit trail, whose payloads are digests: nobody could read it back. A change rejected
before this revision keeps NULLs; on any other status the three columns stay empty.

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0048"
down_revision: str | None = "0047"
branch_labels = None
depends_on = None

_CHECK = "ck_loan_changes_rejection_when_rejected"


def upgrade() -> None:
    with op.batch_alter_table("loan_changes") as batch:
        batch.add_column(sa.Column("rejected_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("rejection_reason", sa.Text(), nullable=True))
        batch.create_check_constraint(
            op.f(_CHECK),
            "status = 'rejected' OR (rejected_by IS NULL AND rejected_at IS NULL"
            " AND rejection_reason IS NULL)",
        )


def downgrade() -> None:
    with op.batch_alter_table("loan_changes") as batch:
        batch.drop_constraint(op.f(_CHECK), type_="check")
        batch.drop_column("rejection_reason")
        batch.drop_column("rejected_at")
        batch.drop_column("rejected_by")
