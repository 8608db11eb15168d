"""The loan-change table on the platform's shared metadata (created by migration 0026).

No personal data: a change names loans and the users who requested and approved it.
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
    String,
    Table,
    Text,
)

from puhui.adapters.db.columns import ID, UtcDateTime
from puhui.adapters.db.tables import metadata

loan_changes = Table(
    "loan_changes",
    metadata,
    Column("change_id", String(ID), primary_key=True),
    Column("loan_id", String(ID), ForeignKey("loans.loan_id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("in_difficulty", Boolean, nullable=False),
    Column("effective_on", Date, nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("periods_before", Integer, nullable=False),
    Column("original_term_months", Integer, nullable=False),
    Column("maturity_before", Date, nullable=False),
    Column("extension_months", Integer, nullable=True),
    Column("new_term_months", Integer, nullable=True),
    # A restructuring's new contract rate (a decimal fraction), None: the rate is kept.
    Column("new_annual_rate", String(20), nullable=True),
    Column("new_loan_id", String(ID), ForeignKey("loans.loan_id"), nullable=True),
    Column("principal_fen", BigInteger, nullable=True),
    Column("maturity_after", Date, nullable=True),
    Column("observation_ends_on", Date, nullable=True),
    Column("second_in_observation", Boolean, nullable=False),
    Column("approved_by", String(128), nullable=True),
    Column("approved_at", UtcDateTime, nullable=True),
    # What an approved restructuring brought into the new schedule (migration 0042); NULL:
    # nothing (the loan was not in arrears, or the change is not a restructuring).
    Column("arrears_principal_fen", BigInteger, nullable=True),
    Column("arrears_interest_fen", BigInteger, nullable=True),
    Column("arrears_penalty_fen", BigInteger, nullable=True),
    Column("arrears_overdue_since", Date, nullable=True),
    Column("arrears_days_past_due", Integer, nullable=True),
    # Who rejected the change, when and why (migration 0048); NULL on any other status, and on
    # a change rejected before the reason was kept here.
    Column("rejected_by", String(128), nullable=True),
    Column("rejected_at", UtcDateTime, nullable=True),
    Column("rejection_reason", Text, nullable=True),
    CheckConstraint(
        "kind IN ('renewal', 'extension', 'restructuring')", name="ck_loan_changes_kind"
    ),
    CheckConstraint(
        "status IN ('requested', 'approved', 'rejected')", name="ck_loan_changes_status"
    ),
    CheckConstraint(
        "approved_by IS NULL OR approved_by <> requested_by", name="ck_loan_changes_four_eyes"
    ),
    CheckConstraint(
        "status = 'rejected' OR (rejected_by IS NULL AND rejected_at IS NULL"
        " AND rejection_reason IS NULL)",
        name="rejection_when_rejected",
    ),
    Index("ix_loan_changes_loan", "loan_id", "effective_on"),
    Index("ix_loan_changes_new_loan", "new_loan_id"),
    Index("ix_loan_changes_status", "status", "requested_at"),
)
