"""Tables of lending with partners on the platform's shared metadata (created by migration 0024).

A loan is tied to an agreement through ``partner_loans`` rather than a column on ``loans``, so
servicing's tables stay as they are. Partners are institutions: no personal data is stored.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from puhui.adapters.db.columns import ID, UtcDateTime
from puhui.adapters.db.tables import metadata

partner_agreements = Table(
    "partner_agreements",
    metadata,
    Column("agreement_id", String(64), primary_key=True),
    Column("partner_id", String(64), nullable=False, index=True),
    Column("partner_name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    # Fractions as exact decimal strings ("0.3"): never floats.
    Column("funding_share", String(20), nullable=False),
    Column("approver", String(8), nullable=False),
    Column("max_outstanding_fen", BigInteger, nullable=False),
    Column("max_portfolio_share", String(20), nullable=False),
    Column("fee_per_loan_fen", BigInteger, nullable=False),
    Column("fee_interest_share", String(20), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    CheckConstraint("kind IN ('joint-lending', 'facilitation')", name="kind"),
    CheckConstraint("status IN ('draft', 'active', 'suspended')", name="status"),
    CheckConstraint("valid_to >= valid_from", name="validity"),
)

partner_loans = Table(
    "partner_loans",
    metadata,
    Column("loan_id", String(ID), primary_key=True),
    Column(
        "agreement_id",
        String(64),
        ForeignKey("partner_agreements.agreement_id"),
        nullable=False,
        index=True,
    ),
    Column("channel", String(64), nullable=False),
    Column("principal_fen", BigInteger, nullable=False),
    Column("linked_on", Date, nullable=False),
)

partner_decisions = Table(
    "partner_decisions",
    metadata,
    Column(
        "agreement_id", String(64), ForeignKey("partner_agreements.agreement_id"), nullable=False
    ),
    Column("application_id", String(ID), nullable=False),
    Column("decision", String(8), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("agreement_id", "application_id", name="pk_partner_decisions"),
    CheckConstraint("decision IN ('approve', 'decline')", name="decision"),
)

partner_settlements = Table(
    "partner_settlements",
    metadata,
    Column(
        "agreement_id", String(64), ForeignKey("partner_agreements.agreement_id"), nullable=False
    ),
    Column("settled_on", Date, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("agreement_id", "settled_on", name="pk_partner_settlements"),
)

partner_settlement_rows = Table(
    "partner_settlement_rows",
    metadata,
    Column("agreement_id", String(64), nullable=False),
    Column("settled_on", Date, nullable=False),
    Column("loan_id", String(ID), nullable=False),
    Column("component", String(20), nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("partner_fen", BigInteger, nullable=False),
    Column("bank_fen", BigInteger, nullable=False),
    PrimaryKeyConstraint(
        "agreement_id", "settled_on", "loan_id", "component", name="pk_partner_settlement_rows"
    ),
    CheckConstraint("partner_fen + bank_fen = total_fen", name="parts_add_up"),
)
