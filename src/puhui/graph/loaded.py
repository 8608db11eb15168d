"""A graph snapshot read into memory once and indexed for look-ups by node.

Reading Parquet and aggregating months of invoices takes seconds on a real book; a page asks
for one enterprise's ties many times a minute. So a snapshot is loaded once per folder
(``SnapshotCache``): its ties aggregated per pair and sorted, its ends sorted by node, so the
ties of a few nodes are binary searches, never a scan of the edge table.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

import polars as pl

from puhui.graph.snapshot import BuildReport, SnapshotError, read_report, read_table

INVOICE_WINDOW_MONTHS: Final = 12
"""Invoice ties add up the months of this window to the snapshot's month, as the facts do."""


@dataclass(frozen=True)
class LoadedSnapshot:
    """One snapshot's tables, aggregated and sorted for look-ups by node."""

    folder: Path
    report: BuildReport
    nodes: pl.DataFrame  # sorted by node
    ties: pl.DataFrame  # one row per (src, dst, kind), with its row number "tie"
    ends: pl.DataFrame  # (node, tie) twice per tie, sorted by node
    facts: pl.DataFrame  # sorted by uscc
    rings: pl.DataFrame
    circles: pl.DataFrame
    round_trips: pl.DataFrame
    round_trip_members: pl.DataFrame  # (member, cycle row), sorted by member


def _month_back(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def load_snapshot(folder: Path) -> LoadedSnapshot:
    """Read a snapshot and index it: seconds for millions of edges, then look-ups are cheap."""
    try:
        return _load(folder)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise SnapshotError(f"{folder} holds an unreadable graph table: {exc}") from exc


def _load(folder: Path) -> LoadedSnapshot:
    report = read_report(folder)
    since = _month_back(report.as_of.replace(day=1), INVOICE_WINDOW_MONTHS - 1)
    edges = read_table(folder, "edges").filter(
        (pl.col("kind") != "invoice") | (pl.col("month") >= since)
    )
    ties = (
        edges.group_by("src", "dst", "kind")
        .agg(
            amount_fen=pl.when(pl.col("amount_fen").is_not_null().any()).then(
                pl.col("amount_fen").sum()
            ),
            months=pl.col("month").n_unique().cast(pl.Int32),
            first_month=pl.col("month").min(),
            last_month=pl.col("last_month").max(),
        )
        .sort("src", "dst", "kind")
        .with_row_index("tie")
    )
    ends = pl.concat(
        [
            ties.select(node=pl.col("src"), tie=pl.col("tie")),
            ties.select(node=pl.col("dst"), tie=pl.col("tie")),
        ]
    ).sort("node", "tie")
    round_trips = read_table(folder, "round_trips").with_row_index("row")
    return LoadedSnapshot(
        folder=folder,
        report=report,
        nodes=read_table(folder, "nodes").sort("node"),
        ties=ties,
        ends=ends,
        facts=read_table(folder, "enterprise_facts").sort("uscc"),
        rings=read_table(folder, "rings"),
        circles=read_table(folder, "circles"),
        round_trips=round_trips,
        round_trip_members=round_trips.select("row", member=pl.col("members"))
        .explode("member")
        .unique()
        .sort("member", "row"),
    )


@dataclass
class SnapshotCache:
    """The loaded snapshot of a folder, kept until another folder (a newer month) is asked for.

    The report's modification time is part of the key: a folder built again is read again.
    """

    _loaded: LoadedSnapshot | None = None
    _key: tuple[Path, int] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, folder: Path) -> LoadedSnapshot:
        key = (folder, (folder / "report.json").stat().st_mtime_ns)
        with self._lock:
            if self._loaded is None or self._key != key:
                self._loaded = load_snapshot(folder)
                self._key = key
            return self._loaded


# --- look-ups ------------------------------------------------------------------------------


def rows(frame: pl.DataFrame, column: str, keys: Iterable[str]) -> pl.DataFrame:
    """The rows of ``frame`` (sorted by ``column``) whose ``column`` is one of ``keys``."""
    wanted = pl.Series(sorted(set(keys)), dtype=pl.String)
    if wanted.is_empty():
        return frame.clear()
    values = frame[column]
    first = values.search_sorted(wanted, side="left")
    last = values.search_sorted(wanted, side="right")
    index = pl.int_ranges(first, last, eager=True).explode().drop_nulls()
    return frame[index.cast(pl.Int64).to_list()]


def ties_of(snapshot: LoadedSnapshot, nodes: Iterable[str]) -> pl.DataFrame:
    tie_rows = rows(snapshot.ends, "node", nodes)["tie"].unique().sort()
    return snapshot.ties[tie_rows.cast(pl.Int64).to_list()]


def degrees(snapshot: LoadedSnapshot, nodes: Sequence[str]) -> dict[str, int]:
    wanted = pl.Series(nodes, dtype=pl.String)
    values = snapshot.ends["node"]
    first = values.search_sorted(wanted, side="left")
    last = values.search_sorted(wanted, side="right")
    return {n: int(b - a) for n, a, b in zip(nodes, first, last, strict=True)}
