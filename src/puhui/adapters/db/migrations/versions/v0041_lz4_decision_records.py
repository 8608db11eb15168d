"""Compress the stored decision and the application's assessment with LZ4 on PostgreSQL.

Every decision writes its replayable record (about 9.5 kB of JSON: inputs, trace, reasons)
and the application's assessment (about 4 kB). PostgreSQL compresses such values before
storing them, by default with its own ``pglz``, which cost the decision's INSERT about
190 µs of the server's CPU against 110 µs with LZ4 (``bench/application_cost.py``, ADR 0048),
for a value of about the same size. Values written before stay as they are: PostgreSQL reads
both methods.

A server built without LZ4 (or older than PostgreSQL 14) keeps ``pglz``: the columns are left
alone, and the platform works the same. SQLite stores these columns as they are, and has
nothing to change.

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0041"
down_revision: str | None = "0040"
branch_labels = None
depends_on = None

COLUMNS = (
    ("origination_decisions", "record_json"),
    ("origination_applications", "assessment_json"),
)


def _compression_methods() -> list[str]:
    """The methods this server offers for a column; none on SQLite, and none before
    PostgreSQL 14, which has no per-column method."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return []
    methods = bind.execute(
        text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
    ).scalar_one_or_none()
    return list(methods or [])


def upgrade() -> None:
    if "lz4" in _compression_methods():
        for table, column in COLUMNS:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION lz4")


def downgrade() -> None:
    if _compression_methods():
        for table, column in COLUMNS:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION default")
