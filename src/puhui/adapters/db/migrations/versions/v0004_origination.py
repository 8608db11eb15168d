"""Origination and security: applications, consents, offers, contracts, lists, users, keys.

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0001"
branch_labels = None
depends_on = None

ID = 40
HASH = 64


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "origination_applications",
        sa.Column("application_id", sa.String(ID), nullable=False),
        sa.Column("application_no", sa.String(32), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("open_uscc", sa.String(18), nullable=True),
        sa.Column("id_number_enc", sa.Text, nullable=False),
        sa.Column("id_number_index", sa.String(HASH), nullable=False),
        sa.Column("phone_enc", sa.Text, nullable=False),
        sa.Column("phone_index", sa.String(HASH), nullable=False),
        sa.Column("device_id", sa.String(128), nullable=True),
        sa.Column("ip_address", sa.String(64), nullable=True),
        sa.Column("address", sa.String(200), nullable=True),
        sa.Column("requested_amount_fen", sa.BigInteger, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("applicant_user_id", sa.String(ID), nullable=True),
        sa.Column("account_manager_id", sa.String(ID), nullable=True),
        sa.Column("partner_id", sa.String(64), nullable=True),
        sa.Column("reviewed_by", sa.String(ID), nullable=True),
        sa.Column("credit_line_id", sa.String(64), nullable=True),
        sa.Column("assessment_json", sa.Text, nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("application_id", name="pk_origination_applications"),
        sa.UniqueConstraint("application_no", name="uq_origination_applications_application_no"),
        sa.UniqueConstraint("open_uscc", name="uq_origination_applications_open_uscc"),
    )
    for column in (
        "uscc",
        "id_number_index",
        "phone_index",
        "device_id",
        "ip_address",
        "address",
        "status",
        "applicant_user_id",
        "partner_id",
        "created_at",
    ):
        op.create_index(
            f"ix_origination_applications_{column}", "origination_applications", [column]
        )

    op.create_table(
        "origination_consents",
        sa.Column("consent_id", sa.String(ID), nullable=False),
        sa.Column("application_id", sa.String(ID), nullable=False),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("granted_by", sa.String(ID), nullable=False),
        _ts("granted_at"),
        _ts("expires_at"),
        _ts("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("consent_id", name="pk_origination_consents"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["origination_applications.application_id"],
            name="fk_origination_consents_application",
        ),
    )
    op.create_index(
        "ix_origination_consents_application_id", "origination_consents", ["application_id"]
    )

    op.create_table(
        "origination_offers",
        sa.Column("offer_id", sa.String(ID), nullable=False),
        sa.Column("application_id", sa.String(ID), nullable=False),
        sa.Column("limit_fen", sa.BigInteger, nullable=False),
        sa.Column("annual_rate", sa.Numeric(12, 8), nullable=False),
        sa.Column("term_months", sa.Integer, nullable=False),
        sa.Column("grade", sa.String(16), nullable=True),
        _ts("made_at"),
        _ts("expires_at"),
        sa.PrimaryKeyConstraint("offer_id", name="pk_origination_offers"),
        sa.UniqueConstraint("application_id", name="uq_origination_offers_application_id"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["origination_applications.application_id"],
            name="fk_origination_offers_application",
        ),
    )

    op.create_table(
        "origination_contracts",
        sa.Column("contract_no", sa.String(32), nullable=False),
        sa.Column("application_id", sa.String(ID), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(HASH), nullable=False),
        sa.Column("signature_hex", sa.String(128), nullable=False),
        sa.Column("signing_key_id", sa.String(64), nullable=False),
        _ts("signed_at"),
        sa.Column("accepted_by", sa.String(ID), nullable=False),
        _ts("accepted_at"),
        sa.PrimaryKeyConstraint("contract_no", name="pk_origination_contracts"),
        sa.UniqueConstraint("application_id", name="uq_origination_contracts_application_id"),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["origination_applications.application_id"],
            name="fk_origination_contracts_application",
        ),
    )

    op.create_table(
        "origination_fraud_list_entries",
        sa.Column("entry_id", sa.String(ID), nullable=False),
        sa.Column("list_name", sa.String(32), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=True),
        sa.Column("id_number_index", sa.String(HASH), nullable=True),
        sa.Column("note", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("entry_id", name="pk_origination_fraud_list_entries"),
    )
    op.create_index(
        "ix_origination_fraud_list_entries_uscc",
        "origination_fraud_list_entries",
        ["list_name", "uscc"],
    )
    op.create_index(
        "ix_origination_fraud_list_entries_person",
        "origination_fraud_list_entries",
        ["list_name", "id_number_index"],
    )

    op.create_table(
        "origination_idempotency_keys",
        sa.Column("scope", sa.String(120), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("request_hash", sa.String(HASH), nullable=False),
        sa.Column("resource_id", sa.String(ID), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_origination_idempotency_keys"),
    )

    op.create_table(
        "security_users",
        sa.Column("user_id", sa.String(ID), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("partner_id", sa.String(64), nullable=True),
        sa.Column("phone_enc", sa.Text, nullable=True),
        sa.Column("phone_index", sa.String(HASH), nullable=True),
        sa.Column("disabled", sa.Boolean, nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("user_id", name="pk_security_users"),
        sa.UniqueConstraint("username", name="uq_security_users_username"),
        sa.UniqueConstraint("phone_index", name="uq_security_users_phone_index"),
    )

    op.create_table(
        "security_api_keys",
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.String(HASH), nullable=False),
        sa.Column("scopes", sa.String(400), nullable=False),
        _ts("created_at"),
        _ts("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_security_api_keys"),
    )
    op.create_index("ix_security_api_keys_partner_id", "security_api_keys", ["partner_id"])

    op.create_table(
        "security_otp_codes",
        sa.Column("otp_id", sa.String(ID), nullable=False),
        sa.Column("phone_index", sa.String(HASH), nullable=False),
        sa.Column("code_hash", sa.String(HASH), nullable=False),
        _ts("issued_at"),
        _ts("expires_at"),
        sa.Column("attempts", sa.Integer, nullable=False),
        _ts("used_at", nullable=True),
        sa.PrimaryKeyConstraint("otp_id", name="pk_security_otp_codes"),
    )
    op.create_index(
        "ix_security_otp_codes_phone", "security_otp_codes", ["phone_index", "issued_at"]
    )


def downgrade() -> None:
    for table in (
        "security_otp_codes",
        "security_api_keys",
        "security_users",
        "origination_idempotency_keys",
        "origination_fraud_list_entries",
        "origination_contracts",
        "origination_offers",
        "origination_consents",
        "origination_applications",
    ):
        op.drop_table(table)
