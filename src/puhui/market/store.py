"""Where a generated market's tables live on disk and how to read them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from puhui.domain.errors import InvalidInput, NotFound
from puhui.market import schema

MANIFEST = "manifest.json"


def table_dir(out_dir: Path, table: schema.Table) -> Path:
    return out_dir / table.folder


def part_path(out_dir: Path, table: schema.Table, first_slot: int) -> Path:
    return table_dir(out_dir, table) / f"part-{first_slot:09d}.parquet"


def read_manifest(market_dir: Path) -> dict[str, Any]:
    path = Path(market_dir) / MANIFEST
    if not path.is_file():
        raise NotFound(f"{market_dir} holds no generated market (no {MANIFEST})")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if data.get("status") != "complete":
        raise NotFound(f"the market in {market_dir} is incomplete (generation did not finish)")
    return data


def scan(market_dir: Path, name: str) -> pl.LazyFrame:
    """A lazy view of one table (public or truth) of a generated market."""
    if name not in schema.TABLES:
        raise InvalidInput(f"unknown market table {name!r}", details={"table": name})
    table = schema.TABLES[name]
    folder = table_dir(Path(market_dir), table)
    if not folder.is_dir():
        raise NotFound(f"table {name!r} is missing from {market_dir}")
    return pl.scan_parquet(str(folder / "*.parquet"), schema=table.polars_schema())


def read(market_dir: Path, name: str) -> pl.DataFrame:
    return scan(market_dir, name).collect()
