"""Statement index: the money requests of a receipt are found without reading the whole log.

A statement (对账单) links a line's receipts to their journal entries through the request
log (draw, repay, reversal, write-off, recovery), which names the receipt only inside its
result JSON. This indexes that JSON field, with the very expression the repository queries
(per dialect), so the lookup is an index probe instead of a scan of every request ever
served. The end of day writes no requests: its cost is unchanged. (A receipt's accruals
need no index: the primary key of ``accrual_entries`` is probed per day and receipt.)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision: str | None = "0007"
branch_labels = None
depends_on = None

REQUESTS_BY_RECEIPT = "ix_service_requests_receipt_id"
# Exactly as ``puhui.adapters.db.servicing.repositories`` writes it, so the planner matches.
RECEIPT_OF_REQUEST = {
    "sqlite": "json_extract(result_json, '$.receipt_id')",
    "postgresql": "((result_json::jsonb) ->> 'receipt_id')",
}


def upgrade() -> None:
    expression = RECEIPT_OF_REQUEST[op.get_context().dialect.name]
    op.execute(f"CREATE INDEX {REQUESTS_BY_RECEIPT} ON service_requests ({expression})")


def downgrade() -> None:
    op.drop_index(REQUESTS_BY_RECEIPT, table_name="service_requests")
