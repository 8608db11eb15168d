"""A small generated market for the advisor's tests (generated once per session)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from puhui.market.generate import generate_market
from puhui.market.params import MarketParams

START = date(2023, 1, 1)
MONTHS = 38
"""January 2023 to February 2026: the tests' clock (2026-03-02) makes February the latest
complete month."""


@pytest.fixture(scope="session")
def advisor_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("advisor-market")
    generate_market(MarketParams(enterprises=400, months=MONTHS, start=START, seed=11), out)
    return out


@pytest.fixture(scope="session")
def trading_enterprise(advisor_market: Path) -> tuple[str, str]:
    """(USCC, legal representative's ID number) of a micro enterprise that filed every month."""
    tax = pl.read_parquet(advisor_market / "tables/tax_monthly/*.parquet")
    enterprises = pl.read_parquet(advisor_market / "tables/enterprises/*.parquet")
    full = (
        tax.group_by("uscc")
        .agg(pl.len().alias("n"), pl.col("declared_sales_fen").min().alias("low"))
        .filter((pl.col("n") == MONTHS) & (pl.col("low") > 0))
    )
    row = (
        enterprises.join(full, on="uscc")
        .filter(pl.col("size_band") == "micro")
        .sort("uscc")
        .row(0, named=True)
    )
    return str(row["uscc"]), str(row["legal_rep_id_number"])
