"""Portfolio aggregates kept by the end of day, one set of rows per as-of date.

The dashboards read these tables and nothing else: each is a handful of rows per date, so a
page costs a few indexed reads however large the book grows. Money is BIGINT fen; PDs are
summed as integer parts per million so SQLite and PostgreSQL agree exactly.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from puhui.adapters.db.columns import ID, UtcDateTime
from puhui.adapters.db.tables import metadata

_NAME = 32
_GROUP = 64


def _count(name: str) -> Column[int]:
    return Column(name, BigInteger, nullable=False)


report_snapshots = Table(
    "report_snapshots",
    metadata,
    Column("as_of", Date, primary_key=True),
    Column("built_at", UtcDateTime, nullable=False),
    # The month end the roll rates start from; NULL when no loan states were kept for it.
    Column("roll_from", Date, nullable=True),
)

report_portfolio = Table(
    "report_portfolio",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("product_id", String(ID), nullable=False),
    _count("loans_active"),
    _count("outstanding_principal_fen"),
    _count("overdue_principal_fen"),
    _count("interest_receivable_fen"),
    _count("penalty_receivable_fen"),
    _count("non_accrual_interest_fen"),
    _count("lines_open"),
    _count("lines_frozen"),
    _count("limit_fen"),
    _count("drawn_fen"),
    _count("available_fen"),
    PrimaryKeyConstraint("as_of", "product_id", name="pk_report_portfolio"),
)

report_dpd_buckets = Table(
    "report_dpd_buckets",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("bucket", String(_NAME), nullable=False),
    _count("loans"),
    _count("principal_fen"),
    PrimaryKeyConstraint("as_of", "bucket", name="pk_report_dpd_buckets"),
)

report_categories = Table(
    "report_categories",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("category", String(_NAME), nullable=False),
    _count("loans"),
    _count("principal_fen"),
    PrimaryKeyConstraint("as_of", "category", name="pk_report_categories"),
)

# Active loans that a contract change touched (docs/loan-changes.md): renewed (the new loan),
# extended, restructured — flagged in reporting, their category left to the 2023 rules.
report_loan_changes = Table(
    "report_loan_changes",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("kind", String(_NAME), nullable=False),
    _count("loans"),
    _count("principal_fen"),
    _count("non_performing_loans"),
    PrimaryKeyConstraint("as_of", "kind", name="pk_report_loan_changes"),
)

report_roll_rates = Table(
    "report_roll_rates",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("from_bucket", String(_NAME), nullable=False),
    Column("to_bucket", String(_NAME), nullable=False),
    _count("loans"),
    # Principal at the start of the month: a roll rate is the share of a bucket's balance.
    _count("principal_fen"),
    PrimaryKeyConstraint("as_of", "from_bucket", "to_bucket", name="pk_report_roll_rates"),
)

# Each active loan's bucket at a month end: where next month's roll rates start from.
report_loan_buckets = Table(
    "report_loan_buckets",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("loan_id", String(ID), nullable=False),
    Column("bucket", String(_NAME), nullable=False),
    _count("principal_fen"),
    PrimaryKeyConstraint("as_of", "loan_id", name="pk_report_loan_buckets"),
)

# The first day each loan was more than 30 and more than 90 days past due ("ever bad"):
# cumulative state that vintage curves read, filled in as delinquency is seen.
report_first_bad = Table(
    "report_first_bad",
    metadata,
    Column("loan_id", String(ID), primary_key=True),
    Column("bad30_on", Date, nullable=True),
    Column("bad90_on", Date, nullable=True),
)

# Each line's PD at origination (parts per million; NULL when its decision had none), copied
# once from the stored decision's JSON so the nightly vintages never parse it again.
report_line_pd = Table(
    "report_line_pd",
    metadata,
    Column("line_id", String(ID), primary_key=True),
    Column("pd_ppm", BigInteger, nullable=True),
)

report_vintages = Table(
    "report_vintages",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("vintage", Date, nullable=False),
    Column("months_on_book", Integer, nullable=False),
    _count("loans"),
    _count("principal_fen"),
    _count("bad30_loans"),
    _count("bad30_principal_fen"),
    _count("bad90_loans"),
    _count("bad90_principal_fen"),
    PrimaryKeyConstraint("as_of", "vintage", "months_on_book", name="pk_report_vintages"),
)

report_vintage_pd = Table(
    "report_vintage_pd",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("vintage", Date, nullable=False),
    _count("pd_loans"),
    _count("pd_sum_ppm"),
    PrimaryKeyConstraint("as_of", "vintage", name="pk_report_vintage_pd"),
)

report_origination = Table(
    "report_origination",
    metadata,
    Column("as_of", Date, nullable=False),
    Column("channel", String(_GROUP), nullable=False),
    # '' when the application recorded no branch.
    Column("branch_code", String(_GROUP), nullable=False),
    _count("applications"),
    _count("decided"),
    _count("approved"),
    _count("declined"),
    _count("referred"),
    PrimaryKeyConstraint("as_of", "channel", "branch_code", name="pk_report_origination"),
)

REPORT_TABLES = (
    report_snapshots,
    report_portfolio,
    report_dpd_buckets,
    report_categories,
    report_roll_rates,
    report_loan_buckets,
    report_first_bad,
    report_line_pd,
    report_vintages,
    report_vintage_pd,
    report_origination,
)
