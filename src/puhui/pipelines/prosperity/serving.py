"""The built indices as online assessment reads them: the latest index of an industry."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import polars as pl

from puhui.market.catalog import INDUSTRIES
from puhui.pipelines.prosperity.build import read_index
from puhui.pipelines.prosperity.method import COMPOSITE

logger = logging.getLogger(__name__)

GROUP_OF_DIVISION: dict[str, str] = {d: i.group for i in INDUSTRIES for d in i.divisions}
"""GB/T 4754 division (the applicant's registered ``industry_code``) -> the index's group."""


class IndustryIndexFile:
    """Implements origination's ``IndustryProsperity`` over a folder ``prosperity build`` wrote
    (read once: the index is monthly, a new build means a restart)."""

    def __init__(self, index_dir: Path) -> None:
        indices, report = read_index(index_dir)
        industry = indices.filter(
            (pl.col("dimension") == "industry") & (pl.col("component") == COMPOSITE)
        ).sort("month")
        self._series: dict[str, list[tuple[date, float | None]]] = {
            str(cell): list(zip(group["month"].to_list(), group["index"].to_list(), strict=True))
            for (cell,), group in industry.group_by("cell", maintain_order=True)
        }
        logger.info(
            "industry prosperity index from %s (%s to %s, min cell %s)",
            index_dir,
            report.get("first_month"),
            report.get("last_month"),
            report.get("min_cell"),
        )

    def latest_index(self, industry_code: str, on: date) -> float | None:
        group = GROUP_OF_DIVISION.get(industry_code, industry_code)
        known = [(month, value) for month, value in self._series.get(group, []) if month <= on]
        if not known:
            return None
        return known[-1][1]
