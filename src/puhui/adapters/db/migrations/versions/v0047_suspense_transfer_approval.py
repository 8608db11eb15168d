"""Applying money held in suspense to another loan than the channel's takes two people: one
requests the transfer with a reason, a second approves it. An item's status may be
``transfer_requested`` (the money still held), and the item records the loan asked for, who
requested the transfer and when. The item also keeps the latest request turned down (a refund
or a transfer): why, by whom and when, for whoever looks at it next.

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0047"
down_revision: str | None = "0046"
branch_labels = None
depends_on = None

KEY = 200
_CHECK = "ck_repayment_suspense_status_known"
"""The check's name as migration 0045 created it (the naming convention's prefix included)."""


def upgrade() -> None:
    with op.batch_alter_table("repayment_suspense") as batch:
        batch.alter_column(
            "status", existing_type=sa.String(16), type_=sa.String(20), existing_nullable=False
        )
        batch.add_column(sa.Column("transfer_loan_id", sa.String(KEY), nullable=True))
        batch.add_column(sa.Column("transfer_requested_by", sa.String(KEY), nullable=True))
        batch.add_column(
            sa.Column("transfer_requested_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("rejected_request", sa.String(8), nullable=True))
        batch.add_column(sa.Column("rejected_reason", sa.String(200), nullable=True))
        batch.add_column(sa.Column("rejected_by", sa.String(KEY), nullable=True))
        batch.add_column(sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True))
        batch.drop_constraint(op.f(_CHECK), type_="check")
        batch.create_check_constraint(
            op.f(_CHECK),
            "status IN ('held', 'refund_requested', 'transfer_requested', 'applied', 'refunded')",
        )


def downgrade() -> None:
    # A transfer waiting for its approval is not made: the item is held again, as before.
    op.execute(
        "UPDATE repayment_suspense SET status = 'held', reason = NULL, version = version + 1 "
        "WHERE status = 'transfer_requested'"
    )
    with op.batch_alter_table("repayment_suspense") as batch:
        batch.drop_constraint(op.f(_CHECK), type_="check")
        batch.create_check_constraint(
            op.f(_CHECK), "status IN ('held', 'refund_requested', 'applied', 'refunded')"
        )
        batch.drop_column("rejected_at")
        batch.drop_column("rejected_by")
        batch.drop_column("rejected_reason")
        batch.drop_column("rejected_request")
        batch.drop_column("transfer_requested_at")
        batch.drop_column("transfer_requested_by")
        batch.drop_column("transfer_loan_id")
        batch.alter_column(
            "status", existing_type=sa.String(20), type_=sa.String(16), existing_nullable=False
        )
