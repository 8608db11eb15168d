"""Stored decisions (inputs, versions, arm, shadow) and live strategy challengers.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision: str | None = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "origination_decisions",
        sa.Column(
            "application_id",
            sa.String(40),
            sa.ForeignKey("origination_applications.application_id"),
            primary_key=True,
        ),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("strategy_name", sa.String(64), nullable=False),
        sa.Column("strategy_version", sa.Integer, nullable=False),
        sa.Column("model_name", sa.String(64), nullable=True),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("arm", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("feature_source", sa.String(16), nullable=False),
        sa.Column("record_json", sa.Text, nullable=False),
    )
    op.create_index("ix_origination_decisions_as_of", "origination_decisions", ["as_of"])
    op.create_index(
        "ix_origination_decisions_model", "origination_decisions", ["model_version", "as_of"]
    )
    op.create_index(
        "ix_origination_decisions_strategy",
        "origination_decisions",
        ["strategy_name", "strategy_version"],
    )
    op.create_table(
        "strategy_challengers",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("share_bp", sa.Integer, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("started_by", sa.String(128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("mode IN ('live', 'shadow')", name="ck_strategy_challengers_mode"),
        sa.CheckConstraint(
            "share_bp >= 0 AND share_bp < 10000", name="ck_strategy_challengers_share"
        ),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["strategy_versions.name", "strategy_versions.version"],
            name="fk_strategy_challengers_version",
        ),
    )


def downgrade() -> None:
    op.drop_table("strategy_challengers")
    op.drop_index("ix_origination_decisions_strategy", table_name="origination_decisions")
    op.drop_index("ix_origination_decisions_model", table_name="origination_decisions")
    op.drop_index("ix_origination_decisions_as_of", table_name="origination_decisions")
    op.drop_table("origination_decisions")
