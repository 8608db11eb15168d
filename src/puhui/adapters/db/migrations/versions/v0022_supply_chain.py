"""Supply-chain finance: core enterprises and their facilities, named partners, enterprise
users, confirmed payables, payable vouchers (电子债权凭证) with their transfers, financings
and settlements.

No personal data: enterprises are named by their unified social credit codes (USCC).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision: str | None = "0021"
branch_labels = None
depends_on = None

_ID = 40
_KEY = 200
_USCC = 18


def upgrade() -> None:
    op.create_table(
        "core_enterprises",
        sa.Column("uscc", sa.String(_USCC), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("limit_fen", sa.BigInteger, nullable=False),
        sa.Column("outstanding_fen", sa.BigInteger, nullable=False),
        sa.Column("grade", sa.String(16), nullable=False),
        sa.Column("discount_rate", sa.Numeric(12, 8), nullable=False),
        sa.Column("fee_rate", sa.Numeric(12, 8), nullable=False),
        sa.Column("term_days", sa.Integer, nullable=False),
        sa.Column("expires_on", sa.Date, nullable=False),
        sa.Column("defaulting", sa.Boolean, nullable=False),
        sa.Column("frozen_reason", sa.String(200), nullable=True),
        sa.Column("strategy_version", sa.String(128), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("onboarded_by", sa.String(128), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'frozen', 'expired')", name="ck_core_enterprises_status"
        ),
        sa.CheckConstraint(
            "outstanding_fen >= 0 AND outstanding_fen <= limit_fen",
            name="ck_core_enterprises_within_facility",
        ),
    )
    op.create_table(
        "core_partners",
        sa.Column(
            "core_uscc",
            sa.String(_USCC),
            sa.ForeignKey("core_enterprises.uscc"),
            nullable=False,
        ),
        sa.Column("partner_uscc", sa.String(_USCC), nullable=False),
        sa.Column("relation", sa.String(16), nullable=False),
        sa.Column("named_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("named_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("core_uscc", "partner_uscc", "relation", name="pk_core_partners"),
        sa.CheckConstraint("relation IN ('supplier', 'dealer')", name="ck_core_partners_relation"),
    )
    op.create_table(
        "enterprise_users",
        sa.Column("user_id", sa.String(_ID), nullable=False),
        sa.Column("uscc", sa.String(_USCC), nullable=False),
        sa.Column("bound_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("bound_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "uscc", name="pk_enterprise_users"),
    )
    op.create_index("ix_enterprise_users_uscc", "enterprise_users", ["uscc"])
    op.create_table(
        "payables",
        sa.Column("payable_id", sa.String(_ID), primary_key=True),
        sa.Column(
            "core_uscc", sa.String(_USCC), sa.ForeignKey("core_enterprises.uscc"), nullable=False
        ),
        sa.Column("supplier_uscc", sa.String(_USCC), nullable=False),
        sa.Column("invoice_key", sa.String(64), nullable=False),
        sa.Column("invoice_month", sa.Date, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(128), nullable=False),
        sa.Column("voucher_id", sa.String(_ID), nullable=True),
        sa.UniqueConstraint("invoice_key", name="uq_payables_invoice_key"),
        sa.UniqueConstraint("voucher_id", name="uq_payables_voucher_id"),
        sa.CheckConstraint("amount_fen > 0", name="ck_payables_amount_positive"),
    )
    op.create_index("ix_payables_core", "payables", ["core_uscc"])
    op.create_table(
        "vouchers",
        sa.Column("voucher_id", sa.String(_ID), primary_key=True),
        sa.Column("root_id", sa.String(_ID), nullable=False),
        sa.Column("parent_id", sa.String(_ID), nullable=True),
        sa.Column(
            "core_uscc", sa.String(_USCC), sa.ForeignKey("core_enterprises.uscc"), nullable=False
        ),
        sa.Column("holder_uscc", sa.String(_USCC), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
        sa.Column("maturity", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.Column("invoice_key", sa.String(64), nullable=True),
        sa.Column("financed_on", sa.Date, nullable=True),
        sa.Column("previous_holders", sa.Text, nullable=False),
        sa.Column("financing_pending", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("invoice_key", name="uq_vouchers_invoice_key"),
        sa.CheckConstraint("amount_fen > 0", name="ck_vouchers_amount_positive"),
        sa.CheckConstraint(
            "status IN ('pending', 'outstanding', 'split', 'financed', 'settled', 'overdue')",
            name="ck_vouchers_status",
        ),
    )
    op.create_index("ix_vouchers_root", "vouchers", ["root_id"])
    op.create_index("ix_vouchers_core_status", "vouchers", ["core_uscc", "status"])
    op.create_index("ix_vouchers_holder_status", "vouchers", ["holder_uscc", "status"])
    op.create_index("ix_vouchers_maturity_status", "vouchers", ["maturity", "status"])
    op.create_table(
        "voucher_transfers",
        sa.Column(
            "voucher_id", sa.String(_ID), sa.ForeignKey("vouchers.voucher_id"), nullable=False
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("from_uscc", sa.String(_USCC), nullable=False),
        sa.Column("to_uscc", sa.String(_USCC), nullable=False),
        sa.Column("transferred_on", sa.Date, nullable=False),
        sa.Column("tier", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("voucher_id", "seq", name="pk_voucher_transfers"),
    )
    op.create_table(
        "voucher_financings",
        sa.Column("financing_id", sa.String(_ID), primary_key=True),
        sa.Column(
            "voucher_id", sa.String(_ID), sa.ForeignKey("vouchers.voucher_id"), nullable=False
        ),
        sa.Column("holder_uscc", sa.String(_USCC), nullable=False),
        sa.Column("core_uscc", sa.String(_USCC), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_on", sa.Date, nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("decided_on", sa.Date, nullable=True),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("face_fen", sa.BigInteger, nullable=False),
        sa.Column("days", sa.Integer, nullable=True),
        sa.Column("annual_rate", sa.Numeric(12, 8), nullable=True),
        sa.Column("fee_rate", sa.Numeric(12, 8), nullable=True),
        sa.Column("interest_fen", sa.BigInteger, nullable=True),
        sa.Column("fee_fen", sa.BigInteger, nullable=True),
        sa.Column("proceeds_fen", sa.BigInteger, nullable=True),
        sa.Column("entry_key", sa.String(_KEY), nullable=True),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'rejected')", name="ck_voucher_financings_status"
        ),
    )
    op.create_index(
        "uq_voucher_financings_live",
        "voucher_financings",
        ["voucher_id"],
        unique=True,
        sqlite_where=sa.text("status <> 'rejected'"),
        postgresql_where=sa.text("status <> 'rejected'"),
    )
    op.create_index("ix_voucher_financings_status", "voucher_financings", ["status"])
    op.create_table(
        "voucher_settlements",
        sa.Column(
            "voucher_id", sa.String(_ID), sa.ForeignKey("vouchers.voucher_id"), primary_key=True
        ),
        sa.Column("core_uscc", sa.String(_USCC), nullable=False),
        sa.Column("payee", sa.String(_USCC), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("penalty_fen", sa.BigInteger, nullable=False),
        sa.Column("settled_on", sa.Date, nullable=False),
        sa.Column("entry_key", sa.String(_KEY), nullable=False),
    )
    op.create_index("ix_voucher_settlements_settled_on", "voucher_settlements", ["settled_on"])


def downgrade() -> None:
    op.drop_index("ix_voucher_settlements_settled_on", table_name="voucher_settlements")
    op.drop_table("voucher_settlements")
    op.drop_index("ix_voucher_financings_status", table_name="voucher_financings")
    op.drop_index("uq_voucher_financings_live", table_name="voucher_financings")
    op.drop_table("voucher_financings")
    op.drop_table("voucher_transfers")
    op.drop_index("ix_vouchers_maturity_status", table_name="vouchers")
    op.drop_index("ix_vouchers_holder_status", table_name="vouchers")
    op.drop_index("ix_vouchers_core_status", table_name="vouchers")
    op.drop_index("ix_vouchers_root", table_name="vouchers")
    op.drop_table("vouchers")
    op.drop_index("ix_payables_core", table_name="payables")
    op.drop_table("payables")
    op.drop_index("ix_enterprise_users_uscc", table_name="enterprise_users")
    op.drop_table("enterprise_users")
    op.drop_table("core_partners")
    op.drop_table("core_enterprises")
