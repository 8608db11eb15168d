"""The demo's charts as PNG files: originations, balance by days past due, vintages, calibration.

Drawn on matplotlib ``Figure`` objects (the Agg canvas, no display, no global pyplot state).
Amounts are plotted in whole yuan (integer division of fen): a chart needs no cents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from puhui.lazy import lazy_module
from puhui.pipelines.portfolio_history import (
    DPD_BUCKETS,
    VINTAGE_BAD_DPD,
    CalibrationBand,
    MonthOriginations,
)

if TYPE_CHECKING:
    import matplotlib.figure as mpl_figure
    import matplotlib.ticker as mpl_ticker
    from matplotlib.figure import Figure
else:
    mpl_figure = lazy_module("matplotlib.figure")
    mpl_ticker = lazy_module("matplotlib.ticker")

BUCKET_COLOURS = ("#4c956c", "#f2c14e", "#f78154", "#d1495b", "#5d2e46")


def _save(figure: Figure, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path


def _month_labels(months: Sequence[date]) -> list[str]:
    return [f"{m:%Y-%m}" for m in months]


def originations_chart(rows: Sequence[MonthOriginations], path: Path) -> Path:
    figure = mpl_figure.Figure(figsize=(7.5, 4))
    ax = figure.add_subplot()
    labels = _month_labels([r.month for r in rows])
    positions = list(range(len(rows)))
    ax.bar([p - 0.2 for p in positions], [r.applications for r in rows], 0.4, label="applications")
    ax.bar([p + 0.2 for p in positions], [r.lines_opened for r in rows], 0.4, label="lines opened")
    ax.set_xticks(positions, labels, rotation=45, ha="right")
    ax.set_ylabel("count")
    rate = ax.twinx()
    rate.plot(
        positions,
        [r.approval_rate or 0 for r in rows],
        color="black",
        marker="o",
        label="approval rate",
    )
    rate.yaxis.set_major_formatter(mpl_ticker.PercentFormatter(1.0))
    rate.set_ylim(bottom=0)
    rate.set_ylabel("approval rate")
    handles, names = ax.get_legend_handles_labels()
    more, more_names = rate.get_legend_handles_labels()
    ax.legend(handles + more, names + more_names, loc="upper left", fontsize="small")
    ax.set_title("Applications, lines opened and approval rate by month")
    return _save(figure, path)


def balance_chart(series: Sequence[tuple[date, Mapping[str, int]]], path: Path) -> Path:
    figure = mpl_figure.Figure(figsize=(7.5, 4))
    ax = figure.add_subplot()
    labels = _month_labels([day for day, _ in series])
    bottom = [0] * len(series)
    for (name, _, _), colour in zip(DPD_BUCKETS, BUCKET_COLOURS, strict=True):
        yuan = [amounts.get(name, 0) // 100 for _, amounts in series]
        ax.bar(labels, yuan, bottom=bottom, label=f"DPD {name}", color=colour)
        bottom = [b + y for b, y in zip(bottom, yuan, strict=True)]
    ax.yaxis.set_major_formatter(mpl_ticker.FuncFormatter(lambda v, _: f"{v / 10_000:,.0f}"))
    ax.set_ylabel("principal outstanding (10k yuan)")
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend(fontsize="small")
    ax.set_title("Principal outstanding by days past due, at each month end")
    return _save(figure, path)


def vintage_chart(curves: Mapping[date, Sequence[tuple[int, float]]], path: Path) -> Path:
    figure = mpl_figure.Figure(figsize=(7.5, 4))
    ax = figure.add_subplot()
    for vintage, points in sorted(curves.items()):
        ax.plot(
            [m for m, _ in points],
            [share for _, share in points],
            marker="o",
            label=f"{vintage:%Y-%m}",
        )
    ax.yaxis.set_major_formatter(mpl_ticker.PercentFormatter(1.0))
    ax.xaxis.set_major_locator(mpl_ticker.MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.set_xlabel("months on book")
    ax.set_ylabel(f"receipts ever {VINTAGE_BAD_DPD}+ days past due")
    if curves:
        ax.legend(title="drawn in", fontsize="small", ncols=2)
    ax.set_title("Vintage curves: bad rate by months on book")
    return _save(figure, path)


def calibration_chart(bands: Sequence[CalibrationBand], path: Path) -> Path:
    figure = mpl_figure.Figure(figsize=(5.5, 5))
    ax = figure.add_subplot()
    predicted = [b.mean_predicted for b in bands]
    realised = [b.realised for b in bands]
    top = max([*predicted, *realised, 0.01]) * 1.1
    ax.plot([0, top], [0, top], color="grey", linestyle="--", label="perfect calibration")
    customers = sum(b.n for b in bands)
    ax.plot(
        predicted,
        realised,
        marker="o",
        label=f"{len(bands)} bands of equal size ({customers:,} booked customers)",
    )
    ax.xaxis.set_major_formatter(mpl_ticker.PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(mpl_ticker.PercentFormatter(1.0))
    ax.set_xlabel("predicted: mean 12-month PD at booking")
    ax.set_ylabel("realised: defaulted by the window's end (truth)")
    ax.legend(fontsize="small")
    ax.set_title("Predicted against realised default")
    return _save(figure, path)


def write_demo_charts(
    out: Path,
    *,
    originations: Sequence[MonthOriginations],
    balances: Sequence[tuple[date, Mapping[str, int]]],
    vintages: Mapping[date, Sequence[tuple[int, float]]],
    calibration: Sequence[CalibrationBand],
) -> list[Path]:
    """Write the four charts into ``out`` (created); return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    return [
        originations_chart(originations, out / "originations.png"),
        balance_chart(balances, out / "balance-by-dpd.png"),
        vintage_chart(vintages, out / "vintages.png"),
        calibration_chart(calibration, out / "predicted-vs-realised.png"),
    ]
