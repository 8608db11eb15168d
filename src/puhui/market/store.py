"""Where a generated market's tables live on disk and how to read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from puhui.market import schema
from puhui.market.errors import (
    MarketManifestUnreadable,
    MarketNotFound,
    MarketTableMissing,
    UnknownMarketTable,
)
from puhui.market.params import MarketParams

MANIFEST = "manifest.json"


def table_dir(out_dir: Path, table: schema.Table) -> Path:
    return out_dir / table.folder


def part_path(out_dir: Path, table: schema.Table, first_slot: int) -> Path:
    return table_dir(out_dir, table) / f"part-{first_slot:09d}.parquet"


def read_manifest(market_dir: Path) -> dict[str, Any]:
    path = Path(market_dir) / MANIFEST
    if not path.is_file():
        raise MarketNotFound(f"{market_dir} holds no generated market (no {MANIFEST})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MarketManifestUnreadable(f"{path} is not a market manifest: {exc}") from exc
    if not isinstance(data, dict):
        raise MarketManifestUnreadable(f"{path} is not a market manifest (not an object)")
    if data.get("status") != "complete":
        raise MarketNotFound(
            f"the market in {market_dir} is incomplete (generation did not finish)"
        )
    return data


def read_parameters(market_dir: Path) -> MarketParams:
    """The parameters a finished market was generated with."""
    parameters = read_manifest(market_dir).get("parameters")
    if not isinstance(parameters, dict):
        raise MarketManifestUnreadable(f"the manifest in {market_dir} records no parameters")
    return MarketParams.from_json(parameters)


def scan(market_dir: Path, name: str) -> pl.LazyFrame:
    """A lazy view of one table (public or truth) of a generated market."""
    if name not in schema.TABLES:
        raise UnknownMarketTable(f"unknown market table {name!r}", details={"table": name})
    table = schema.TABLES[name]
    folder = table_dir(Path(market_dir), table)
    if not folder.is_dir():
        raise MarketTableMissing(f"table {name!r} is missing from {market_dir}")
    return pl.scan_parquet(str(folder / "*.parquet"), schema=table.polars_schema())


def read(market_dir: Path, name: str) -> pl.DataFrame:
    return scan(market_dir, name).collect()
