"""Build the prosperity indices of a market, write them to a folder and read them back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from puhui.market import schema, store
from puhui.pipelines.prosperity.chart import index_chart
from puhui.pipelines.prosperity.errors import (
    InvalidMinimumCell,
    NoProsperityData,
    ProsperityIndexNotFound,
)
from puhui.pipelines.prosperity.method import (
    COMPONENT_NAMES,
    COMPOSITE,
    DEFAULT_MIN_CELL,
    OVERALL,
    SPRING_FESTIVAL_WINDOW,
    cell_indices,
    enterprise_scores,
)
from puhui.pipelines.prosperity.sources import common_factors, enterprise_cells, indicator_panel
from puhui.pipelines.prosperity.truth_check import cell_truth, correlations

INDICES = "indices"
CORRELATIONS = "correlations"
REPORT = "report.json"
CHART = "prosperity.png"
METHOD = (
    "year-on-year diffusion index: 100 x mean enterprise score (1 better, 0.5 same, 0 worse "
    "than the same month a year earlier); January-March compared as one total (Spring Festival)"
)


@dataclass(frozen=True, slots=True)
class ProsperityIndex:
    """The indices of every cell and month, and (when the market has truth) how they track
    its hidden factors."""

    indices: pl.DataFrame
    correlations: pl.DataFrame | None
    min_cell: int

    def report(self) -> dict[str, Any]:
        composite = self.indices.filter(pl.col("component") == COMPOSITE)
        months = composite.get_column("month")
        cells = {
            dimension: {
                "cells": group.get_column("cell").n_unique(),
                "shown_cell_months": int((~group.get_column("suppressed")).sum()),
                "suppressed_cell_months": int(group.get_column("suppressed").sum()),
            }
            for (dimension,), group in composite.group_by("dimension", maintain_order=True)
        }
        return {
            "method": METHOD,
            "spring_festival_window": list(SPRING_FESTIVAL_WINDOW),
            "components": list(COMPONENT_NAMES),
            "min_cell": self.min_cell,
            "first_month": months.min().isoformat(),  # type: ignore[union-attr]
            "last_month": months.max().isoformat(),  # type: ignore[union-attr]
            "cells": cells,
            "correlations": None
            if self.correlations is None
            else [
                {
                    **row,
                    "r_truth": _rounded(row["r_truth"]),
                    "r_macro": _rounded(row["r_macro"]),
                }
                for row in self.correlations.iter_rows(named=True)
            ],
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def build_index(
    market_dir: Path,
    *,
    min_cell: int = DEFAULT_MIN_CELL,
    first_month: date | None = None,
    last_month: date | None = None,
) -> ProsperityIndex:
    """The indices of the market's months in ``[first_month, last_month]`` that have a year
    earlier to compare with; cells of fewer than ``min_cell`` enterprises are suppressed."""
    if min_cell < 1:
        raise InvalidMinimumCell(
            f"--min-cell must be at least 1, got {min_cell}", details={"field": "min_cell"}
        )
    store.read_manifest(market_dir)
    in_range = pl.lit(True)
    if first_month is not None:
        in_range &= pl.col("month") >= first_month
    if last_month is not None:
        in_range &= pl.col("month") <= last_month
    scores = enterprise_scores(indicator_panel(market_dir)).filter(in_range).collect()
    if scores.is_empty():
        raise NoProsperityData(
            f"no month of {market_dir} in the range {_range(first_month, last_month)} has "
            "data a year earlier to compare with",
            details={"first_month": str(first_month), "last_month": str(last_month)},
        )
    cells = enterprise_cells(market_dir)
    indices = cell_indices(scores.lazy(), cells, min_cell=min_cell).collect()
    found = None
    if store.table_dir(market_dir, schema.TRUTH_MACRO).is_dir():
        truth = cell_truth(scores.lazy(), cells, common_factors(market_dir)).collect()
        found = correlations(indices, truth)
    return ProsperityIndex(indices=indices, correlations=found, min_cell=min_cell)


def _range(first: date | None, last: date | None) -> str:
    def month(value: date | None) -> str:
        return "..." if value is None else f"{value:%Y-%m}"

    return f"{month(first)} to {month(last)}"


def write_index(index: ProsperityIndex, out_dir: Path) -> list[Path]:
    """Parquet and CSV of the indices (and correlations), the report and the chart."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    tables = {INDICES: index.indices, CORRELATIONS: index.correlations}
    for name, frame in tables.items():
        if frame is None:
            continue
        frame.write_parquet(out_dir / f"{name}.parquet")
        frame.write_csv(out_dir / f"{name}.csv")
        written += [out_dir / f"{name}.parquet", out_dir / f"{name}.csv"]
    report = out_dir / REPORT
    report.write_text(json.dumps(index.report(), ensure_ascii=False, indent=2), encoding="utf-8")
    written.append(report)
    written.append(index_chart(index.indices, out_dir / CHART))
    return written


def read_index(index_dir: Path) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The indices and the report of a folder ``write_index`` wrote."""
    path, report = index_dir / f"{INDICES}.parquet", index_dir / REPORT
    if not path.is_file() or not report.is_file():
        raise ProsperityIndexNotFound(f"{index_dir} holds no prosperity index (no {path.name})")
    return pl.read_parquet(path), json.loads(report.read_text(encoding="utf-8"))


def cell_series(
    indices: pl.DataFrame,
    *,
    industry: str | None = None,
    region: str | None = None,
    component: str = COMPOSITE,
) -> pl.DataFrame:
    """One cell's months (the overall index when no cell is named), suppressed ones included."""
    dimension, cell = (
        ("industry", industry)
        if industry is not None
        else ("region", region)
        if region is not None
        else (OVERALL, "all")
    )
    of_dimension = indices.filter(pl.col("dimension") == dimension)
    series = of_dimension.filter((pl.col("cell") == cell) & (pl.col("component") == component))
    if series.is_empty():
        known = sorted(of_dimension.get_column("cell").unique().to_list())
        raise ProsperityIndexNotFound(
            f"no {dimension} cell {cell!r} with component {component!r}; cells: {', '.join(known)}",
            details={"dimension": dimension, "cell": cell},
        )
    return series.sort("month")


def latest(indices: pl.DataFrame, *, dimension: str, component: str = COMPOSITE) -> pl.DataFrame:
    """Each cell's index in the last month of the indices (null when suppressed)."""
    last = indices.get_column("month").max()
    return indices.filter(
        (pl.col("dimension") == dimension)
        & (pl.col("component") == component)
        & (pl.col("month") == last)
    ).sort("cell")
