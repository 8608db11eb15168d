"""Portfolio aggregates for the dashboards: balances, DPD buckets, roll rates, five-category
split, vintages with predicted and realised bad rates, origination by channel and branch.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision: str | None = "0018"
branch_labels = None
depends_on = None

ID = 40
NAME = 32
GROUP = 64


def _counts(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in names]


def upgrade() -> None:
    op.create_table(
        "report_snapshots",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("roll_from", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("as_of", name="pk_report_snapshots"),
    )
    op.create_table(
        "report_portfolio",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("product_id", sa.String(ID), nullable=False),
        *_counts(
            "loans_active",
            "outstanding_principal_fen",
            "overdue_principal_fen",
            "interest_receivable_fen",
            "penalty_receivable_fen",
            "non_accrual_interest_fen",
            "lines_open",
            "lines_frozen",
            "limit_fen",
            "drawn_fen",
            "available_fen",
        ),
        sa.PrimaryKeyConstraint("as_of", "product_id", name="pk_report_portfolio"),
    )
    for table, column in (("report_dpd_buckets", "bucket"), ("report_categories", "category")):
        op.create_table(
            table,
            sa.Column("as_of", sa.Date(), nullable=False),
            sa.Column(column, sa.String(NAME), nullable=False),
            *_counts("loans", "principal_fen"),
            sa.PrimaryKeyConstraint("as_of", column, name=f"pk_{table}"),
        )
    op.create_table(
        "report_roll_rates",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("from_bucket", sa.String(NAME), nullable=False),
        sa.Column("to_bucket", sa.String(NAME), nullable=False),
        *_counts("loans", "principal_fen"),
        sa.PrimaryKeyConstraint("as_of", "from_bucket", "to_bucket", name="pk_report_roll_rates"),
    )
    op.create_table(
        "report_loan_buckets",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("loan_id", sa.String(ID), nullable=False),
        sa.Column("bucket", sa.String(NAME), nullable=False),
        *_counts("principal_fen"),
        sa.PrimaryKeyConstraint("as_of", "loan_id", name="pk_report_loan_buckets"),
    )
    op.create_table(
        "report_first_bad",
        sa.Column("loan_id", sa.String(ID), nullable=False),
        sa.Column("bad30_on", sa.Date(), nullable=True),
        sa.Column("bad90_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("loan_id", name="pk_report_first_bad"),
    )
    op.create_table(
        "report_line_pd",
        sa.Column("line_id", sa.String(ID), nullable=False),
        sa.Column("pd_ppm", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("line_id", name="pk_report_line_pd"),
    )
    op.create_table(
        "report_vintages",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("vintage", sa.Date(), nullable=False),
        sa.Column("months_on_book", sa.Integer(), nullable=False),
        *_counts(
            "loans",
            "principal_fen",
            "bad30_loans",
            "bad30_principal_fen",
            "bad90_loans",
            "bad90_principal_fen",
        ),
        sa.PrimaryKeyConstraint("as_of", "vintage", "months_on_book", name="pk_report_vintages"),
    )
    op.create_table(
        "report_vintage_pd",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("vintage", sa.Date(), nullable=False),
        *_counts("pd_loans", "pd_sum_ppm"),
        sa.PrimaryKeyConstraint("as_of", "vintage", name="pk_report_vintage_pd"),
    )
    op.create_table(
        "report_origination",
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(GROUP), nullable=False),
        sa.Column("branch_code", sa.String(GROUP), nullable=False),
        *_counts("applications", "decided", "approved", "declined", "referred"),
        sa.PrimaryKeyConstraint("as_of", "channel", "branch_code", name="pk_report_origination"),
    )


def downgrade() -> None:
    for table in (
        "report_origination",
        "report_vintage_pd",
        "report_vintages",
        "report_line_pd",
        "report_first_bad",
        "report_loan_buckets",
        "report_roll_rates",
        "report_categories",
        "report_dpd_buckets",
        "report_portfolio",
        "report_snapshots",
    ):
        op.drop_table(table)
