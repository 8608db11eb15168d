"""Tables of post-loan monitoring (贷后) on the platform's shared metadata.

Customers are enterprises (their USCC, as on credit lines). The free text staff write (task
notes, hand-off notes, why an alert was closed) may name people from visits and calls, so it
is sealed at rest with the platform's field cipher (``*_enc`` columns; NULL when empty).
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from puhui.adapters.db.columns import ID, UtcDateTime
from puhui.adapters.db.tables import metadata

RUN_STATUSES = ("running", "completed", "data_missing")

monitoring_runs = Table(
    "monitoring_runs",
    metadata,
    # One run per as-of date and kind: a second call resumes or reports it, never runs it
    # twice ('scheduled': the whole book; 'events': customers with an event on the date).
    Column("as_of", Date, primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("triggers_name", String(64), nullable=True),
    Column("triggers_version", Integer, nullable=True),
    Column("triggers_hash", String(64), nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("customers_total", Integer, nullable=False),
    Column("customers_done", Integer, nullable=False),
    # Progress: customers are processed in id order, in chunks committed one by one.
    Column("last_customer_id", String(64), nullable=True),
    Column("hits", Integer, nullable=False),
    Column("alerts_created", Integer, nullable=False),
    Column("alerts_extended", Integer, nullable=False),
    Column("tasks_created", Integer, nullable=False),
    Column("note", Text, nullable=True),
    CheckConstraint("status IN ('running', 'completed', 'data_missing')", name="status"),
)

monitoring_alerts = Table(
    "monitoring_alerts",
    metadata,
    Column("alert_id", String(ID), primary_key=True),
    Column("customer_id", String(64), nullable=False),
    Column("line_id", String(ID), nullable=True),
    Column("severity", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("run_date", Date, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("acknowledged_by", String(128), nullable=True),
    Column("closed_on", Date, nullable=True),
    Column("closed_by", String(128), nullable=True),
    # Sealed (``monitoring_alerts.close_reason``): may name the people spoken to.
    Column("close_reason_enc", Text, nullable=True),
    CheckConstraint("severity IN ('low', 'medium', 'high')", name="severity"),
    CheckConstraint("status IN ('open', 'acknowledged', 'closed')", name="status"),
    Index("ix_monitoring_alerts_customer", "customer_id"),
    Index("ix_monitoring_alerts_run_date", "run_date"),
    # One alert not closed per customer: a re-run cannot raise a second one.
    Index(
        "uq_monitoring_alerts_one_open",
        "customer_id",
        unique=True,
        sqlite_where=text("status <> 'closed'"),
        postgresql_where=text("status <> 'closed'"),
    ),
)

monitoring_alert_signals = Table(
    "monitoring_alert_signals",
    metadata,
    Column("alert_id", String(ID), ForeignKey("monitoring_alerts.alert_id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("text_zh", String(400), nullable=False),
    Column("text_en", String(400), nullable=False),
    Column("first_seen", Date, nullable=False),
    # The input values the trigger rules read when the signal fired, and their versions.
    Column("evidence_json", Text, nullable=False),
    PrimaryKeyConstraint("alert_id", "code", name="pk_monitoring_alert_signals"),
)

monitoring_tasks = Table(
    "monitoring_tasks",
    metadata,
    Column("task_id", String(ID), primary_key=True),
    # One task being worked per alert (unique index below): a resumed run cannot create a
    # second; a completed task's alert that gains signals gets a follow-up task.
    Column("alert_id", String(ID), ForeignKey("monitoring_alerts.alert_id"), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("branch", String(64), nullable=False),
    Column("severity", String(8), nullable=False),
    Column("created_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("assignee", String(ID), nullable=True),
    Column("status", String(16), nullable=False),
    Column("claimed_by", String(ID), nullable=True),
    Column("outcome", String(32), nullable=True),
    # Sealed (``monitoring_tasks.note``): visit and call notes may name people; NULL if empty.
    Column("note_enc", Text, nullable=True),
    Column("completed_on", Date, nullable=True),
    Column("completed_by", String(ID), nullable=True),
    Column("escalated_on", Date, nullable=True),
    Column("escalated_from", String(ID), nullable=True),
    # What the acting outcome did (the servicing operation and its result).
    Column("action_json", Text, nullable=True),
    # A completion under way: outcome, completer and progress, committed before the outcome's
    # servicing operation runs, cleared when the task is recorded completed.
    Column("pending_json", Text, nullable=True),
    Column("version", Integer, nullable=False),
    CheckConstraint("status IN ('open', 'claimed', 'completed', 'escalated')", name="status"),
    Index("ix_monitoring_tasks_assignee", "assignee", "status"),
    Index("ix_monitoring_tasks_due", "status", "due_on"),
    Index(
        "uq_monitoring_tasks_one_working",
        "alert_id",
        unique=True,
        sqlite_where=text("status <> 'completed'"),
        postgresql_where=text("status <> 'completed'"),
    ),
    # An alert's tasks, completed ones included (the run's follow-up check; migration 0037).
    Index("ix_monitoring_tasks_alert", "alert_id"),
    # A customer's tasks in task order (the task list's customer filter; migration 0037).
    Index("ix_monitoring_tasks_customer", "customer_id", "task_id"),
)

monitoring_supervisors = Table(
    "monitoring_supervisors",
    metadata,
    # Who an account manager's overdue tasks escalate to (team lead or branch head).
    Column("user_id", String(ID), primary_key=True),
    Column("supervisor_id", String(ID), nullable=False),
    Column("set_by", String(128), nullable=False),
    Column("set_at", UtcDateTime, nullable=False),
    CheckConstraint("user_id <> supervisor_id", name="not_self"),
)

collection_handoffs = Table(
    "collection_handoffs",
    metadata,
    # A customer handed to collections by a task; the collections queue reads these rows.
    Column("task_id", String(ID), ForeignKey("monitoring_tasks.task_id"), primary_key=True),
    Column("customer_id", String(64), nullable=False, index=True),
    Column("handed_by", String(128), nullable=False),
    Column("handed_at", UtcDateTime, nullable=False),
    # Sealed (``collection_handoffs.note``), as the task's note; NULL if empty.
    Column("note_enc", Text, nullable=True),
)
