"""Lending with partners: agreements (joint lending, facilitation), loans tied to them, the
partners' decisions, and the daily settlements with their rows.

No personal data: partners are institutions; loans and applications are named by id.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision: str | None = "0023"
branch_labels = None
depends_on = None

_ID = 40


def _agreement_fk() -> sa.ForeignKey:
    return sa.ForeignKey("partner_agreements.agreement_id")


def upgrade() -> None:
    op.create_table(
        "partner_agreements",
        sa.Column("agreement_id", sa.String(64), primary_key=True),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("partner_name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("funding_share", sa.String(20), nullable=False),
        sa.Column("approver", sa.String(8), nullable=False),
        sa.Column("max_outstanding_fen", sa.BigInteger, nullable=False),
        sa.Column("max_portfolio_share", sa.String(20), nullable=False),
        sa.Column("fee_per_loan_fen", sa.BigInteger, nullable=False),
        sa.Column("fee_interest_share", sa.String(20), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_to", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", name="pk_partner_agreements"),
        sa.CheckConstraint(
            "kind IN ('joint-lending', 'facilitation')", name="ck_partner_agreements_kind"
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'suspended')", name="ck_partner_agreements_status"
        ),
        sa.CheckConstraint("valid_to >= valid_from", name="ck_partner_agreements_validity"),
    )
    op.create_index("ix_partner_agreements_partner_id", "partner_agreements", ["partner_id"])
    op.create_table(
        "partner_loans",
        sa.Column("loan_id", sa.String(_ID), nullable=False),
        sa.Column("agreement_id", sa.String(64), _agreement_fk(), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("principal_fen", sa.BigInteger, nullable=False),
        sa.Column("linked_on", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("loan_id", name="pk_partner_loans"),
    )
    op.create_index("ix_partner_loans_agreement_id", "partner_loans", ["agreement_id"])
    op.create_table(
        "partner_decisions",
        sa.Column("agreement_id", sa.String(64), _agreement_fk(), nullable=False),
        sa.Column("application_id", sa.String(_ID), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", "application_id", name="pk_partner_decisions"),
        sa.CheckConstraint(
            "decision IN ('approve', 'decline')", name="ck_partner_decisions_decision"
        ),
    )
    op.create_table(
        "partner_settlements",
        sa.Column("agreement_id", sa.String(64), _agreement_fk(), nullable=False),
        sa.Column("settled_on", sa.Date, nullable=False),
        sa.Column("rows", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id", "settled_on", name="pk_partner_settlements"),
    )
    op.create_table(
        "partner_settlement_rows",
        sa.Column("agreement_id", sa.String(64), nullable=False),
        sa.Column("settled_on", sa.Date, nullable=False),
        sa.Column("loan_id", sa.String(_ID), nullable=False),
        sa.Column("component", sa.String(20), nullable=False),
        sa.Column("total_fen", sa.BigInteger, nullable=False),
        sa.Column("partner_fen", sa.BigInteger, nullable=False),
        sa.Column("bank_fen", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "agreement_id",
            "settled_on",
            "loan_id",
            "component",
            name="pk_partner_settlement_rows",
        ),
        sa.CheckConstraint(
            "partner_fen + bank_fen = total_fen", name="ck_partner_settlement_rows_parts_add_up"
        ),
    )


def downgrade() -> None:
    op.drop_table("partner_settlement_rows")
    op.drop_table("partner_settlements")
    op.drop_table("partner_decisions")
    op.drop_index("ix_partner_loans_agreement_id", table_name="partner_loans")
    op.drop_table("partner_loans")
    op.drop_index("ix_partner_agreements_partner_id", table_name="partner_agreements")
    op.drop_table("partner_agreements")
