"""The built indices as the platform reads them online: the latest index of an industry or a
region (strategy and monitoring inputs) and each cell's months (the console's charts)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from puhui.market.catalog import INDUSTRIES
from puhui.pipelines.prosperity.build import INDICES, REPORT, read_index
from puhui.pipelines.prosperity.method import COMPOSITE

logger = logging.getLogger(__name__)

GROUP_OF_DIVISION: dict[str, str] = {d: i.group for i in INDUSTRIES for d in i.divisions}
"""GB/T 4754 division (the applicant's registered ``industry_code``) -> the index's group."""

Point = tuple[date, float | None, int]
"""(month, composite index or None when suppressed, enterprises in the cell that month)."""


@dataclass(frozen=True, slots=True)
class _Loaded:
    stamp: tuple[int, int, int]
    series: dict[tuple[str, str], list[Point]]
    report: dict[str, Any]


def _stamp(index_dir: Path) -> tuple[int, int, int] | None:
    """When and how large the build's files are (None: no build there)."""
    try:
        indices = (index_dir / f"{INDICES}.parquet").stat()
        report = (index_dir / REPORT).stat()
    except OSError:
        return None
    return indices.st_mtime_ns, indices.st_size, report.st_mtime_ns


def _load(index_dir: Path, stamp: tuple[int, int, int]) -> _Loaded:
    indices, report = read_index(index_dir)
    composite = indices.filter(pl.col("component") == COMPOSITE).sort("month")
    series: dict[tuple[str, str], list[Point]] = {}
    for (dimension, cell), group in composite.group_by(["dimension", "cell"], maintain_order=True):
        series[(str(dimension), str(cell))] = list(
            zip(
                group["month"].to_list(),
                group["index"].to_list(),
                group["enterprises"].to_list(),
                strict=True,
            )
        )
    logger.info(
        "prosperity index from %s (%s to %s, min cell %s)",
        index_dir,
        report.get("first_month"),
        report.get("last_month"),
        report.get("min_cell"),
    )
    return _Loaded(stamp, series, report)


class IndustryIndexFile:
    """Implements origination's ``IndustryProsperity`` and monitoring's ``ProsperitySource``
    over the folder ``prosperity build`` writes into.

    The folder is looked at (one ``stat``) on every read and re-read when a new monthly build
    has replaced its files, so a build takes effect without a restart. ``required``: the folder
    must hold an index now (an explicitly configured folder: a wrong path stops the start-up
    with its reason); otherwise a folder without a build gives missing indices. A build that
    cannot be read later is logged and the last good one kept; a removed build gives missing
    indices. Nothing here raises on a read.
    """

    def __init__(self, index_dir: Path, *, required: bool = True) -> None:
        self.index_dir = index_dir
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None
        stamp = _stamp(index_dir)
        if required or stamp is not None:
            if stamp is None:
                read_index(index_dir)  # raises ProsperityIndexNotFound naming the folder
            else:
                self._loaded = _load(index_dir, stamp)

    def _current(self) -> _Loaded | None:
        stamp = _stamp(self.index_dir)
        loaded = self._loaded
        if stamp is None:
            return None
        if loaded is not None and loaded.stamp == stamp:
            return loaded
        with self._lock:
            if self._loaded is not None and self._loaded.stamp == stamp:
                return self._loaded
            try:
                self._loaded = _load(self.index_dir, stamp)
            except Exception as exc:  # a half-written or damaged build: keep the last good
                logger.error(
                    "prosperity index in %s not reloaded: %s: %s",
                    self.index_dir,
                    type(exc).__name__,
                    exc,
                )
            return self._loaded

    def series(self, dimension: str, cell: str) -> list[Point]:
        """A cell's composite index by month (``overall``/``all``, ``industry``/group,
        ``region``/code); empty without a build or for an unknown cell."""
        loaded = self._current()
        return [] if loaded is None else list(loaded.series.get((dimension, cell), []))

    def cells(self, dimension: str) -> list[str]:
        loaded = self._current()
        if loaded is None:
            return []
        return sorted(cell for (kind, cell) in loaded.series if kind == dimension)

    @property
    def report(self) -> dict[str, Any] | None:
        loaded = self._current()
        return None if loaded is None else dict(loaded.report)

    def latest_index(self, industry_code: str, on: date) -> float | None:
        """The industry group's composite index in the latest month up to ``on`` (None before
        the first month, without a build, or when that month's cell is suppressed)."""
        group = GROUP_OF_DIVISION.get(industry_code, industry_code)
        return _latest(self.series("industry", group), on)

    def latest_region_index(self, region_code: str, on: date) -> float | None:
        """The same for the region (GB/T 2260 code) of an enterprise."""
        return _latest(self.series("region", region_code), on)

    def recent(self, dimension: str, cell: str, on: date, months: int) -> list[Point]:
        """The cell's last ``months`` months up to ``on`` (suppressed ones included)."""
        known = [point for point in self.series(dimension, cell) if point[0] <= on]
        return known[-months:]


def _latest(series: list[Point], on: date) -> float | None:
    known = [value for month, value, _ in series if month <= on]
    return known[-1] if known else None


MONITORING_COLUMNS: dict[str, pl.DataType] = {
    f"{dimension}_prosperity_{name}": pl.Float64()
    for dimension in ("industry", "region")
    for name in ("index", "index_previous", "change_3m")
}
"""The monitoring inputs of the indices (``decision/triggers/mse-post-loan.yaml``)."""


def _point(series: list[Point], month: date, back: int) -> float | None:
    """The index ``back`` months before ``month`` (None: not built or suppressed)."""
    year, month_index = divmod(month.year * 12 + month.month - 1 - back, 12)
    wanted = date(year, month_index + 1, 1)
    for found, value, _ in series:
        if found == wanted:
            return value
    return None


def _cell_inputs(series: list[Point], on: date) -> tuple[float | None, ...]:
    months = [month for month, _, _ in series if month <= on]
    if not months:
        return (None, None, None)
    last = months[-1]
    now, previous, earlier = (_point(series, last, back) for back in (0, 1, 3))
    change = None if now is None or earlier is None else now - earlier
    return (now, previous, change)


def monitoring_facts(
    indices: IndustryIndexFile | None, enterprises: pl.DataFrame, month: date
) -> pl.DataFrame:
    """Per customer (``uscc, industry_code, region_code``): the index of its industry and region
    in the latest built month up to ``month``, the month before, and the change over three
    months — null where a cell is suppressed, unknown or nothing is built (never raises)."""
    rows = []
    for uscc, industry_code, region_code in enterprises.select(
        "uscc", "industry_code", "region_code"
    ).iter_rows():
        values: list[float | None] = []
        if indices is None:
            values = [None] * len(MONITORING_COLUMNS)
        else:
            group = GROUP_OF_DIVISION.get(industry_code or "", industry_code or "")
            values += _cell_inputs(indices.series("industry", group), month)
            values += _cell_inputs(indices.series("region", region_code or ""), month)
        rows.append((uscc, *values))
    return pl.DataFrame(rows, schema={"uscc": pl.String(), **MONITORING_COLUMNS}, orient="row")
