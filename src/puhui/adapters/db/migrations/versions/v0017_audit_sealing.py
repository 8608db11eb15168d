"""Audit events are sealed into the hash chain after their transaction, not inside it.

Writers no longer lock the chain head: an event is written with a number (on PostgreSQL
from the sequence ``audit_event_ordinal``) and its own MAC, and a sealer links it into the
chain once no transaction that could still write an earlier number is running. So
``prev_hash`` and ``hash`` become nullable, ``event_mac`` is added, and the head gains the
sealer's fence. Existing events are already sealed and keep their hashes; the sequence
starts after the last one.

The downgrade refuses while events are pending (run ``puhui audit verify``, which seals
them, first). A chain sealed with a skipped number (a rolled-back write on PostgreSQL)
stays as it is: the older verifier reports such a gap as a jump.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision: str | None = "0016"
branch_labels = None
depends_on = None

SEQUENCE = "audit_event_ordinal"


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=True)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=True)
        batch.add_column(sa.Column("event_mac", sa.String(64), nullable=True))
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("fence_seq", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(sa.Column("fence_xid", sa.BigInteger, nullable=False, server_default="0"))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        last = bind.execute(sa.text("SELECT COALESCE(MAX(seq), 0) FROM audit_events")).scalar_one()
        op.execute(f"CREATE SEQUENCE {SEQUENCE} AS BIGINT START WITH {int(last) + 1} MINVALUE 1")


def downgrade() -> None:
    bind = op.get_bind()
    pending = bind.execute(
        sa.text("SELECT COUNT(*) FROM audit_events WHERE hash IS NULL")
    ).scalar_one()
    if pending:
        raise RuntimeError(
            f"{pending} audit events are not sealed yet: run `puhui audit verify` "
            "(it seals them) before downgrading"
        )
    if bind.dialect.name == "postgresql":
        op.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("fence_xid")
        batch.drop_column("fence_seq")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("event_mac")
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
