"""Tables follow the published schema and truth stays in truth/."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from puhui.market import schema, store


def test_every_table_has_exactly_the_schema_columns_and_dtypes(small_market: Path) -> None:
    for table in schema.ALL_TABLES:
        frame = pl.read_parquet(store.table_dir(small_market, table) / "*.parquet")
        assert frame.schema == pl.Schema(table.polars_schema()), table.name


def test_no_truth_column_appears_outside_truth(small_market: Path) -> None:
    truth_only = schema.TRUTH_ONLY_COLUMNS
    assert {"latent_health", "pd_12m", "default_month", "fraud_ring_id", "is_packaged"} <= (
        truth_only
    )
    for path in (small_market / "tables").rglob("*.parquet"):
        names = set(pq.read_schema(path).names)
        assert not names & truth_only, path
    for table in schema.TRUTH_TABLES:
        assert table.folder.startswith("truth/")
        assert not list((small_market / "tables").glob(f"{table.name}*"))


def test_money_columns_are_integer_fen(small_market: Path) -> None:
    for table in schema.ALL_TABLES:
        for column in table.columns:
            if column.name.endswith("_fen"):
                assert column.dtype == pl.Int64(), (table.name, column.name)


def test_months_are_first_days_and_monthly_keys_unique(small_market: Path) -> None:
    for name in ("tax_monthly", "utilities_monthly", "settlement_monthly", "bureau"):
        frame = store.read(small_market, name)
        assert (frame["month"].dt.day() == 1).all()
        assert frame.select(pl.struct("uscc", "month").is_unique().all()).item()
    invoices = store.read(small_market, "invoices")
    assert invoices.select(pl.struct("seller_uscc", "buyer_uscc", "month").is_unique().all()).item()


def test_manifest_records_seed_parameters_counts_and_hashes(small_market: Path) -> None:
    manifest = json.loads((small_market / "manifest.json").read_text())
    assert manifest["schema_version"] == schema.SCHEMA_VERSION
    assert manifest["seed"] == 11
    assert manifest["parameters"]["start"] == "2023-01"
    for table in schema.ALL_TABLES:
        info = manifest["tables"][table.name]
        assert info["rows"] == store.read(small_market, table.name).height
        assert len(info["content_hash"]) == 32
