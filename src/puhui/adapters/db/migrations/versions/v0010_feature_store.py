"""Feature store: enterprise features and strategy inputs by enterprise and month, with lineage.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feature_sets",
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("columns_json", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_feature_sets"),
    )
    op.create_table(
        "enterprise_features",
        sa.Column("as_of_month", sa.Date, nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("source_month", sa.Date, nullable=False),
        sa.Column("feature_set_version", sa.String(32), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("packed_values", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("as_of_month", "uscc", name="pk_enterprise_features"),
        sa.ForeignKeyConstraint(
            ["feature_set_version"],
            ["feature_sets.version"],
            name="fk_enterprise_features_feature_set_version_feature_sets",
        ),
    )


def downgrade() -> None:
    op.drop_table("enterprise_features")
    op.drop_table("feature_sets")
