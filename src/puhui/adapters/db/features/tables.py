"""Feature store tables on the shared metadata: feature sets and one row per enterprise-month."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from puhui.adapters.db.tables import metadata

_VERSION = 32

# One row per version of the definitions: the names and kinds of the values its rows hold,
# in order. A row of an old version still reads back (replay) through its own layout.
feature_sets = Table(
    "feature_sets",
    metadata,
    Column("version", String(_VERSION), primary_key=True),
    Column("columns_json", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# The month leads the key: a rebuild deletes one month by a range of the primary key, and a
# read by (month, uscc) is one probe.
enterprise_features = Table(
    "enterprise_features",
    metadata,
    Column("as_of_month", Date, nullable=False),
    Column("uscc", String(18), nullable=False),
    Column("source_month", Date, nullable=False),
    Column(
        "feature_set_version",
        String(_VERSION),
        ForeignKey("feature_sets.version"),
        nullable=False,
    ),
    Column("computed_at", DateTime(timezone=True), nullable=False),
    # The values packed by ``puhui.adapters.db.features.codec`` in the feature set's order.
    Column("packed_values", LargeBinary, nullable=False),
    PrimaryKeyConstraint("as_of_month", "uscc", name="pk_enterprise_features"),
)
