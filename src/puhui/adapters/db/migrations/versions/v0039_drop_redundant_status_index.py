"""Drop the index on an application's status alone: (status, created_at) serves its reads.

Every read of applications by status (the console's queues, a status's count, the
simulation's book) also finds its rows through the index on (status, created_at), whose
leading column is the status. The single-column index only cost writes: an application is
inserted once and changes status at least twice on its way to a decision, and each change
moved its entry in both indexes. With SQLite's write-ahead log that was five of the 93
pages an application wrote (docs/benchmarks.md, "Where an application's CPU goes").

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0039"
down_revision: str | None = "0038"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_origination_applications_status", table_name="origination_applications")


def downgrade() -> None:
    op.create_index("ix_origination_applications_status", "origination_applications", ["status"])
