"""A customer's receipts and tasks, a line's application and an alert's tasks are found by
index.

The monitoring run reads the book one chunk of customers at a time: each chunk read the
customers' receipts by ``loans.enterprise_id IN (...)`` and the applications that opened
their lines (account manager, PD at origination) by ``origination_applications.credit_line_id
IN (...)``. Neither column had an index, so every chunk scanned every receipt and every
application ever made: the run's cost grew with the square of the book. The chunk's page of
customer ids (``enterprise_id > :after ORDER BY enterprise_id LIMIT n`` over lines and
receipts) also walks the receipts' index instead of sorting the whole book once per chunk.

For each alert a run extends, it reads the alert's newest task (``monitoring_tasks.alert_id
= ?``, completed tasks included: a completed one gets a follow-up). The only index on the
alert was the partial unique one (one working task per alert), which serves only queries
that repeat ``status <> 'completed'``: each extended alert scanned every task ever made.
The task list filtered by customer (API ``customer=``) had no index on the customer either:
it walked every task, or every task of the status asked for, per page.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0037"
down_revision: str | None = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_loans_enterprise_id", "loans", ["enterprise_id"])
    op.create_index(
        "ix_origination_applications_credit_line_id",
        "origination_applications",
        ["credit_line_id"],
    )
    op.create_index("ix_monitoring_tasks_alert", "monitoring_tasks", ["alert_id"])
    op.create_index("ix_monitoring_tasks_customer", "monitoring_tasks", ["customer_id", "task_id"])


def downgrade() -> None:
    op.drop_index("ix_monitoring_tasks_customer", table_name="monitoring_tasks")
    op.drop_index("ix_monitoring_tasks_alert", table_name="monitoring_tasks")
    op.drop_index(
        "ix_origination_applications_credit_line_id", table_name="origination_applications"
    )
    op.drop_index("ix_loans_enterprise_id", table_name="loans")
