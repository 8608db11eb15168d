"""Tables of security (users, role grants, API keys, one-time codes, sessions, rate limits).

They sit on the platform's shared ``metadata``; their names and columns are the ones the
migrations create.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from puhui.adapters.db.columns import HASH, ID, UtcDateTime
from puhui.adapters.db.tables import metadata

users = Table(
    "security_users",
    metadata,
    Column("user_id", String(ID), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(200), nullable=True),
    Column("partner_id", String(64), nullable=True),
    Column("phone_enc", Text, nullable=True),
    Column("phone_index", String(HASH), nullable=True, unique=True),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

api_keys = Table(
    "security_api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("partner_id", String(64), nullable=False, index=True),
    Column("secret_hash", String(HASH), nullable=False),
    Column("scopes", String(400), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

otp_codes = Table(
    "security_otp_codes",
    metadata,
    Column("otp_id", String(ID), primary_key=True),
    Column("phone_index", String(HASH), nullable=False),
    Column("code_hash", String(HASH), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Index("ix_security_otp_codes_phone", "phone_index", "issued_at"),
)

revoked_tokens = Table(
    "security_revoked_tokens",
    metadata,
    Column("token_id", String(ID), primary_key=True),
    Column("user_id", String(ID), nullable=False),
    Column("revoked_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

user_revocations = Table(
    "security_user_revocations",
    metadata,
    Column("user_id", String(ID), primary_key=True),
    Column("revoked_before", UtcDateTime, nullable=False),
)

rate_limits = Table(
    "security_rate_limits",
    metadata,
    Column("limiter", String(32), nullable=False),
    Column("key_hash", String(HASH), nullable=False),
    Column("window_start", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    PrimaryKeyConstraint("limiter", "key_hash", name="pk_security_rate_limits"),
)

role_grants = Table(
    "security_role_grants",
    metadata,
    Column("grant_id", String(ID), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("username", String(64), nullable=False),
    Column("user_id", String(ID), nullable=True),
    Column("requested_by", String(ID), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("decided_by", String(ID), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decision_reason", Text, nullable=True),
    Index("ix_security_role_grants_status", "status", "requested_at"),
)
