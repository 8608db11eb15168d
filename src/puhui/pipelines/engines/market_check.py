"""The market a job reads, refused early and by name when a table or a month is missing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import polars as pl

from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import (
    BUREAU,
    ENTERPRISES,
    SETTLEMENT_MONTHLY,
    TAX_MONTHLY,
    UTILITIES_MONTHLY,
    MarketTables,
    month_start_plus,
)

MONTHLY_PANELS = (TAX_MONTHLY, UTILITIES_MONTHLY, SETTLEMENT_MONTHLY, BUREAU)
"""Tables with a row per enterprise and month: a month without any row is a missing month
(court cases, loans and applications are events: an empty month is possible)."""
MANIFEST = "manifest.json"


def table_folder(market: Path, name: str) -> Path:
    return market / "tables" / name


def present_tables(market: Path, tables: Sequence[str], optional: Sequence[str]) -> list[str]:
    """``tables`` (each refused when absent) then the ``optional`` ones that exist."""
    if not (market / "tables").is_dir():
        raise InvalidTrainingData(f"no market in {market} (missing tables/)")
    for name in tables:
        if not any(table_folder(market, name).glob("*.parquet")):
            raise InvalidTrainingData(f"market table {name!r} not found in {market}")
    extra = [
        name
        for name in optional
        if name not in tables and any(table_folder(market, name).glob("*.parquet"))
    ]
    return [*dict.fromkeys(tables), *extra]


def _first_month(market: Path, panels: Sequence[str]) -> date | None:
    """The market's first month: its manifest's ``start`` (a market written by
    ``puhui market generate``), else the earliest month of its panels."""
    manifest = market / MANIFEST
    if manifest.is_file():
        try:
            start = json.loads(manifest.read_text(encoding="utf-8"))["parameters"]["start"]
            year, month = (int(part) for part in str(start).split("-")[:2])
            return date(year, month, 1)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a provider's folder with another manifest: fall back to the data
    firsts = [
        pl.scan_parquet(str(table_folder(market, name) / "*.parquet"))
        .select(pl.col("month").min())
        .collect()
        .item()
        for name in panels
    ]
    known = [first for first in firsts if isinstance(first, date)]
    return min(known) if known else None


def check_months(market: Path, tables: Sequence[str], through: date) -> None:
    """Every monthly panel among ``tables`` holds each month from the market's first to
    ``through``; the first missing one is named."""
    if through.day != 1:
        raise InvalidTrainingData("the last month to read must be given by its first day")
    panels = [name for name in MONTHLY_PANELS if name in tables]
    first = _first_month(market, panels) if panels else None
    if first is None:
        return
    if through < first:
        raise InvalidTrainingData(
            f"the market in {market} starts in {first:%Y-%m}: there is no data as of "
            f"{through:%Y-%m}"
        )
    for name in panels:
        held = set(
            pl.scan_parquet(str(table_folder(market, name) / "*.parquet"))
            .filter(pl.col("month").is_between(first, through))
            .select(pl.col("month").unique())
            .collect()
            .get_column("month")
            .to_list()
        )
        month = first
        while month <= through:
            if month not in held:
                raise InvalidTrainingData(
                    f"market table {name!r} in {market} has no rows for month {month:%Y-%m}"
                    + (" (after the market's last month)" if not held or month > max(held) else "")
                )
            month = month_start_plus(month, 1)


def open_checked(
    market: Path,
    tables: Sequence[str],
    optional: Sequence[str] = (),
    through: date | None = None,
) -> MarketTables:
    """The market's lazy tables after the table and month checks."""
    names = present_tables(market, tables, optional)
    if through is not None:
        check_months(market, names, through)
    return MarketTables.from_dir(
        market,
        names=[n for n in names if n in tables],
        optional=[n for n in names if n not in tables],
    )


def open_partitioned(
    market: Path,
    tables: Sequence[str],
    optional: Sequence[str] = (),
    through: date | None = None,
) -> MarketTables:
    """:func:`open_checked` for an engine's run: the enterprises table must be among
    ``tables``, since it is what the work is partitioned by."""
    if ENTERPRISES not in tables:
        raise InvalidTrainingData("the enterprises table partitions the work: list it")
    return open_checked(market, tables, optional, through)


def enterprise_keys(tables: MarketTables, enterprises: Sequence[str] | None) -> list[str]:
    """The enterprises to partition, sorted: every one of the table, or those of it given."""
    keys = tables[ENTERPRISES].select("uscc").unique()
    if enterprises is not None:
        wanted = pl.LazyFrame({"uscc": list(enterprises)}, schema={"uscc": pl.String})
        keys = keys.join(wanted, on="uscc", how="semi")
    return keys.sort("uscc").collect().get_column("uscc").to_list()
