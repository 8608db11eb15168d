"""Which graph snapshot serves the online check now, and whether one may.

:class:`GraphSource` finds the newest complete snapshot of a folder, reloads it when a newer
one appears (checked at most every few seconds), and refuses to serve one that is too old:
a stale or missing graph is "no evidence", said so in the health check and in the trace.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import polars as pl

from puhui.graph.online import GraphIndex
from puhui.graph.snapshot import GraphKeyError, SnapshotError, read_report

logger = logging.getLogger(__name__)

_SNAPSHOT_NAME = re.compile(r"^\d{4}-\d{2}$")

GraphStatus = Literal["ok", "stale", "missing", "loading"]

RETRY_SECONDS = (30.0, 120.0, 600.0)
"""Back-off after a snapshot failed to load: a folder caught mid-rebuild is read again, a
broken one is not read every few seconds (a load takes ~15 s on a million enterprises)."""


@dataclass(frozen=True, slots=True)
class GraphHealth:
    status: GraphStatus
    as_of: date | None
    """The as-of month (first day) of the snapshot found, if any."""
    why: str | None = None
    """A short reason for people (the unauthenticated health check shows it): no paths and
    no exception text, which go to the log."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
            "why": self.why,
        }


@dataclass(frozen=True, slots=True)
class LiveGraph:
    """What the online check may use now: the index when the graph is fit to serve."""

    health: GraphHealth
    index: GraphIndex | None

    def unavailable(self) -> dict[str, Any]:
        """The trace of an application checked without a graph: status and why."""
        return {**self.health.to_dict(), "graph": "unavailable"}


def snapshot_folders(graph_dir: Path) -> list[Path]:
    """Month folders of a graph folder, newest first (complete or not)."""
    if not graph_dir.is_dir():
        return []
    found = [p for p in graph_dir.iterdir() if p.is_dir() and _SNAPSHOT_NAME.match(p.name)]
    return sorted(found, key=lambda p: p.name, reverse=True)


def newest_complete(graph_dir: Path, today: date | None = None) -> Path | None:
    """The newest month folder whose report says it is complete and readable; with
    ``today``, only months before today's: a month's snapshot holds data to its end, so one
    of today's month or later is a replayed past reading its future."""
    current = None if today is None else today.strftime("%Y-%m")
    for folder in snapshot_folders(graph_dir):
        if current is not None and folder.name >= current:
            continue
        try:
            read_report(folder)
        except (SnapshotError, OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("graph snapshot %s skipped: %s", folder, exc)
            continue
        return folder
    return None


class GraphSource:
    """The newest complete snapshot of ``graph_dir``, reloaded when a newer one appears.

    Every ``recheck_seconds`` at most, a request looks at the folder; a changed newest
    snapshot is loaded in a background thread (``background=True``) while the loaded one
    keeps serving, or at once. Thread-safe; each worker process holds its own copy.
    """

    def __init__(
        self,
        graph_dir: Path | None,
        *,
        key: bytes,
        max_age_days: int = 45,
        recheck_seconds: float = 5.0,
        background: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.graph_dir = graph_dir
        self._key = key  # the graph-identifier key: snapshots of another key are refused
        self.max_age_days = max_age_days
        self.recheck_seconds = recheck_seconds
        self.background = background
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._loading = False
        self._checked_at: float | None = None
        self._signature: tuple[str, int] | None = None
        self._index: GraphIndex | None = None
        self._error: str | None = None
        self._failures = 0
        self._retry_at = 0.0

    def current(self, today: date) -> LiveGraph:
        self._refresh(today)
        return self._live(today)

    def _live(self, today: date) -> LiveGraph:
        index = self._index
        if index is None:
            if self._loading:
                return LiveGraph(
                    GraphHealth("loading", None, "the first snapshot is loading"), None
                )
            why = self._error or (
                "no graph folder configured (PUHUI_GRAPH_DIR)"
                if self.graph_dir is None
                else "no complete snapshot in the graph folder"
            )
            return LiveGraph(GraphHealth("missing", None, why), None)
        age = (today - index.data_until).days
        if age > self.max_age_days:
            why = (
                f"snapshot {index.folder.name} holds data to {index.data_until.isoformat()}, "
                f"{age} days before {today.isoformat()} (limit {self.max_age_days})"
            )
            return LiveGraph(GraphHealth("stale", index.report.as_of, why), None)
        return LiveGraph(GraphHealth("ok", index.report.as_of), index)

    def health(self, today: date) -> GraphHealth:
        """What serves now, without looking at the folder or loading (the health check must
        not wait on file I/O or a load of many seconds)."""
        return self._live(today).health

    def warm_up(self, today: date) -> None:
        """Load the newest snapshot now, before the first applicant waits for it."""
        self._checked_at = None
        background, self.background = self.background, False
        try:
            self._refresh(today)
        finally:
            self.background = background

    def _refresh(self, today: date) -> None:
        if self.graph_dir is None:
            return
        now = self._monotonic()
        with self._lock:
            if self._checked_at is not None and now - self._checked_at < self.recheck_seconds:
                return
            if self._loading:
                return
            self._checked_at = now
            folder = newest_complete(self.graph_dir, today)
            if folder is None:
                return
            try:
                signature = (str(folder), (folder / "report.json").stat().st_mtime_ns)
            except OSError as exc:  # replaced or removed since it was found
                logger.warning("graph snapshot %s not looked at: %s", folder, exc)
                return
            if signature == self._signature and (self._error is None or now < self._retry_at):
                return
            self._loading = True
        if self.background and self._index is not None:
            threading.Thread(
                target=self._load, args=(folder, signature), name="graph-reload", daemon=True
            ).start()
        else:
            self._load(folder, signature)

    def _load(self, folder: Path, signature: tuple[str, int]) -> None:
        """Load ``folder``; on failure keep what serves (if anything) and say why."""
        index, error = None, None
        try:
            index = GraphIndex.load(folder, self._key)
        except GraphKeyError as exc:
            logger.error("graph snapshot %s not loaded: %s", folder, exc)
            error = (
                f"snapshot {folder.name} was hashed under another graph key: rebuild it or "
                "configure the same secrets"
            )
        except (SnapshotError, OSError, ValueError, pl.exceptions.PolarsError) as exc:
            logger.error("graph snapshot %s not loaded: %s", folder, exc)
            error = f"snapshot {folder.name} could not be read (see the log)"
        finally:
            with self._lock:
                if index is not None:
                    self._index = index
                    self._failures = 0
                else:
                    wait = RETRY_SECONDS[min(self._failures, len(RETRY_SECONDS) - 1)]
                    self._failures += 1
                    self._retry_at = self._monotonic() + wait
                self._signature, self._error, self._loading = signature, error, False
