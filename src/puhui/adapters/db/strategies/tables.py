"""The strategy_versions table (shares the platform's metadata)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from puhui.adapters.db.tables import metadata

STATUSES = ("draft", "submitted", "approved", "active", "retired")

strategy_versions = Table(
    "strategy_versions",
    metadata,
    Column("name", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("document", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("submitted_by", String(128)),
    Column("submitted_at", DateTime(timezone=True)),
    Column("approved_by", String(128)),
    Column("approved_at", DateTime(timezone=True)),
    Column("activated_at", DateTime(timezone=True)),
    Column("retired_at", DateTime(timezone=True)),
    PrimaryKeyConstraint("name", "version", name="pk_strategy_versions"),
    CheckConstraint(
        "status IN ('draft', 'submitted', 'approved', 'active', 'retired')", name="status"
    ),
    CheckConstraint("approved_by IS NULL OR approved_by <> created_by", name="four_eyes"),
    # At most one active version per strategy name, enforced by the database itself.
    Index(
        "uq_strategy_versions_one_active",
        "name",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
)
