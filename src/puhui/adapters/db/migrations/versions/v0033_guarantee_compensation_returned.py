"""A paid guarantee claim may be returned: the loan cured (back to current, or repaid) before
it was written off, so the bank hands the compensation it held back to the agency. The claim's
status may be ``returned`` and the day is kept in ``returned_on``.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision: str | None = "0032"
branch_labels = None
depends_on = None

_NAME = "ck_guarantee_claims_ck_guarantee_claims_status"
"""The name migration 0025 gave the check (the naming convention prefixed it once more)."""


def upgrade() -> None:
    with op.batch_alter_table("guarantee_claims") as batch:
        batch.add_column(sa.Column("returned_on", sa.Date(), nullable=True))
        batch.drop_constraint(op.f(_NAME), type_="check")
        batch.create_check_constraint(
            op.f(_NAME), "status IN ('raised', 'paid', 'withdrawn', 'returned')"
        )


def downgrade() -> None:
    op.execute("DELETE FROM guarantee_claims WHERE status = 'returned'")
    with op.batch_alter_table("guarantee_claims") as batch:
        batch.drop_constraint(op.f(_NAME), type_="check")
        batch.create_check_constraint(op.f(_NAME), "status IN ('raised', 'paid', 'withdrawn')")
        batch.drop_column("returned_on")
