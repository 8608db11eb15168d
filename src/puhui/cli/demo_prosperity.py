"""The demo's prosperity stage: build the industry and regional indices (景气指数) of the demo
market into the platform's folder (where online assessment, monitoring and the console read
them) and summarise the latest month and how the indices track the market's hidden factors."""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl

from puhui.cli.demo_report import Section
from puhui.domain.errors import PuhuiError
from puhui.domain.progress import Progress

logger = logging.getLogger(__name__)

TITLE = "Prosperity indices (景气指数)"


def prosperity_section(market_dir: Path, out_dir: Path, progress: Progress) -> Section:
    """Build the indices into ``out_dir``; one row per industry group: the latest month's
    composite index (or suppressed), its change over three months and its enterprises."""
    from puhui.pipelines.prosperity.build import build_index, write_index  # noqa: PLC0415
    from puhui.pipelines.prosperity.method import COMPOSITE  # noqa: PLC0415

    progress.start(None, "prosperity indices")
    try:
        index = build_index(market_dir)
        write_index(index, out_dir)
    except PuhuiError as exc:  # e.g. a market too short to compare with a year earlier
        logger.warning("prosperity indices not built: %s", exc.message)
        return Section(TITLE, ("", ""), notes=[f"not built: {exc.message}"])
    report = index.report()
    composite = index.indices.filter(
        (pl.col("dimension") == "industry") & (pl.col("component") == COMPOSITE)
    ).sort("month")
    last = composite.get_column("month").max()
    section = Section(
        f"{TITLE}, latest month {str(report['last_month'])[:7]}",
        ("industry", "index", "3-month change", "enterprises"),
        numeric=frozenset({1, 2, 3}),
    )
    for (cell,), group in composite.group_by("cell", maintain_order=True):
        rows = group.to_dicts()
        now = rows[-1] if rows and rows[-1]["month"] == last else None
        if now is None:
            continue
        earlier = rows[-4]["index"] if len(rows) >= 4 else None
        value = now["index"]
        change = None if value is None or earlier is None else value - earlier
        section.rows.append(
            (
                str(cell),
                "suppressed" if value is None else f"{value:.1f}",
                "" if change is None else f"{change:+.1f}",
                f"{now['enterprises']:,}",
            )
        )
    section.rows.sort(key=lambda row: row[0])
    pooled = {
        row["dimension"]: row for row in (report.get("correlations") or []) if row["cell"] == "*"
    }
    if pooled:
        section.notes.append(
            "correlation with the market's hidden factors (year-on-year change, r_truth): "
            + ", ".join(
                f"{name} {row['r_truth']:.2f}"
                for name, row in pooled.items()
                if row.get("r_truth") is not None
            )
        )
    section.notes.append(
        f"a cell-month under {report['min_cell']} enterprises is suppressed; written to "
        f"{out_dir}: the strategy input industry_prosperity_index and the post-loan prosperity "
        "signals read it, the console shows it at /console/prosperity (GET /api/v1/prosperity)"
    )
    return section
