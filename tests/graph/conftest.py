"""A small generated market and its graph (built once per session), and hand-made markets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from puhui.graph.build import build
from puhui.graph.snapshot import BuildReport, read_report
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams

SMALL = MarketParams(enterprises=3_000, months=24, start=date(2023, 1, 1), seed=21)
AS_OF = date(2024, 12, 1)
GRAPH_KEY = b"graph-identifier-key-of-the-build-01"
"""The key the session's graph is hashed under (32 bytes or more, like a real one)."""

EMPTY: dict[str, dict[str, pl.DataType]] = {
    "enterprises": {
        "uscc": pl.String(),
        "name": pl.String(),
        "registration_date": pl.Date(),
        "phone": pl.String(),
        "address": pl.String(),
        "settlement_account": pl.String(),
        "legal_rep_id_number": pl.String(),
    },
    "owners": {"id_number": pl.String(), "phone": pl.String()},
    "invoices": {
        "seller_uscc": pl.String(),
        "buyer_uscc": pl.String(),
        "month": pl.Date(),
        "amount_fen": pl.Int64(),
    },
    "guarantees": {
        "guarantor_uscc": pl.String(),
        "borrower_uscc": pl.String(),
        "start_month": pl.Date(),
        "amount_fen": pl.Int64(),
    },
    "bureau": {
        "uscc": pl.String(),
        "month": pl.Date(),
        "overdue_loans": pl.Int32(),
        "max_days_past_due": pl.Int32(),
        "hard_enquiries": pl.Int32(),
    },
    "court_cases": {
        "case_id": pl.String(),
        "uscc": pl.String(),
        "month": pl.Date(),
        "event": pl.String(),
        "role": pl.String(),
    },
    "applications": {
        "application_id": pl.String(),
        "uscc": pl.String(),
        "application_date": pl.Date(),
        "legal_rep_id_number": pl.String(),
        "phone": pl.String(),
        "device_id": pl.String(),
        "ip_address": pl.String(),
        "channel": pl.String(),
    },
    "settlement_monthly": {
        "uscc": pl.String(),
        "month": pl.Date(),
        "inflow_fen": pl.Int64(),
        "related_party_transfer_fen": pl.Int64(),
    },
}


@pytest.fixture
def write_market(tmp_path: Path) -> Callable[..., Path]:
    """Write a market folder of the given rows (every other table empty)."""

    def write(**tables: list[dict[str, object]]) -> Path:
        root = tmp_path / "market"
        for name, schema in EMPTY.items():
            folder = root / "tables" / name
            folder.mkdir(parents=True, exist_ok=True)
            frame = pl.DataFrame(tables.get(name, []), schema=schema)
            frame.write_parquet(folder / "part-000000000.parquet")
        return root

    return write


@pytest.fixture(scope="session")
def small_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("graph-market") / "small"
    generate_market(SMALL, out, chunk_size=3_000)
    return out


@pytest.fixture(scope="session")
def graph_key() -> bytes:
    return GRAPH_KEY


@pytest.fixture(scope="session")
def small_graph(small_market: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("graph") / "built"
    build(small_market, AS_OF, out, key=GRAPH_KEY)
    return out


@pytest.fixture(scope="session")
def small_report(small_graph: Path) -> BuildReport:
    return read_report(small_graph)
