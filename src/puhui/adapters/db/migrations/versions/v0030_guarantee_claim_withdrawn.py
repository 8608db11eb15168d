"""A raised guarantee claim may be withdrawn: the loan cured (back to current or repaid) before
the agency paid it, so the claim's status may be ``withdrawn`` too.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0030"
down_revision: str | None = "0029"
branch_labels = None
depends_on = None

_NAME = "ck_guarantee_claims_ck_guarantee_claims_status"
"""The name migration 0025 gave the check (the naming convention prefixed it once more)."""


def upgrade() -> None:
    with op.batch_alter_table("guarantee_claims") as batch:
        batch.drop_constraint(op.f(_NAME), type_="check")
        batch.create_check_constraint(op.f(_NAME), "status IN ('raised', 'paid', 'withdrawn')")


def downgrade() -> None:
    op.execute("DELETE FROM guarantee_claims WHERE status = 'withdrawn'")
    with op.batch_alter_table("guarantee_claims") as batch:
        batch.drop_constraint(op.f(_NAME), type_="check")
        batch.create_check_constraint(op.f(_NAME), "status IN ('raised', 'paid')")
