"""Guarantee agencies (银担合作): agencies, batch agreements, covered loans, fees, claims and
shared recoveries.

No personal data: agencies are named by USCC, loans by id.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision: str | None = "0024"
branch_labels = None
depends_on = None

_ID = 40
_KEY = 200


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "guarantee_agencies",
        sa.Column("agency_id", sa.String(_ID), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.UniqueConstraint("uscc", name="uq_guarantee_agencies_uscc"),
    )
    op.create_table(
        "guarantee_agreements",
        sa.Column("agreement_id", sa.String(_ID), primary_key=True),
        sa.Column(
            "agency_id",
            sa.String(_ID),
            sa.ForeignKey("guarantee_agencies.agency_id"),
            nullable=False,
        ),
        sa.Column("product_id", sa.String(_ID), nullable=True),
        sa.Column("coverage_share", sa.Numeric(12, 8), nullable=False),
        sa.Column("fee_rate", sa.Numeric(12, 8), nullable=False),
        sa.Column("fee_mode", sa.String(16), nullable=False),
        sa.Column("borrower_cap_fen", sa.BigInteger, nullable=False),
        sa.Column("portfolio_cap_fen", sa.BigInteger, nullable=False),
        sa.Column("claim_trigger_days", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=False),
        sa.Column("counter_guarantee_waived", sa.Boolean, nullable=False),
        sa.Column("covered_fen", sa.BigInteger, nullable=False),
        sa.Column("claimed_fen", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("request_key", sa.String(64), nullable=True),
        sa.UniqueConstraint("request_key", name="uq_guarantee_agreements_request_key"),
        sa.CheckConstraint(
            "fee_mode IN ('at_draw', 'periodic')", name="ck_guarantee_agreements_fee_mode"
        ),
        sa.CheckConstraint(
            "covered_fen >= 0 AND claimed_fen >= 0",
            name="ck_guarantee_agreements_amounts_non_negative",
        ),
    )
    op.create_index("ix_guarantee_agreements_agency", "guarantee_agreements", ["agency_id"])
    op.create_table(
        "guarantee_covers",
        sa.Column("loan_id", sa.String(_ID), primary_key=True),
        sa.Column(
            "agreement_id",
            sa.String(_ID),
            sa.ForeignKey("guarantee_agreements.agreement_id"),
            nullable=False,
        ),
        sa.Column("enterprise_id", sa.String(64), nullable=False),
        sa.Column("principal_fen", sa.BigInteger, nullable=False),
        sa.Column("covered_fen", sa.BigInteger, nullable=False),
        sa.Column("covered_on", sa.Date, nullable=False),
        sa.Column("covered_by", sa.String(128), nullable=False),
        sa.CheckConstraint(
            "covered_fen >= 0 AND principal_fen > 0", name="ck_guarantee_covers_amounts"
        ),
    )
    op.create_index(
        "ix_guarantee_covers_agreement_enterprise",
        "guarantee_covers",
        ["agreement_id", "enterprise_id"],
    )
    op.create_table(
        "guarantee_fees",
        sa.Column("entry_key", sa.String(_KEY), primary_key=True),
        sa.Column(
            "loan_id", sa.String(_ID), sa.ForeignKey("guarantee_covers.loan_id"), nullable=False
        ),
        sa.Column("period_from", sa.Date, nullable=False),
        sa.Column("period_to", sa.Date, nullable=False),
        sa.Column("principal_fen", sa.BigInteger, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("collected_on", sa.Date, nullable=False),
        sa.Column("remittance_key", sa.String(_KEY), nullable=True),
        sa.UniqueConstraint("loan_id", "period_from", name="uq_guarantee_fees_loan_id"),
        sa.CheckConstraint("amount_fen >= 0", name="ck_guarantee_fees_amount_non_negative"),
    )
    op.create_table(
        "guarantee_claims",
        sa.Column("claim_id", sa.String(_ID), primary_key=True),
        sa.Column(
            "loan_id", sa.String(_ID), sa.ForeignKey("guarantee_covers.loan_id"), nullable=False
        ),
        sa.Column(
            "agreement_id",
            sa.String(_ID),
            sa.ForeignKey("guarantee_agreements.agreement_id"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("raised_on", sa.Date, nullable=False),
        sa.Column("days_past_due", sa.Integer, nullable=False),
        sa.Column("principal_fen", sa.BigInteger, nullable=False),
        sa.Column("interest_fen", sa.BigInteger, nullable=False),
        sa.Column("claim_fen", sa.BigInteger, nullable=False),
        sa.Column("paid_on", sa.Date, nullable=True),
        sa.Column("released_on", sa.Date, nullable=True),
        sa.Column("agency_recovered_fen", sa.BigInteger, nullable=False),
        sa.Column("bank_recovered_fen", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("loan_id", name="uq_guarantee_claims_loan_id"),
        sa.CheckConstraint("status IN ('raised', 'paid')", name="ck_guarantee_claims_status"),
        sa.CheckConstraint("claim_fen >= 0", name="ck_guarantee_claims_claim_non_negative"),
    )
    op.create_index("ix_guarantee_claims_agreement", "guarantee_claims", ["agreement_id"])
    op.create_table(
        "guarantee_recoveries",
        sa.Column("entry_key", sa.String(_KEY), primary_key=True),
        sa.Column(
            "claim_id",
            sa.String(_ID),
            sa.ForeignKey("guarantee_claims.claim_id"),
            nullable=False,
        ),
        sa.Column("recovered_on", sa.Date, nullable=False),
        sa.Column("recovery_fen", sa.BigInteger, nullable=False),
        sa.Column("agency_fen", sa.BigInteger, nullable=False),
        sa.Column("bank_fen", sa.BigInteger, nullable=False),
        sa.Column("remittance_key", sa.String(_KEY), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("guarantee_recoveries")
    op.drop_index("ix_guarantee_claims_agreement", table_name="guarantee_claims")
    op.drop_table("guarantee_claims")
    op.drop_table("guarantee_fees")
    op.drop_index("ix_guarantee_covers_agreement_enterprise", table_name="guarantee_covers")
    op.drop_table("guarantee_covers")
    op.drop_index("ix_guarantee_agreements_agency", table_name="guarantee_agreements")
    op.drop_table("guarantee_agreements")
    op.drop_table("guarantee_agencies")
