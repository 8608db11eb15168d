"""A refund from suspense takes two people: one requests it, a second approves it. An item's
status may be ``refund_requested`` (the money still held), and the item records who requested
the refund and when. An item may also hold the excess of an order the books credited less
for (``posted_fen``, what they had credited when it was held).

Revision ID: 0046
Revises: 0045
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0046"
down_revision: str | None = "0045"
branch_labels = None
depends_on = None

KEY = 200
_CHECK = "ck_repayment_suspense_status_known"
"""The check's name as migration 0045 created it (the naming convention's prefix included)."""


def upgrade() -> None:
    with op.batch_alter_table("repayment_suspense") as batch:
        batch.alter_column(
            "status", existing_type=sa.String(10), type_=sa.String(16), existing_nullable=False
        )
        batch.add_column(sa.Column("refund_requested_by", sa.String(KEY), nullable=True))
        batch.add_column(
            sa.Column("refund_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("posted_fen", sa.BigInteger, nullable=True))
        batch.drop_constraint(op.f(_CHECK), type_="check")
        batch.create_check_constraint(
            op.f(_CHECK), "status IN ('held', 'refund_requested', 'applied', 'refunded')"
        )


def downgrade() -> None:
    # A refund waiting for its approval is not made: the item is held again, as before.
    op.execute(
        "UPDATE repayment_suspense SET status = 'held', reason = NULL, version = version + 1 "
        "WHERE status = 'refund_requested'"
    )
    with op.batch_alter_table("repayment_suspense") as batch:
        batch.drop_constraint(op.f(_CHECK), type_="check")
        batch.create_check_constraint(op.f(_CHECK), "status IN ('held', 'applied', 'refunded')")
        batch.drop_column("posted_fen")
        batch.drop_column("refund_requested_at")
        batch.drop_column("refund_requested_by")
        batch.alter_column(
            "status", existing_type=sa.String(16), type_=sa.String(10), existing_nullable=False
        )
