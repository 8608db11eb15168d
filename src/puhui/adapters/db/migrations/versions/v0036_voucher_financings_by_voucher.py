"""A voucher's financings are found by an index on the voucher, rejected ones included.

The only index on ``voucher_financings.voucher_id`` was the partial unique one (one live
financing per voucher), which a planner uses only when the query repeats its predicate
``status <> 'rejected'``. A voucher's tree view (every financing, rejected ones included)
and the settlement's lapse of open requests therefore scanned the table, and the
settlement's and the recognition run's reads of approved financings (``status =
'approved'``) went through the status index: every approved financing ever, once per chunk
of 500 vouchers. The recognition run of 33,334 financings on PostgreSQL spent two thirds of
its time there. A plain index on the voucher serves all of them (the reads keep the status
test in Python).

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0036"
down_revision: str | None = "0035"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_voucher_financings_voucher", "voucher_financings", ["voucher_id"])


def downgrade() -> None:
    op.drop_index("ix_voucher_financings_voucher", table_name="voucher_financings")
