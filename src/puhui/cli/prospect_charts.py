"""The marketing map's pictures: per dimension, the places with the most estimated need.

Drawn like the demo's charts (matplotlib ``Figure``, Agg, no pyplot state) with English titles.
Park names are Chinese: their labels use the CJK font the contract PDFs embed (fonts-wqy-
microhei, ``adapters.pdf.fonts``) when it is installed, else matplotlib's default (a missing
glyph shows as a box, never an error).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from puhui.domain.errors import ConfigurationError
from puhui.lazy import lazy_module

if TYPE_CHECKING:
    import matplotlib.figure as mpl_figure
    import matplotlib.font_manager as mpl_fonts
    import matplotlib.ticker as mpl_ticker
    from matplotlib.font_manager import FontProperties
else:
    mpl_figure = lazy_module("matplotlib.figure")
    mpl_fonts = lazy_module("matplotlib.font_manager")
    mpl_ticker = lazy_module("matplotlib.ticker")

TOP = 15
FEN_PER_MILLION_YUAN = 100_000_000
TITLES = {
    "region_code": "region (GB/T 2260 code)",
    "industry_group": "industry (GB/T 4754 group)",
    "park": "industrial park",
}


def _label_font() -> FontProperties | None:
    try:
        from puhui.adapters.pdf.fonts import cjk_font  # noqa: PLC0415 - reportlab on use

        return mpl_fonts.FontProperties(fname=str(cjk_font().path), size="small")
    except ConfigurationError:
        return None


def map_chart(table: pl.DataFrame, dimension: str, path: Path) -> Path:
    """Estimated need (bars, million yuan) and penetration (dots) of the top places."""
    top = table.head(TOP).reverse()
    labels = [str(v) for v in top.get_column(dimension).to_list()]
    positions = list(range(top.height))
    figure = mpl_figure.Figure(figsize=(8, 0.35 * max(top.height, 4) + 1.5))
    ax = figure.add_subplot()
    need = [v / FEN_PER_MILLION_YUAN for v in top.get_column("need_amount_fen").to_list()]
    ax.barh(positions, need, color="#4c956c", label="estimated need of prospects")
    font = _label_font()
    if font is None:
        ax.set_yticks(positions, labels, fontsize="small")
    else:
        ax.set_yticks(positions, labels, fontproperties=font)
    ax.set_xlabel("million yuan")
    share = ax.twiny()
    share.plot(
        top.get_column("penetration").to_list(),
        positions,
        "o",
        color="#d1495b",
        label="penetration (customers / (customers + prospects))",
    )
    share.xaxis.set_major_formatter(mpl_ticker.PercentFormatter(1.0))
    share.set_xlim(left=0)
    handles, names = ax.get_legend_handles_labels()
    more, more_names = share.get_legend_handles_labels()
    ax.legend(handles + more, names + more_names, loc="lower right", fontsize="small")
    ax.set_title(f"Prospects by {TITLES.get(dimension, dimension)}", pad=28)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path
