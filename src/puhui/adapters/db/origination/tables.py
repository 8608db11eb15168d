"""Tables of origination, on the platform's shared ``metadata`` (security's are re-exported)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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
)

from puhui.adapters.db.columns import HASH, ID, UtcDateTime
from puhui.adapters.db.security.tables import (  # noqa: F401 - their old home, still imported
    api_keys,
    otp_codes,
    rate_limits,
    revoked_tokens,
    user_revocations,
    users,
)
from puhui.adapters.db.tables import metadata

VELOCITY_INDEX_COLUMNS = ("phone_index", "device_id_index", "ip_address_index", "address_index")
ENCRYPTED_COLUMNS = ("id_number", "phone", "device_id", "ip_address", "address")
"""The encrypted fields of an application: ``<name>_enc`` holds the ciphertext."""

applications = Table(
    "origination_applications",
    metadata,
    Column("application_id", String(ID), primary_key=True),
    Column("application_no", String(32), nullable=False, unique=True),
    Column("uscc", String(18), nullable=False, index=True),
    # Equal to uscc while the application is open, NULL once closed: a portable "one open
    # application per enterprise" unique constraint (NULLs never collide).
    Column("open_uscc", String(18), nullable=True, unique=True),
    Column("id_number_enc", Text, nullable=False),
    Column("id_number_index", String(HASH), nullable=False, index=True),
    Column("phone_enc", Text, nullable=False),
    Column("phone_index", String(HASH), nullable=False),
    # Device, IP address and address are personal data too: sealed like the ID number, with
    # a blind index each for the anti-fraud velocity counts (equality only).
    Column("device_id_enc", Text, nullable=True),
    Column("device_id_index", String(HASH), nullable=True),
    Column("ip_address_enc", Text, nullable=True),
    Column("ip_address_index", String(HASH), nullable=True),
    Column("address_enc", Text, nullable=True),
    Column("address_index", String(HASH), nullable=True),
    Column("requested_amount_fen", BigInteger, nullable=True),
    Column("requested_term_months", Integer, nullable=True),
    # Read through (status, created_at) below: no index of its own (migration 0039).
    Column("status", String(16), nullable=False),
    Column("applicant_user_id", String(ID), nullable=True, index=True),
    Column("account_manager_id", String(ID), nullable=True),
    Column("partner_id", String(64), nullable=True),
    # Where the application came from (the channel's code) and through which branch or
    # village service point; NULL on applications made before they were kept.
    Column("channel", String(16), nullable=True),
    Column("branch_code", String(16), nullable=True, index=True),
    # The referring partner's risk score of the applicant (0-1000), a strategy input.
    Column("partner_score", Integer, nullable=True),
    # The green pre-screen's label and catalogue category the decision read (docs/green.md).
    Column("green_label", String(20), nullable=True),
    Column("green_category", String(40), nullable=True),
    Column("reviewed_by", String(ID), nullable=True),
    Column("credit_line_id", String(64), nullable=True),
    Column("assessment_json", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False, index=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    # Velocity counts (anti-fraud) read (value, created_at) ranges from the index alone.
    *(
        Index(f"ix_origination_applications_{column}_created_at", column, "created_at")
        for column in VELOCITY_INDEX_COLUMNS
    ),
    # The console's queues: one status, newest first.
    Index("ix_origination_applications_status_created_at", "status", "created_at"),
    # The application that opened a line (the monitoring run's chunks; migration 0037).
    Index("ix_origination_applications_credit_line_id", "credit_line_id"),
    # A partner's applications, newest first, with or without a status (migration 0038).
    Index("ix_origination_applications_partner_id_created_at", "partner_id", "created_at"),
)

consents = Table(
    "origination_consents",
    metadata,
    Column("consent_id", String(ID), primary_key=True),
    Column(
        "application_id",
        String(ID),
        ForeignKey(
            "origination_applications.application_id", name="fk_origination_consents_application"
        ),
        nullable=False,
        index=True,
    ),
    Column("scopes", String(200), nullable=False),
    Column("purpose", String(200), nullable=False),
    Column("granted_by", String(ID), nullable=False),
    Column("granted_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

offers = Table(
    "origination_offers",
    metadata,
    Column("offer_id", String(ID), primary_key=True),
    Column(
        "application_id",
        String(ID),
        ForeignKey(
            "origination_applications.application_id", name="fk_origination_offers_application"
        ),
        nullable=False,
        unique=True,
    ),
    Column("limit_fen", BigInteger, nullable=False),
    Column("annual_rate", Numeric(12, 8), nullable=False),
    Column("term_months", Integer, nullable=False),
    Column("grade", String(16), nullable=True),
    Column("made_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

contracts = Table(
    "origination_contracts",
    metadata,
    Column("contract_no", String(32), primary_key=True),
    Column(
        "application_id",
        String(ID),
        ForeignKey(
            "origination_applications.application_id", name="fk_origination_contracts_application"
        ),
        nullable=False,
        unique=True,
    ),
    Column("text", Text, nullable=False),
    Column("sha256", String(HASH), nullable=False),
    Column("signature_hex", String(128), nullable=False),
    Column("signing_key_id", String(64), nullable=False),
    Column("signed_at", UtcDateTime, nullable=False),
    Column("accepted_by", String(ID), nullable=False),
    Column("accepted_at", UtcDateTime, nullable=False),
)

fraud_list_entries = Table(
    "origination_fraud_list_entries",
    metadata,
    Column("entry_id", String(ID), primary_key=True),
    Column("list_name", String(32), nullable=False),
    Column("uscc", String(18), nullable=True),
    Column("id_number_index", String(HASH), nullable=True),
    Column("note", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_origination_fraud_list_entries_uscc", "list_name", "uscc"),
    Index("ix_origination_fraud_list_entries_person", "list_name", "id_number_index"),
)

idempotency_keys = Table(
    "origination_idempotency_keys",
    metadata,
    Column("scope", String(120), nullable=False),
    Column("key", String(128), nullable=False),
    Column("request_hash", String(HASH), nullable=False),
    Column("resource_id", String(ID), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("scope", "key", name="pk_origination_idempotency_keys"),
)

decision_records = Table(
    "origination_decisions",
    metadata,
    Column(
        "application_id",
        String(ID),
        ForeignKey("origination_applications.application_id"),
        primary_key=True,
    ),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("as_of", Date, nullable=False),
    Column("strategy_name", String(64), nullable=False),
    Column("strategy_version", Integer, nullable=False),
    Column("model_name", String(64), nullable=True),
    Column("model_version", String(64), nullable=True),
    Column("arm", String(16), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("feature_source", String(16), nullable=False),
    # Evidence, assessment, fraud hits and trace as one canonical JSON document: read whole
    # by replay and by backtests, never queried by its inner fields.
    Column("record_json", Text, nullable=False),
    Index("ix_origination_decisions_as_of", "as_of"),
    Index("ix_origination_decisions_model", "model_version", "as_of"),
    Index("ix_origination_decisions_strategy", "strategy_name", "strategy_version"),
)
