"""Tables of guarantee agencies on the platform's shared metadata (created by migration 0025).

Agencies are named by USCC and loans by id: no personal data is stored here.
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
    String,
    Table,
    UniqueConstraint,
)

from puhui.adapters.db.columns import ID, UtcDateTime
from puhui.adapters.db.tables import metadata

KEY = 200

guarantee_agencies = Table(
    "guarantee_agencies",
    metadata,
    Column("agency_id", String(ID), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("uscc", String(18), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    UniqueConstraint("uscc"),
)

guarantee_agreements = Table(
    "guarantee_agreements",
    metadata,
    Column("agreement_id", String(ID), primary_key=True),
    Column("agency_id", String(ID), ForeignKey("guarantee_agencies.agency_id"), nullable=False),
    Column("product_id", String(ID), nullable=True),
    # Applications through this channel are decided with the coverage (NULL: none named).
    Column("channel", String(16), nullable=True),
    Column("coverage_share", Numeric(12, 8), nullable=False),
    Column("fee_rate", Numeric(12, 8), nullable=False),
    Column("fee_mode", String(16), nullable=False),
    Column("borrower_cap_fen", BigInteger, nullable=False),
    Column("portfolio_cap_fen", BigInteger, nullable=False),
    Column("claim_trigger_days", Integer, nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("counter_guarantee_waived", Boolean, nullable=False),
    # Covered exposure (share × principal at cover) of the agreement's loans, kept under
    # the agreement's row lock so that two covers cannot both pass the portfolio cap.
    Column("covered_fen", BigInteger, nullable=False),
    Column("claimed_fen", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(128), nullable=False),
    # The Idempotency-Key the agreement was created with (None from the CLI).
    Column("request_key", String(64), nullable=True),
    UniqueConstraint("request_key"),
    CheckConstraint("fee_mode IN ('at_draw', 'periodic')", name="fee_mode"),
    CheckConstraint("covered_fen >= 0 AND claimed_fen >= 0", name="amounts_non_negative"),
    Index("ix_guarantee_agreements_agency", "agency_id"),
)

guarantee_covers = Table(
    "guarantee_covers",
    metadata,
    Column("loan_id", String(ID), primary_key=True),
    Column(
        "agreement_id",
        String(ID),
        ForeignKey("guarantee_agreements.agreement_id"),
        nullable=False,
    ),
    Column("enterprise_id", String(64), nullable=False),
    Column("principal_fen", BigInteger, nullable=False),
    Column("covered_fen", BigInteger, nullable=False),
    Column("covered_on", Date, nullable=False),
    Column("covered_by", String(128), nullable=False),
    CheckConstraint("covered_fen >= 0 AND principal_fen > 0", name="amounts"),
    Index("ix_guarantee_covers_agreement_enterprise", "agreement_id", "enterprise_id"),
)

guarantee_fees = Table(
    "guarantee_fees",
    metadata,
    Column("entry_key", String(KEY), primary_key=True),
    Column("loan_id", String(ID), ForeignKey("guarantee_covers.loan_id"), nullable=False),
    Column("period_from", Date, nullable=False),
    Column("period_to", Date, nullable=False),
    Column("principal_fen", BigInteger, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("collected_on", Date, nullable=False),
    # The remittance that paid the fee on to the agency (None: still payable).
    Column("remittance_key", String(KEY), nullable=True),
    UniqueConstraint("loan_id", "period_from"),
    CheckConstraint("amount_fen >= 0", name="amount_non_negative"),
)

guarantee_claims = Table(
    "guarantee_claims",
    metadata,
    Column("claim_id", String(ID), primary_key=True),
    Column(
        "loan_id",
        String(ID),
        ForeignKey("guarantee_covers.loan_id"),
        nullable=False,
    ),
    Column(
        "agreement_id",
        String(ID),
        ForeignKey("guarantee_agreements.agreement_id"),
        nullable=False,
    ),
    Column("status", String(16), nullable=False),
    Column("raised_on", Date, nullable=False),
    Column("days_past_due", Integer, nullable=False),
    Column("principal_fen", BigInteger, nullable=False),
    Column("interest_fen", BigInteger, nullable=False),
    Column("claim_fen", BigInteger, nullable=False),
    Column("paid_on", Date, nullable=True),
    Column("released_on", Date, nullable=True),
    # The loan cured after the claim was paid: the compensation held went back to the agency.
    Column("returned_on", Date, nullable=True),
    Column("agency_recovered_fen", BigInteger, nullable=False),
    Column("bank_recovered_fen", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    UniqueConstraint("loan_id"),
    CheckConstraint("status IN ('raised', 'paid', 'withdrawn', 'returned')", name="status"),
    CheckConstraint("claim_fen >= 0", name="claim_non_negative"),
    Index("ix_guarantee_claims_agreement", "agreement_id"),
)

guarantee_recoveries = Table(
    "guarantee_recoveries",
    metadata,
    Column("entry_key", String(KEY), primary_key=True),
    Column("claim_id", String(ID), ForeignKey("guarantee_claims.claim_id"), nullable=False),
    Column("recovered_on", Date, nullable=False),
    Column("recovery_fen", BigInteger, nullable=False),
    Column("agency_fen", BigInteger, nullable=False),
    Column("bank_fen", BigInteger, nullable=False),
    Column("remittance_key", String(KEY), nullable=True),
)
