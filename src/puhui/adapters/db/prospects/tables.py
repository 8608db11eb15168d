"""Tables of prospects on the platform's shared metadata (created by migration 0021).

A prospect is one enterprise of one month's pre-approved list; a re-run of the month updates
the rows it still lists and expires the others, so the work done on a prospect (status, notes,
assignment, offer) stays on one row. Personal data is sealed at rest with the field cipher:
the contact phone an offer goes to (with a blind index, to match opt-outs), the manager's notes
(they may name people met) and the outbox's recipient.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from puhui.adapters.db.columns import HASH, ID, UtcDateTime
from puhui.adapters.db.tables import metadata

prospect_runs = Table(
    "prospect_runs",
    metadata,
    Column("run_id", String(ID), primary_key=True),
    Column("month", Date, nullable=False),
    Column("loaded_at", UtcDateTime, nullable=False),
    Column("loaded_by", String(128), nullable=False),
    Column("rows_loaded", Integer, nullable=False),
    Column("rows_new", Integer, nullable=False),
    Column("rows_kept", Integer, nullable=False),
    Column("rows_expired", Integer, nullable=False),
    Column("strategy_version", String(128), nullable=True),
    Column("model_version", String(128), nullable=True),
    Column("engine", String(16), nullable=True),
    # The market tables the run read, comma-separated: offers check them against the
    # sources the bank may use before the enterprise consents.
    Column("sources", String(400), nullable=False),
    # Existing customers by (region, industry, park) as the run counted them (the map).
    Column("customers_json", Text, nullable=True),
    Index("ix_prospect_runs_month", "month"),
)

prospects = Table(
    "prospects",
    metadata,
    Column("prospect_id", String(ID), primary_key=True),
    Column("month", Date, nullable=False),
    Column("uscc", String(18), nullable=False),
    Column("run_id", String(ID), ForeignKey("prospect_runs.run_id"), nullable=False),
    Column("need_probability", Float, nullable=False),
    Column("need_amount_fen", BigInteger, nullable=False),
    Column("need_month", Date, nullable=False),
    Column("need_duration_months", Integer, nullable=False),
    Column("limit_fen", BigInteger, nullable=False),
    Column("annual_rate", Numeric(12, 8), nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("grade", String(16), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("region_code", String(12), nullable=False),
    Column("industry_group", String(64), nullable=False),
    Column("park", String(128), nullable=True),
    Column("is_customer", Boolean, nullable=False),
    Column("reasons", String(1000), nullable=False),
    Column("status", String(16), nullable=False),
    Column("assigned_to", String(ID), nullable=True),
    Column("notes_enc", Text, nullable=True),
    Column("contact_phone_enc", Text, nullable=True),
    Column("contact_phone_index", String(HASH), nullable=True),
    Column("offer_status", String(16), nullable=True),
    Column("offered_at", UtcDateTime, nullable=True),
    Column("application_id", String(ID), nullable=True),
    Column("applied_at", UtcDateTime, nullable=True),
    Column("conversion", String(16), nullable=True),
    Column("conversion_limit_fen", BigInteger, nullable=True),
    Column("converted_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    CheckConstraint(
        "status IN ('new', 'contacted', 'interested', 'applied', 'not_interested', 'expired')",
        name="status",
    ),
    CheckConstraint("limit_fen <= need_amount_fen", name="limit_within_need"),
    UniqueConstraint("month", "uscc", name="uq_prospects_month"),
    UniqueConstraint("application_id", name="uq_prospects_application_id"),
    Index("ix_prospects_month_status", "month", "status"),
    Index("ix_prospects_assigned_to", "assigned_to", "status"),
    Index("ix_prospects_region_code", "region_code"),
)

prospect_events = Table(
    "prospect_events",
    metadata,
    Column("event_id", String(ID), primary_key=True),
    Column("prospect_id", String(ID), ForeignKey("prospects.prospect_id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=True),
    Column("detail", String(400), nullable=True),
    Index("ix_prospect_events_prospect_id", "prospect_id"),
)

prospect_territories = Table(
    "prospect_territories",
    metadata,
    # An account manager covers a region code; a prospect goes to the managers of the
    # longest code that prefixes its own (a district's before its city's).
    Column("region_code", String(12), nullable=False),
    Column("user_id", String(ID), nullable=False),
    Column("set_by", String(128), nullable=False),
    Column("set_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("region_code", "user_id", name="pk_prospect_territories"),
)

marketing_opt_outs = Table(
    "marketing_opt_outs",
    metadata,
    Column("opt_out_id", String(ID), primary_key=True),
    Column("uscc", String(18), nullable=True),
    Column("phone_index", String(HASH), nullable=True),
    Column("reason", String(200), nullable=False),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    CheckConstraint("uscc IS NOT NULL OR phone_index IS NOT NULL", name="names_one"),
    Index("ix_marketing_opt_outs_uscc", "uscc"),
    Index("ix_marketing_opt_outs_phone_index", "phone_index"),
)
