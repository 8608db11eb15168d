"""Drop the unique constraint on an audit event's chain hash: it guarded nothing, and every
event paid for it.

The chain hash covers the event's number and the previous hash, so two events can only
share one if somebody forged them, and verification (``puhui audit verify``), which
recomputes every hash in number order, finds that and more; the number is the primary key.
Nothing reads events by their hash. The constraint's index, meanwhile, took a random
64-character key per event: one more B-tree page written per event (about 7 of the 68
pages an application wrote to SQLite's write-ahead log), and on PostgreSQL one more index
entry at the insert and another when the sealer sets the hash.

On SQLite the table is rebuilt (a constraint cannot be dropped in place): a one-off copy of
the audit trail, rows and numbers unchanged.

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0040"
down_revision: str | None = "0039"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_constraint("uq_audit_events_hash", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.create_unique_constraint("uq_audit_events_hash", ["hash"])
