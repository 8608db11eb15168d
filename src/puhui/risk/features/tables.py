"""The market tables the features read: their names, required columns and lazy views."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from puhui.risk.errors import InvalidTrainingData

# Table and column names of the market contract (puhui.market.schema, version 1.x). The risk
# layer may not import the market, so it names them itself; a test reads both and compares.
ENTERPRISES = "enterprises"
OWNERS = "owners"
TAX_MONTHLY = "tax_monthly"
INVOICES = "invoices"
UTILITIES_MONTHLY = "utilities_monthly"
SETTLEMENT_MONTHLY = "settlement_monthly"
COURT_CASES = "court_cases"
BUREAU = "bureau"
LOAN_HISTORY = "loan_history"
# The lender's own application records: the application being decided and the earlier ones.
APPLICATIONS = "applications"
# The core enterprises (核心企业) of the supply chains a bank finances: one column, ``uscc``.
# A bank keeps this list; on the market it is the medium-size enterprises (the schema's own
# definition), derived from the registry by ``MarketTables.from_dir``. Online, the invoice
# pull carries the core enterprises among the applicant's counterparties.
CORE_ENTERPRISES = "core_enterprises"
CORE_SIZE_BAND = "medium"
FEATURE_TABLES = (
    ENTERPRISES,
    OWNERS,
    TAX_MONTHLY,
    INVOICES,
    UTILITIES_MONTHLY,
    SETTLEMENT_MONTHLY,
    COURT_CASES,
    BUREAU,
)
# Columns each table must offer (checked against the market schema by a test).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    ENTERPRISES: (
        "uscc", "legal_form", "industry_group", "region_code", "registration_date",
        "registered_capital_fen", "taxpayer_type", "employees", "legal_rep_id_number",
        "size_band",
    ),
    OWNERS: ("id_number", "birth_date", "education", "years_in_trade", "enterprises_represented"),
    TAX_MONTHLY: (
        "uscc", "month", "declared_sales_fen", "late_filing", "arrears_fen", "tax_credit_grade",
    ),
    INVOICES: (
        "seller_uscc", "buyer_uscc", "month", "amount_fen", "invoice_count", "voided_count",
        "red_letter_count",
    ),
    UTILITIES_MONTHLY: ("uscc", "month", "electricity_kwh", "late_payment"),
    SETTLEMENT_MONTHLY: (
        "uscc", "month", "inflow_fen", "outflow_fen", "balance_fen", "counterparties",
        "related_party_transfer_fen",
    ),
    COURT_CASES: ("case_id", "uscc", "month", "event", "role"),
    BUREAU: (
        "uscc", "month", "other_lender_loans", "other_lender_balance_fen", "overdue_loans",
        "max_days_past_due", "hard_enquiries",
    ),
    LOAN_HISTORY: ("uscc", "month", "days_past_due", "status"),
    APPLICATIONS: (
        "application_id", "uscc", "month", "application_date", "channel",
        "requested_amount_fen", "requested_term_months",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class MarketTables:
    """Lazy views of the public market tables (never ``truth/``)."""

    frames: Mapping[str, pl.LazyFrame]

    @classmethod
    def from_dir(
        cls,
        market: Path,
        names: Iterable[str] = (*FEATURE_TABLES, LOAN_HISTORY),
        optional: Iterable[str] = (APPLICATIONS,),
    ) -> MarketTables:
        """The ``names`` tables (refused when absent) and the ``optional`` ones that exist."""
        frames: dict[str, pl.LazyFrame] = {}
        for name in names:
            folder = market / "tables" / name
            if not folder.is_dir():
                raise InvalidTrainingData(f"market table {name!r} not found in {market}")
            frames[name] = pl.scan_parquet(str(folder / "*.parquet"))
        for name in optional:
            folder = market / "tables" / name
            if name not in frames and folder.is_dir():
                frames[name] = pl.scan_parquet(str(folder / "*.parquet"))
        if ENTERPRISES in frames:
            frames[CORE_ENTERPRISES] = core_enterprises(frames[ENTERPRISES])
        return cls(frames)

    def __getitem__(self, name: str) -> pl.LazyFrame:
        return self.frames[name]

    def for_enterprises(self, usccs: Iterable[str]) -> MarketTables:
        """The rows that concern these enterprises only (both sides of an invoice)."""
        # One list value (``implode``): ``is_in`` of a plain column is deprecated as ambiguous.
        keys = pl.Series(list(usccs), dtype=pl.String).implode()
        frames: dict[str, pl.LazyFrame] = {}
        for name, frame in self.frames.items():
            if name in (OWNERS, CORE_ENTERPRISES):
                frames[name] = frame  # joined through the enterprises kept; a list
            elif name == INVOICES:
                frames[name] = frame.filter(
                    pl.col("seller_uscc").is_in(keys) | pl.col("buyer_uscc").is_in(keys)
                )
            else:
                frames[name] = frame.filter(pl.col("uscc").is_in(keys))
        return replace(self, frames=frames)


def core_enterprises(enterprises: pl.LazyFrame) -> pl.LazyFrame:
    """The market's core enterprises: its medium-size firms (the schema's definition)."""
    return enterprises.filter(pl.col("size_band") == CORE_SIZE_BAND).select("uscc")
