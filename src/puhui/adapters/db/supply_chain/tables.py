"""Tables of supply-chain finance on the platform's shared metadata (created by migration 0022).

A voucher tree is a root voucher (issued by a core enterprise against one confirmed payable)
and the children of its splits; every operation on a tree locks the root's row first
(docs/adr/0036). Enterprises are named by USCC: no personal data is stored here.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from puhui.adapters.db.columns import ID, UtcDateTime
from puhui.adapters.db.tables import metadata

USCC = 18
KEY = 200

core_enterprises = Table(
    "core_enterprises",
    metadata,
    Column("uscc", String(USCC), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("limit_fen", BigInteger, nullable=False),
    # Sum of the core's live vouchers, kept under the core's row lock (issue, settlement).
    Column("outstanding_fen", BigInteger, nullable=False),
    Column("grade", String(16), nullable=False),
    Column("discount_rate", Numeric(12, 8), nullable=False),
    Column("fee_rate", Numeric(12, 8), nullable=False),
    Column("term_days", Integer, nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("defaulting", Boolean, nullable=False),
    Column("frozen_reason", String(200), nullable=True),
    Column("strategy_version", String(128), nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("onboarded_by", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    CheckConstraint("status IN ('active', 'frozen', 'expired')", name="status"),
    CheckConstraint(
        "outstanding_fen >= 0 AND outstanding_fen <= limit_fen", name="within_facility"
    ),
)

core_partners = Table(
    "core_partners",
    metadata,
    Column("core_uscc", String(USCC), ForeignKey("core_enterprises.uscc"), nullable=False),
    Column("partner_uscc", String(USCC), nullable=False),
    Column("relation", String(16), nullable=False),
    Column("named_at", UtcDateTime, nullable=False),
    Column("named_by", String(128), nullable=False),
    PrimaryKeyConstraint("core_uscc", "partner_uscc", "relation"),
    CheckConstraint("relation IN ('supplier', 'dealer')", name="relation"),
)

enterprise_users = Table(
    "enterprise_users",
    metadata,
    Column("user_id", String(ID), nullable=False),
    Column("uscc", String(USCC), nullable=False),
    Column("bound_at", UtcDateTime, nullable=False),
    Column("bound_by", String(128), nullable=False),
    PrimaryKeyConstraint("user_id", "uscc"),
    Index("ix_enterprise_users_uscc", "uscc"),
)

payables = Table(
    "payables",
    metadata,
    Column("payable_id", String(ID), primary_key=True),
    Column("core_uscc", String(USCC), ForeignKey("core_enterprises.uscc"), nullable=False),
    Column("supplier_uscc", String(USCC), nullable=False),
    Column("invoice_key", String(64), nullable=False),
    Column("invoice_month", Date, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("confirmed_at", UtcDateTime, nullable=False),
    Column("confirmed_by", String(128), nullable=False),
    Column("voucher_id", String(ID), nullable=True),
    UniqueConstraint("invoice_key"),
    UniqueConstraint("voucher_id"),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
    Index("ix_payables_core", "core_uscc"),
)

vouchers = Table(
    "vouchers",
    metadata,
    Column("voucher_id", String(ID), primary_key=True),
    Column("root_id", String(ID), nullable=False),
    Column("parent_id", String(ID), nullable=True),
    Column("core_uscc", String(USCC), ForeignKey("core_enterprises.uscc"), nullable=False),
    Column("holder_uscc", String(USCC), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("maturity", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("invoice_key", String(64), nullable=True),
    Column("financed_on", Date, nullable=True),
    # Holders before the current one, oldest first, comma-separated (the provenance chain).
    Column("previous_holders", Text, nullable=False),
    # A financing request awaits the bank: the voucher may not be split nor transferred.
    Column("financing_pending", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("invoice_key"),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
    CheckConstraint(
        "status IN ('pending', 'outstanding', 'split', 'financed', 'settled', 'overdue')",
        name="status",
    ),
    Index("ix_vouchers_root", "root_id"),
    Index("ix_vouchers_core_status", "core_uscc", "status"),
    Index("ix_vouchers_holder_status", "holder_uscc", "status"),
    Index("ix_vouchers_maturity_status", "maturity", "status"),
)

voucher_transfers = Table(
    "voucher_transfers",
    metadata,
    Column("voucher_id", String(ID), ForeignKey("vouchers.voucher_id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("from_uscc", String(USCC), nullable=False),
    Column("to_uscc", String(USCC), nullable=False),
    Column("transferred_on", Date, nullable=False),
    Column("tier", Integer, nullable=False),
    PrimaryKeyConstraint("voucher_id", "seq"),
)

voucher_financings = Table(
    "voucher_financings",
    metadata,
    Column("financing_id", String(ID), primary_key=True),
    Column("voucher_id", String(ID), ForeignKey("vouchers.voucher_id"), nullable=False),
    Column("holder_uscc", String(USCC), nullable=False),
    Column("core_uscc", String(USCC), nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested_on", Date, nullable=False),
    Column("requested_by", String(128), nullable=False),
    Column("decided_on", Date, nullable=True),
    Column("decided_by", String(128), nullable=True),
    Column("reason", String(200), nullable=True),
    Column("face_fen", BigInteger, nullable=False),
    Column("days", Integer, nullable=True),
    Column("annual_rate", Numeric(12, 8), nullable=True),
    Column("fee_rate", Numeric(12, 8), nullable=True),
    Column("interest_fen", BigInteger, nullable=True),
    Column("fee_fen", BigInteger, nullable=True),
    Column("proceeds_fen", BigInteger, nullable=True),
    Column("entry_key", String(KEY), nullable=True),
    # Of ``interest_fen``, what was recognised as income so far (migration 0034).
    Column("interest_earned_fen", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("status IN ('requested', 'approved', 'rejected')", name="status"),
    # One financing per voucher that is not rejected: a voucher is never financed twice.
    Index(
        "uq_voucher_financings_live",
        "voucher_id",
        unique=True,
        sqlite_where=text("status <> 'rejected'"),
        postgresql_where=text("status <> 'rejected'"),
    ),
    Index("ix_voucher_financings_status", "status"),
    # A voucher's financings, rejected ones included (migration 0036): the partial unique
    # index serves only queries that repeat its predicate.
    Index("ix_voucher_financings_voucher", "voucher_id"),
)

voucher_settlements = Table(
    "voucher_settlements",
    metadata,
    Column("voucher_id", String(ID), ForeignKey("vouchers.voucher_id"), primary_key=True),
    Column("core_uscc", String(USCC), nullable=False),
    Column("payee", String(USCC), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("penalty_fen", BigInteger, nullable=False),
    Column("settled_on", Date, nullable=False),
    Column("entry_key", String(KEY), nullable=False),
    Index("ix_voucher_settlements_settled_on", "settled_on"),
)
