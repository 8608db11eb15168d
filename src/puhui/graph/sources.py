"""The data sources of a build, read from a market folder by table name and cut at the as-of month.

The graph does not import the market package (sibling layers stay independent): it reads the
folder layout every market writes, ``<dir>/tables/<name>/*.parquet``, and only the columns it
needs. Every frame here is lazy, so the largest tables (invoices) stream through the build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from puhui.domain.errors import InvalidInput

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "enterprises": (
        "uscc",
        "name",
        "registration_date",
        "phone",
        "address",
        "settlement_account",
        "legal_rep_id_number",
    ),
    "owners": ("id_number", "phone"),
    "invoices": ("seller_uscc", "buyer_uscc", "month", "amount_fen"),
    "guarantees": ("guarantor_uscc", "borrower_uscc", "start_month", "amount_fen"),
    "bureau": ("uscc", "month", "overdue_loans", "max_days_past_due", "hard_enquiries"),
    "court_cases": ("case_id", "uscc", "month", "event", "role"),
    "applications": (
        "application_id",
        "uscc",
        "application_date",
        "legal_rep_id_number",
        "phone",
        "device_id",
        "ip_address",
        "channel",
    ),
    "settlement_monthly": ("uscc", "month", "inflow_fen", "related_party_transfer_fen"),
}
"""The tables a build reads and the columns it needs of each."""

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class GraphInputError(InvalidInput):
    """The market folder or the as-of month cannot be built from."""

    code = "graph_input"


def parse_as_of(text: str) -> date:
    """``YYYY-MM`` to the first day of that month; anything else is refused in one sentence."""
    match = _MONTH.match(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise GraphInputError(f"--as-of must be a month written YYYY-MM, not {text!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_end(month: date) -> date:
    """The last day of ``month`` (given as its first day)."""
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return following - timedelta(days=1)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Sources:
    """Lazy scans of the market tables, each already cut at the as-of month."""

    market: Path
    as_of: date

    @classmethod
    def open(cls, market: Path, as_of: date) -> Sources:
        """Check every table is there with its columns before anything is built."""
        if not market.is_dir():
            raise GraphInputError(f"no market folder at {market}")
        for name, columns in REQUIRED_COLUMNS.items():
            folder = market / "tables" / name
            if not folder.is_dir() or not any(folder.glob("*.parquet")):
                raise GraphInputError(f"the market at {market} has no table {name!r}")
            schema = pl.scan_parquet(f"{folder}/*.parquet").collect_schema()
            missing = [c for c in columns if c not in schema]
            if missing:
                raise GraphInputError(f"the market table {name!r} lacks columns {missing}")
        return cls(market, as_of)

    def scan(self, name: str) -> pl.LazyFrame:
        return pl.scan_parquet(f"{self.market}/tables/{name}/*.parquet").select(
            REQUIRED_COLUMNS[name]
        )

    @property
    def as_of_end(self) -> date:
        return month_end(self.as_of)

    def enterprises(self) -> pl.LazyFrame:
        """The registry as known at the as-of month: enterprises registered by its end."""
        return self.scan("enterprises").filter(pl.col("registration_date") <= self.as_of_end)

    def owners(self) -> pl.LazyFrame:
        return self.scan("owners")

    def invoices(self) -> pl.LazyFrame:
        return self.scan("invoices").filter(pl.col("month") <= self.as_of)

    def guarantees(self) -> pl.LazyFrame:
        return self.scan("guarantees").filter(pl.col("start_month") <= self.as_of)

    def bureau(self) -> pl.LazyFrame:
        return self.scan("bureau").filter(pl.col("month") <= self.as_of)

    def court_cases(self) -> pl.LazyFrame:
        return self.scan("court_cases").filter(pl.col("month") <= self.as_of)

    def applications(self) -> pl.LazyFrame:
        return self.scan("applications").filter(pl.col("application_date") <= self.as_of_end)

    def settlement(self, since: date) -> pl.LazyFrame:
        return self.scan("settlement_monthly").filter(
            pl.col("month").is_between(since, self.as_of, closed="both")
        )
