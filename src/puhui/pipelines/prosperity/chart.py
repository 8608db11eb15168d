"""The picture of the indices: overall and per industry, 50 marked (as many up as down).

Drawn like the other charts (matplotlib ``Figure``, Agg, no pyplot state); suppressed
cell-months are gaps in their line.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from puhui.lazy import lazy_module
from puhui.pipelines.prosperity.method import COMPOSITE, OVERALL

if TYPE_CHECKING:
    import matplotlib.figure as mpl_figure
else:
    mpl_figure = lazy_module("matplotlib.figure")

NEUTRAL = 50.0


def index_chart(indices: pl.DataFrame, path: Path) -> Path:
    """Composite indices by month: the overall line thick, one thin line per industry."""
    composite = indices.filter(pl.col("component") == COMPOSITE).sort("month")
    figure = mpl_figure.Figure(figsize=(10, 5))
    ax = figure.add_subplot()
    for (dimension, cell), series in composite.filter(
        pl.col("dimension").is_in([OVERALL, "industry"])
    ).group_by("dimension", "cell", maintain_order=True):
        values = [float("nan") if v is None else v for v in series.get_column("index").to_list()]
        overall = dimension == OVERALL
        ax.plot(
            series.get_column("month").to_list(),
            values,
            label="overall" if overall else str(cell),
            linewidth=2.5 if overall else 0.9,
            color="black" if overall else None,
            alpha=1.0 if overall else 0.7,
        )
    ax.axhline(NEUTRAL, color="grey", linestyle="--", linewidth=0.8)
    ax.set_ylabel("diffusion index (50 = as many up as down)")
    ax.set_title("Prosperity index, year on year, composite")
    ax.legend(fontsize="x-small", ncol=2, loc="best")
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path
