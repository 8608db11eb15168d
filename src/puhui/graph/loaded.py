"""A graph snapshot read into memory once and indexed for look-ups by node.

Reading Parquet and aggregating months of invoices takes seconds on a real book; a page asks
for one enterprise's ties many times a minute. So a snapshot is loaded once per folder, in the
background (``SnapshotCache``): its ties aggregated per pair and sorted, its ends sorted by node,
so the ties of a few nodes are binary searches, never a scan of the edge table.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
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
    # Lazily, so Parquet hands over only the columns the ties need and only the invoice months
    # of the window: the edge table is by far the largest of a snapshot.
    edges = (
        _scan(folder, "edges")
        .select("src", "dst", "kind", "month", "last_month", "amount_fen")
        .filter((pl.col("kind") != "invoice") | (pl.col("month") >= since))
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
        .collect()
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


SnapshotKey = tuple[Path, int]
"""A folder and its report's modification time: a folder built again is another snapshot."""


def snapshot_key(folder: Path) -> SnapshotKey:
    return (folder, (folder / "report.json").stat().st_mtime_ns)


@dataclass
class SnapshotCache:
    """Loaded snapshots, read in a background thread so that no request waits for one.

    Loading takes seconds (17 s at 200,000 enterprises); a request asks with ``peek`` and is
    told "not yet" while the load runs, and ``warm`` starts one ahead of need (at serve start,
    when a newer month appears). One load runs at a time; the ``capacity`` most recently used
    snapshots stay, so last month's (which decided older applications) and this month's do.
    A folder that fails to load fails again on each ``peek`` until it is built again.
    """

    capacity: int = 2
    loader: Callable[[Path], LoadedSnapshot] = load_snapshot
    _loaded: OrderedDict[SnapshotKey, LoadedSnapshot] = field(default_factory=OrderedDict)
    _pending: dict[SnapshotKey, Future[LoadedSnapshot]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _one_load: threading.Lock = field(default_factory=threading.Lock)

    def peek(self, folder: Path) -> LoadedSnapshot | None:
        """The loaded snapshot, or None while it loads (starting the load if none runs).

        Raises :class:`SnapshotError` when the folder could not be loaded."""
        key = snapshot_key(folder)
        with self._lock:
            loaded = self._loaded.get(key)
            if loaded is not None:
                self._loaded.move_to_end(key)
                return loaded
            future = self._schedule(key)
        if future.done():
            return future.result()  # raises the load's error
        return None

    def warm(self, folder: Path) -> None:
        """Start loading ``folder`` in the background unless it is loaded or loading."""
        key = snapshot_key(folder)
        with self._lock:
            if key not in self._loaded:
                self._schedule(key)

    def get(self, folder: Path) -> LoadedSnapshot:
        """The loaded snapshot, waiting for it (batch callers and tests)."""
        key = snapshot_key(folder)
        with self._lock:
            loaded = self._loaded.get(key)
            if loaded is not None:
                self._loaded.move_to_end(key)
                return loaded
            future = self._schedule(key)
        return future.result()

    def _schedule(self, key: SnapshotKey) -> Future[LoadedSnapshot]:
        """The load of ``key``, started now unless one exists (call holding ``_lock``)."""
        future = self._pending.get(key)
        if future is None:
            future = Future()
            self._pending[key] = future
            threading.Thread(
                target=self._load, args=(key, future), name="graph-snapshot", daemon=True
            ).start()
        return future

    def _load(self, key: SnapshotKey, future: Future[LoadedSnapshot]) -> None:
        with self._one_load:  # two months at once would hold three in memory at the peak
            try:
                loaded = self.loader(key[0])
            except Exception as exc:  # handed to whoever asks for the folder
                future.set_exception(exc)
                return
        with self._lock:
            for old in [k for k in self._loaded if k[0] == key[0]]:
                del self._loaded[old]  # the same folder built again: the old build is gone
            self._loaded[key] = loaded
            while len(self._loaded) > self.capacity:
                self._loaded.popitem(last=False)
            del self._pending[key]
        future.set_result(loaded)


def _scan(folder: Path, name: str) -> pl.LazyFrame:
    """A snapshot table to be read lazily; missing is a broken snapshot, as in ``read_table``."""
    path = folder / f"{name}.parquet"
    if not path.is_file():
        raise SnapshotError(f"{folder} lacks {name}.parquet")
    return pl.scan_parquet(path)


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
