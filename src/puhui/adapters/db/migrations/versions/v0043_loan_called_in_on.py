"""A loan records the day the bank called it in early (提前收回), for the borrower's pages.

Until now a recall left only its audit event and an earlier maturity. ``called_in_on`` is
NULL for every loan not called in. The upgrade fills it for loans called in before it: a
recall moves the maturity to the recall date, so that is the day, unless a loan change was
approved after the recall (a restructuring agreed since replaces it; the column stays NULL).
The audit trail is read, never written: its chain is unchanged.

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0043"
down_revision: str | None = "0042"
branch_labels = None
depends_on = None

_BACKFILL = """
UPDATE loans SET called_in_on = maturity_date
WHERE loan_id IN (
    SELECT recall.entity_id FROM audit_events recall
    WHERE recall.action IN ('receipt.accelerated', 'term_loan.accelerated')
    AND NOT EXISTS (
        SELECT 1 FROM audit_events later
        WHERE later.entity = 'loan' AND later.entity_id = recall.entity_id
        AND later.action LIKE 'loan\\_change.%\\_approved' ESCAPE '\\'
        AND later.seq > recall.seq
    )
)
"""


def upgrade() -> None:
    op.add_column("loans", sa.Column("called_in_on", sa.Date(), nullable=True))
    op.execute(_BACKFILL)


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both (SQLite since 3.35): a batch copy of the table would
    # have to drop ``loans``, which the instalments and journal reference.
    op.drop_column("loans", "called_in_on")
