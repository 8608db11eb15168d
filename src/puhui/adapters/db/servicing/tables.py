"""Servicing tables (SQLAlchemy Core) on the shared metadata: money BIGINT fen, rates ×1e8."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from puhui.adapters.db.columns import UtcDateTime
from puhui.adapters.db.tables import metadata

_ID = 40
_KEY = 200

loan_products = Table(
    "loan_products",
    metadata,
    Column("product_id", String(_ID), primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("method", String(32), nullable=False),
    Column("min_annual_rate", String(20), nullable=False),
    Column("max_annual_rate", String(20), nullable=False),
    Column("min_term_months", Integer, nullable=False),
    Column("max_term_months", Integer, nullable=False),
    Column("min_amount_fen", BigInteger, nullable=False),
    Column("max_amount_fen", BigInteger, nullable=False),
    Column("basis", String(16), nullable=False),
    Column("rounding", String(16), nullable=False),
    Column("penalty_uplift", String(20), nullable=False),
    Column("grace_days", Integer, nullable=False),
    Column("waterfall", String(200), nullable=False),
    Column("settlement_day", Integer, nullable=False),
    Column("early_repayment", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

credit_lines = Table(
    "credit_lines",
    metadata,
    Column("line_id", String(_ID), primary_key=True),
    Column("enterprise_id", String(64), nullable=False, index=True),
    Column("product_id", String(_ID), ForeignKey("loan_products.product_id"), nullable=False),
    Column("annual_rate", String(20), nullable=False),
    Column("limit_fen", BigInteger, nullable=False),
    Column("drawn_fen", BigInteger, nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("expiry_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    CheckConstraint("limit_fen >= 0", name="limit_not_negative"),
    CheckConstraint("drawn_fen >= 0", name="drawn_not_negative"),
)

# One row per loan account (``LoanAccount``: a receipt 借据 or a term loan). Accumulators
# (积数) are exact fen×days integers since the last settlement; the *_accrued_fen columns are
# those accumulators priced and rounded, so the daily accrual is the change of a rounded
# cumulative figure and never drifts.
loans = Table(
    "loans",
    metadata,
    Column("loan_id", String(_ID), primary_key=True),
    Column("line_id", String(_ID), ForeignKey("credit_lines.line_id"), nullable=True),
    Column("product_id", String(_ID), ForeignKey("loan_products.product_id"), nullable=False),
    Column("enterprise_id", String(64), nullable=False),
    Column("annual_rate", String(20), nullable=False),
    Column("rate_e8", BigInteger, nullable=False),
    Column("penalty_rate_e8", BigInteger, nullable=False),
    Column("year_days", Integer, nullable=False),
    Column("half_even", Boolean, nullable=False),
    Column("grace_days", Integer, nullable=False),
    Column("settlement_day", Integer, nullable=False),
    Column("non_accrual_days", Integer, nullable=False),
    Column("disbursed_on", Date, nullable=False),
    Column("maturity_date", Date, nullable=False),
    Column("principal_fen", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("method", String(32), nullable=False),
    Column("current_period", Integer, nullable=False),
    Column("next_due_date", Date, nullable=True),
    Column("period_interest_fen", BigInteger, nullable=False),
    Column("period_principal_fen", BigInteger, nullable=False),
    Column("period_days", Integer, nullable=False),
    Column("period_days_elapsed", Integer, nullable=False),
    Column("billed_principal_fen", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("outstanding_principal_fen", BigInteger, nullable=False),
    Column("overdue_principal_fen", BigInteger, nullable=False),
    Column("interest_accum_fen_days", BigInteger, nullable=False),
    Column("interest_accrued_fen", BigInteger, nullable=False),
    Column("penalty_accum_fen_days", BigInteger, nullable=False),
    Column("penalty_accrued_fen", BigInteger, nullable=False),
    Column("compound_accum_fen_days", BigInteger, nullable=False),
    Column("compound_accrued_fen", BigInteger, nullable=False),
    Column("interest_billed_fen", BigInteger, nullable=False),
    Column("penalty_billed_fen", BigInteger, nullable=False),
    Column("compound_billed_fen", BigInteger, nullable=False),
    Column("billed_due_on", Date, nullable=True),
    Column("overdue_interest_fen", BigInteger, nullable=False),
    Column("memo_interest_fen", BigInteger, nullable=False),
    Column("memo_penalty_fen", BigInteger, nullable=False),
    Column("overdue_since", Date, nullable=True),
    Column("days_past_due", Integer, nullable=False),
    Column("category", String(20), nullable=False),
    Column("non_accrual", Boolean, nullable=False),
    Column("accrued_through", Date, nullable=True),
    Column("written_off_fen", BigInteger, nullable=False),
    Column("recovered_fen", BigInteger, nullable=False),
    Column("closed_on", Date, nullable=True),
    Column("version", Integer, nullable=False),
    # The payee of an entrusted payment (受托支付), e.g. a dealer loan paid to the core
    # enterprise; NULL: paid to the borrower (every receipt before migration 0023).
    Column("payee", String(64), nullable=True),
    # The day the bank called the loan in early (提前收回); NULL: not called in (migration
    # 0043 filled it for loans called in before it).
    Column("called_in_on", Date, nullable=True),
    CheckConstraint(
        "outstanding_principal_fen >= 0 AND overdue_principal_fen >= 0"
        " AND overdue_principal_fen <= outstanding_principal_fen"
        " AND billed_principal_fen >= 0 AND billed_principal_fen <= outstanding_principal_fen"
        " AND period_days > 0",
        name="principal_bounds",
    ),
    CheckConstraint(
        "interest_billed_fen >= 0 AND penalty_billed_fen >= 0 AND compound_billed_fen >= 0"
        " AND overdue_interest_fen >= 0 AND overdue_interest_fen <= interest_billed_fen"
        " AND memo_interest_fen >= 0 AND memo_penalty_fen >= 0",
        name="billed_bounds",
    ),
    Index("ix_loans_line_id", "line_id"),
    # A customer's receipts (the monitoring run's chunks; migration 0037).
    Index("ix_loans_enterprise_id", "enterprise_id"),
)

# The schedule of a term loan as it stands: rows from the current period on are replaced
# when an early repayment re-amortises it; billed periods are kept.
loan_instalments = Table(
    "loan_instalments",
    metadata,
    Column("loan_id", String(_ID), ForeignKey("loans.loan_id"), nullable=False),
    Column("period", Integer, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("period_days", Integer, nullable=False),
    Column("principal_fen", BigInteger, nullable=False),
    Column("interest_fen", BigInteger, nullable=False),
    PrimaryKeyConstraint("loan_id", "period", name="pk_loan_instalments"),
)

accrual_entries = Table(
    "accrual_entries",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("loan_id", String(_ID), nullable=False),
    Column("product_id", String(_ID), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("memo", Boolean, nullable=False),
    Column("interest_fen", BigInteger, nullable=False),
    Column("penalty_fen", BigInteger, nullable=False),
    Column("compound_fen", BigInteger, nullable=False),
    PrimaryKeyConstraint("as_of", "loan_id", "kind", name="pk_accrual_entries"),
)

category_history = Table(
    "category_history",
    metadata,
    Column("loan_id", String(_ID), nullable=False),
    Column("changed_on", Date, nullable=False),
    Column("from_category", String(20), nullable=False),
    Column("to_category", String(20), nullable=False),
    Column("days_past_due", Integer, nullable=False),
    PrimaryKeyConstraint("loan_id", "changed_on", name="pk_category_history"),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("entry_id", String(_ID), primary_key=True),
    Column("idempotency_key", String(_KEY), nullable=False, unique=True),
    Column("posted_on", Date, nullable=False, index=True),
    Column("description", String(400), nullable=False),
    Column("reverses_key", String(_KEY), nullable=True, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

journal_lines = Table(
    "journal_lines",
    metadata,
    Column("entry_id", String(_ID), ForeignKey("journal_entries.entry_id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("account", String(8), nullable=False, index=True),
    Column("amount_fen", BigInteger, nullable=False),
    PrimaryKeyConstraint("entry_id", "line_no", name="pk_journal_lines"),
    CheckConstraint("amount_fen <> 0", name="amount_not_zero"),
)

service_requests = Table(
    "service_requests",
    metadata,
    Column("idempotency_key", String(_KEY), primary_key=True),
    Column("operation", String(64), nullable=False),
    Column("request_digest", String(64), nullable=False),
    Column("result_json", Text, nullable=False),
    # The loan as it was before the request, kept so a same-day correction can restore it.
    Column("undo_json", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

eod_runs = Table(
    "eod_runs",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
)

eod_steps = Table(
    "eod_steps",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("step", String(32), nullable=False),
    Column("rows_affected", BigInteger, nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("as_of", "step", name="pk_eod_steps"),
)

# Repayment reconciliations (还款对账) as recorded: who compared which channel file (its
# SHA-256) with the books of a value date, when, the totals, and each break.
repayment_reconciliations = Table(
    "repayment_reconciliations",
    metadata,
    Column("run_id", String(_ID), primary_key=True),
    Column("value_date", Date, nullable=False, index=True),
    Column("file_sha256", String(64), nullable=False),
    Column("file_name", String(255), nullable=True),
    Column("reconciled_by", String(_KEY), nullable=False),
    Column("reconciled_at", UtcDateTime, nullable=False),
    Column("matched", BigInteger, nullable=False),
    Column("matched_fen", BigInteger, nullable=False),
    Column("ours_count", BigInteger, nullable=False),
    Column("ours_fen", BigInteger, nullable=False),
    Column("theirs_count", BigInteger, nullable=False),
    Column("theirs_fen", BigInteger, nullable=False),
    Column("breaks_count", BigInteger, nullable=False),
)

repayment_reconciliation_breaks = Table(
    "repayment_reconciliation_breaks",
    metadata,
    Column("run_id", String(_ID), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("order_id", String(128), nullable=False),
    Column("loan_id", String(_KEY), nullable=False),
    Column("ours_loan_id", Text, nullable=True),  # a duplicate order names every loan
    Column("ours_fen", BigInteger, nullable=True),
    Column("theirs_fen", BigInteger, nullable=True),
    Column("channel_ref", String(128), nullable=False),
    PrimaryKeyConstraint("run_id", "line_no", name="pk_repayment_reconciliation_breaks"),
    # Named here: the convention's name would pass PostgreSQL's 63 characters.
    ForeignKeyConstraint(
        ["run_id"], ["repayment_reconciliations.run_id"], name="fk_reconciliation_breaks_run"
    ),
)

repayment_suspense = Table(
    "repayment_suspense",
    metadata,
    Column("item_id", String(_ID), primary_key=True),
    Column("order_id", String(128), nullable=False, unique=True),
    Column("loan_id", String(_KEY), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("value_date", Date, nullable=False, index=True),
    Column("channel_ref", String(128), nullable=False),
    Column("run_id", String(_ID), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("held_on", Date, nullable=False),
    Column("held_by", String(_KEY), nullable=False),
    Column("held_at", UtcDateTime, nullable=False),
    Column("posted_fen", BigInteger, nullable=True),
    Column("resolved_on", Date, nullable=True),
    Column("resolved_by", String(_KEY), nullable=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("applied_loan_id", String(_KEY), nullable=True),
    Column("repayment_key", String(_KEY), nullable=True, unique=True),
    Column("reason", String(200), nullable=True),
    Column("refund_requested_by", String(_KEY), nullable=True),
    Column("refund_requested_at", UtcDateTime, nullable=True),
    Column("transfer_loan_id", String(_KEY), nullable=True),
    Column("transfer_requested_by", String(_KEY), nullable=True),
    Column("transfer_requested_at", UtcDateTime, nullable=True),
    Column("rejected_request", String(8), nullable=True),
    Column("rejected_reason", String(200), nullable=True),
    Column("rejected_by", String(_KEY), nullable=True),
    Column("rejected_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
    CheckConstraint(
        "status IN ('held', 'refund_requested', 'transfer_requested', 'applied', 'refunded')",
        name="status_known",
    ),
    ForeignKeyConstraint(
        ["run_id"], ["repayment_reconciliations.run_id"], name="fk_repayment_suspense_run"
    ),
)
