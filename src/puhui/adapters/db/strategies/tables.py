"""The strategy_versions table (shares the platform's metadata)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
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
    # strategy | triggers | concentration: which compiler validates the document (one
    # lifecycle, one table for every governed document).
    Column("kind", String(32), nullable=False, server_default="strategy"),
    # The latest time a submitted version was sent back to draft: by whom, when and why
    # (migration 0049); kept after it is submitted again, for whoever approves it next.
    Column("returned_by", String(128)),
    Column("returned_at", DateTime(timezone=True)),
    Column("return_reason", Text),
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

strategy_challengers = Table(
    "strategy_challengers",
    metadata,
    # One challenger per strategy name at a time, beside its active (champion) version.
    Column("name", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("share_bp", Integer, nullable=False),
    Column("mode", String(16), nullable=False),
    Column("started_by", String(128), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("mode IN ('live', 'shadow')", name="mode"),
    CheckConstraint("share_bp >= 0 AND share_bp < 10000", name="share"),
    ForeignKeyConstraint(
        ["name", "version"],
        ["strategy_versions.name", "strategy_versions.version"],
        name="fk_strategy_challengers_version",
    ),
)
