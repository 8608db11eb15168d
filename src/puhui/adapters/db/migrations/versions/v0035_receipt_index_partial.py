"""The request log's receipt index holds only the requests that name a receipt.

Migration 0008 indexed the receipt named in every request's result JSON, so that a
statement finds a receipt's money requests by probe. Most requests name no receipt (the
payable vouchers' requests, among others, which are the busiest writers of the log), and
each of them still wrote a NULL entry into that index: one more page touched and one more
JSON parse per request, for an entry no lookup can use. The index becomes partial, on the
requests that name a receipt. A lookup by receipt (``expr IN (...)`` or ``expr = ...``)
implies ``expr IS NOT NULL``, so both SQLite and PostgreSQL still use it.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0035"
down_revision: str | None = "0034"
branch_labels = None
depends_on = None

REQUESTS_BY_RECEIPT = "ix_service_requests_receipt_id"
# Exactly as ``puhui.adapters.db.servicing.repositories`` writes it, so the planner matches.
RECEIPT_OF_REQUEST = {
    "sqlite": "json_extract(result_json, '$.receipt_id')",
    "postgresql": "((result_json::jsonb) ->> 'receipt_id')",
}


def _create(*, partial: bool) -> None:
    expression = RECEIPT_OF_REQUEST[op.get_context().dialect.name]
    where = f" WHERE {expression} IS NOT NULL" if partial else ""
    op.execute(f"CREATE INDEX {REQUESTS_BY_RECEIPT} ON service_requests ({expression}){where}")


def upgrade() -> None:
    op.drop_index(REQUESTS_BY_RECEIPT, table_name="service_requests")
    _create(partial=True)


def downgrade() -> None:
    op.drop_index(REQUESTS_BY_RECEIPT, table_name="service_requests")
    _create(partial=False)
