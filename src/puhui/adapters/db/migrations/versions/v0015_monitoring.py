"""Post-loan monitoring: runs, alerts and signals, tasks, supervisors, collection hand-offs;
a ``kind`` on governed documents (strategies, trigger rules, concentration limits).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision: str | None = "0014"
branch_labels = None
depends_on = None

_ID = 40


def upgrade() -> None:
    # Every governed document shares one lifecycle and one table; the kind says which compiler
    # validates it. Rows stored before are strategies.
    op.add_column(
        "strategy_versions",
        sa.Column("kind", sa.String(32), nullable=False, server_default="strategy"),
    )
    op.create_table(
        "monitoring_runs",
        sa.Column("as_of", sa.Date, primary_key=True),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("triggers_name", sa.String(64), nullable=True),
        sa.Column("triggers_version", sa.Integer, nullable=True),
        sa.Column("triggers_hash", sa.String(64), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("customers_total", sa.Integer, nullable=False),
        sa.Column("customers_done", sa.Integer, nullable=False),
        sa.Column("last_customer_id", sa.String(64), nullable=True),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("alerts_created", sa.Integer, nullable=False),
        sa.Column("alerts_extended", sa.Integer, nullable=False),
        sa.Column("tasks_created", sa.Integer, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'completed', 'data_missing')",
            name="ck_monitoring_runs_status",
        ),
    )
    op.create_table(
        "monitoring_alerts",
        sa.Column("alert_id", sa.String(_ID), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("line_id", sa.String(_ID), nullable=True),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("run_date", sa.Date, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_by", sa.String(128), nullable=True),
        sa.Column("closed_on", sa.Date, nullable=True),
        sa.Column("closed_by", sa.String(128), nullable=True),
        sa.Column("close_reason_enc", sa.Text, nullable=True),
        sa.CheckConstraint(
            "severity IN ('low', 'medium', 'high')", name="ck_monitoring_alerts_severity"
        ),
        sa.CheckConstraint(
            "status IN ('open', 'acknowledged', 'closed')", name="ck_monitoring_alerts_status"
        ),
    )
    op.create_index("ix_monitoring_alerts_customer", "monitoring_alerts", ["customer_id"])
    op.create_index("ix_monitoring_alerts_run_date", "monitoring_alerts", ["run_date"])
    op.create_index(
        "uq_monitoring_alerts_one_open",
        "monitoring_alerts",
        ["customer_id"],
        unique=True,
        sqlite_where=sa.text("status <> 'closed'"),
        postgresql_where=sa.text("status <> 'closed'"),
    )
    op.create_table(
        "monitoring_alert_signals",
        sa.Column(
            "alert_id",
            sa.String(_ID),
            sa.ForeignKey("monitoring_alerts.alert_id"),
            nullable=False,
        ),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("text_zh", sa.String(400), nullable=False),
        sa.Column("text_en", sa.String(400), nullable=False),
        sa.Column("first_seen", sa.Date, nullable=False),
        sa.Column("evidence_json", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("alert_id", "code", name="pk_monitoring_alert_signals"),
    )
    op.create_table(
        "monitoring_tasks",
        sa.Column("task_id", sa.String(_ID), primary_key=True),
        sa.Column(
            "alert_id",
            sa.String(_ID),
            sa.ForeignKey("monitoring_alerts.alert_id"),
            nullable=False,
        ),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("branch", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("created_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("assignee", sa.String(_ID), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(_ID), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("note_enc", sa.Text, nullable=True),
        sa.Column("completed_on", sa.Date, nullable=True),
        sa.Column("completed_by", sa.String(_ID), nullable=True),
        sa.Column("escalated_on", sa.Date, nullable=True),
        sa.Column("escalated_from", sa.String(_ID), nullable=True),
        sa.Column("action_json", sa.Text, nullable=True),
        sa.Column("pending_json", sa.Text, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'claimed', 'completed', 'escalated')",
            name="ck_monitoring_tasks_status",
        ),
    )
    op.create_index("ix_monitoring_tasks_assignee", "monitoring_tasks", ["assignee", "status"])
    op.create_index("ix_monitoring_tasks_due", "monitoring_tasks", ["status", "due_on"])
    op.create_index(
        "uq_monitoring_tasks_one_working",
        "monitoring_tasks",
        ["alert_id"],
        unique=True,
        sqlite_where=sa.text("status <> 'completed'"),
        postgresql_where=sa.text("status <> 'completed'"),
    )
    op.create_table(
        "monitoring_supervisors",
        sa.Column("user_id", sa.String(_ID), primary_key=True),
        sa.Column("supervisor_id", sa.String(_ID), nullable=False),
        sa.Column("set_by", sa.String(128), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("user_id <> supervisor_id", name="ck_monitoring_supervisors_not_self"),
    )
    op.create_table(
        "collection_handoffs",
        sa.Column(
            "task_id",
            sa.String(_ID),
            sa.ForeignKey("monitoring_tasks.task_id"),
            primary_key=True,
        ),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("handed_by", sa.String(128), nullable=False),
        sa.Column("handed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note_enc", sa.Text, nullable=True),
    )
    op.create_index("ix_collection_handoffs_customer_id", "collection_handoffs", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_collection_handoffs_customer_id", table_name="collection_handoffs")
    op.drop_table("collection_handoffs")
    op.drop_table("monitoring_supervisors")
    op.drop_index("uq_monitoring_tasks_one_working", table_name="monitoring_tasks")
    op.drop_index("ix_monitoring_tasks_due", table_name="monitoring_tasks")
    op.drop_index("ix_monitoring_tasks_assignee", table_name="monitoring_tasks")
    op.drop_table("monitoring_tasks")
    op.drop_table("monitoring_alert_signals")
    op.drop_index("uq_monitoring_alerts_one_open", table_name="monitoring_alerts")
    op.drop_index("ix_monitoring_alerts_run_date", table_name="monitoring_alerts")
    op.drop_index("ix_monitoring_alerts_customer", table_name="monitoring_alerts")
    op.drop_table("monitoring_alerts")
    op.drop_table("monitoring_runs")
    with op.batch_alter_table("strategy_versions") as batch:
        batch.drop_column("kind")
