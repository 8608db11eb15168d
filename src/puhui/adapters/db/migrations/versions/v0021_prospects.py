"""Prospects in the platform: pre-approval runs, the prospects an account manager works, their
history, a notification outbox and marketing opt-outs.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision: str | None = "0020"
branch_labels = None
depends_on = None

_ID = 40
_HASH = 64


def upgrade() -> None:
    op.create_table(
        "prospect_runs",
        sa.Column("run_id", sa.String(_ID), primary_key=True),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("loaded_by", sa.String(128), nullable=False),
        sa.Column("rows_loaded", sa.Integer, nullable=False),
        sa.Column("rows_new", sa.Integer, nullable=False),
        sa.Column("rows_kept", sa.Integer, nullable=False),
        sa.Column("rows_expired", sa.Integer, nullable=False),
        sa.Column("strategy_version", sa.String(128), nullable=True),
        sa.Column("model_version", sa.String(128), nullable=True),
        sa.Column("engine", sa.String(16), nullable=True),
        sa.Column("sources", sa.String(400), nullable=False),
        sa.Column("customers_json", sa.Text, nullable=True),
    )
    op.create_index("ix_prospect_runs_month", "prospect_runs", ["month"])
    op.create_table(
        "prospects",
        sa.Column("prospect_id", sa.String(_ID), primary_key=True),
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("run_id", sa.String(_ID), sa.ForeignKey("prospect_runs.run_id"), nullable=False),
        sa.Column("need_probability", sa.Float, nullable=False),
        sa.Column("need_amount_fen", sa.BigInteger, nullable=False),
        sa.Column("need_month", sa.Date, nullable=False),
        sa.Column("need_duration_months", sa.Integer, nullable=False),
        sa.Column("limit_fen", sa.BigInteger, nullable=False),
        sa.Column("annual_rate", sa.Numeric(12, 8), nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("grade", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("industry_group", sa.String(64), nullable=False),
        sa.Column("park", sa.String(128), nullable=True),
        sa.Column("is_customer", sa.Boolean, nullable=False),
        sa.Column("reasons", sa.String(1000), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assigned_to", sa.String(_ID), nullable=True),
        sa.Column("notes_enc", sa.Text, nullable=True),
        sa.Column("contact_phone_enc", sa.Text, nullable=True),
        sa.Column("contact_phone_index", sa.String(_HASH), nullable=True),
        sa.Column("offer_status", sa.String(16), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("application_id", sa.String(_ID), nullable=True),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("conversion", sa.String(16), nullable=True),
        sa.Column("conversion_limit_fen", sa.BigInteger, nullable=True),
        sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.CheckConstraint(
            "status IN ('new', 'contacted', 'interested', 'applied', 'not_interested', 'expired')",
            name="ck_prospects_status",
        ),
        sa.CheckConstraint("limit_fen <= need_amount_fen", name="ck_prospects_limit_within_need"),
        sa.UniqueConstraint("month", "uscc", name="uq_prospects_month"),
        sa.UniqueConstraint("application_id", name="uq_prospects_application_id"),
    )
    op.create_index("ix_prospects_month_status", "prospects", ["month", "status"])
    op.create_index("ix_prospects_assigned_to", "prospects", ["assigned_to", "status"])
    op.create_index("ix_prospects_region_code", "prospects", ["region_code"])
    op.create_table(
        "prospect_events",
        sa.Column("event_id", sa.String(_ID), primary_key=True),
        sa.Column(
            "prospect_id",
            sa.String(_ID),
            sa.ForeignKey("prospects.prospect_id"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("from_status", sa.String(16), nullable=True),
        sa.Column("to_status", sa.String(16), nullable=True),
        sa.Column("detail", sa.String(400), nullable=True),
    )
    op.create_index("ix_prospect_events_prospect_id", "prospect_events", ["prospect_id"])
    op.create_table(
        "prospect_territories",
        sa.Column("region_code", sa.String(12), nullable=False),
        sa.Column("user_id", sa.String(_ID), nullable=False),
        sa.Column("set_by", sa.String(128), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("region_code", "user_id", name="pk_prospect_territories"),
    )
    op.create_table(
        "notification_outbox",
        sa.Column("message_id", sa.String(_ID), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("recipient_enc", sa.Text, nullable=False),
        sa.Column("recipient_index", sa.String(_HASH), nullable=False),
        sa.Column("template", sa.String(64), nullable=False),
        sa.Column("payload_json", sa.Text, nullable=False),
        sa.Column("subject_id", sa.String(_ID), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(400), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed', 'cancelled')",
            name="ck_notification_outbox_status",
        ),
    )
    op.create_index(
        "ix_notification_outbox_status", "notification_outbox", ["status", "created_at"]
    )
    op.create_index("ix_notification_outbox_subject_id", "notification_outbox", ["subject_id"])
    op.create_table(
        "marketing_opt_outs",
        sa.Column("opt_out_id", sa.String(_ID), primary_key=True),
        sa.Column("uscc", sa.String(18), nullable=True),
        sa.Column("phone_index", sa.String(_HASH), nullable=True),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "uscc IS NOT NULL OR phone_index IS NOT NULL", name="ck_marketing_opt_outs_names_one"
        ),
    )
    op.create_index("ix_marketing_opt_outs_uscc", "marketing_opt_outs", ["uscc"])
    op.create_index("ix_marketing_opt_outs_phone_index", "marketing_opt_outs", ["phone_index"])


def downgrade() -> None:
    op.drop_index("ix_marketing_opt_outs_phone_index", table_name="marketing_opt_outs")
    op.drop_index("ix_marketing_opt_outs_uscc", table_name="marketing_opt_outs")
    op.drop_table("marketing_opt_outs")
    op.drop_index("ix_notification_outbox_subject_id", table_name="notification_outbox")
    op.drop_index("ix_notification_outbox_status", table_name="notification_outbox")
    op.drop_table("notification_outbox")
    op.drop_table("prospect_territories")
    op.drop_index("ix_prospect_events_prospect_id", table_name="prospect_events")
    op.drop_table("prospect_events")
    op.drop_index("ix_prospects_region_code", table_name="prospects")
    op.drop_index("ix_prospects_assigned_to", table_name="prospects")
    op.drop_index("ix_prospects_month_status", table_name="prospects")
    op.drop_table("prospects")
    op.drop_index("ix_prospect_runs_month", table_name="prospect_runs")
    op.drop_table("prospect_runs")
