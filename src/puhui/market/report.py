"""The calibration report of a generated market: Markdown and PNG charts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from puhui.lazy import lazy_module
from puhui.market import store
from puhui.market.calibration import Target, measure

if TYPE_CHECKING:
    import matplotlib.figure as mpl_figure
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
else:
    mpl_figure = lazy_module("matplotlib.figure")


@dataclass(frozen=True)
class CalibrationReport:
    markdown_path: Path
    charts: tuple[Path, ...]
    targets: tuple[Target, ...]

    @property
    def outside(self) -> tuple[Target, ...]:
        return tuple(t for t in self.targets if t.checked and not t.inside)


def _fmt(target: Target, value: float | None) -> str:
    if value is None:
        return "n/a"
    if target.unit == "%":
        return f"{100 * value:.2f}%"
    return f"{value:.3f}" if target.unit != "months" else f"{value:.1f}"


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    # A figure of its own (Agg when saved), not pyplot's global state.
    figure = mpl_figure.Figure(figsize=(width, height))
    return figure, figure.subplots()


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def _charts(frames: dict[str, pl.DataFrame], out: Path) -> list[Path]:
    paths = []
    rates = frames["default_rates"]
    if rates.height:
        fig, ax = _figure(6, 3.5)
        ax.bar(rates["year"], 100 * rates["defaults"] / rates["performing"], color="#c0392b")
        ax.axhspan(2.0, 3.5, color="#2ecc71", alpha=0.2, label="target 2-3.5%")
        ax.set_xlabel("year of the window")
        ax.set_ylabel("defaults / performing at year start (%)")
        ax.set_title("Annual default rate")
        ax.legend()
        paths.append(_save(fig, out / "default_rate.png"))
    season = frames["seasonality"]
    if season.height:
        fig, ax = _figure(8, 4)
        for group in sorted(season["industry_group"].unique().to_list()):
            part = season.filter(pl.col("industry_group") == group)
            ax.plot(part["month"].to_list(), part["index"].to_list(), label=group, linewidth=1)
        ax.axhline(1.0, color="grey", linewidth=0.5)
        ax.set_ylabel("declared sales / year mean")
        ax.set_title("Seasonality by industry (Spring Festival dip and peaks)")
        ax.legend(fontsize=6, ncol=2)
        paths.append(_save(fig, out / "seasonality.png"))
    leads = frames["lead_times"]
    if leads.height:
        fig, ax = _figure(6, 3.5)
        counts = leads.group_by("lead_months").len().sort("lead_months")
        ax.bar(counts["lead_months"], counts["len"], color="#2980b9")
        ax.axvspan(2.5, 6.5, color="#2ecc71", alpha=0.2, label="target 3-6 months")
        ax.set_xlabel("consecutive warning months before default")
        ax.set_ylabel("defaulters")
        ax.set_title("Signal lead time")
        ax.legend()
        paths.append(_save(fig, out / "lead_time.png"))
    signals = frames["signals"]
    if signals.height:
        fig, ax = _figure(7, 4)
        rel = signals["rel"].to_list()
        for column, label in (
            ("sales_ratio", "declared sales / own level"),
            ("electricity_ratio", "electricity / own level"),
            ("late_filing_share", "share filing late"),
            ("overdue_share", "share overdue elsewhere"),
        ):
            ax.plot(rel, signals[column].to_list(), marker="o", markersize=3, label=label)
        ax.axvline(0, color="#c0392b", linewidth=1)
        ax.axvspan(-6, -3, color="#f1c40f", alpha=0.15, label="3-6 months before default")
        ax.set_xlabel("months relative to the default month")
        ax.set_title("Signals of defaulters around default")
        ax.legend(fontsize=7)
        paths.append(_save(fig, out / "signals_before_default.png"))
    mix = frames["mix"].sort("share", descending=True)
    fig, ax = _figure(6, 3.5)
    ax.barh(mix["industry_group"].to_list(), (100 * mix["share"]).to_list(), color="#8e44ad")
    ax.invert_yaxis()
    ax.set_xlabel("share of enterprises (%)")
    ax.set_title("Industry mix")
    paths.append(_save(fig, out / "industry_mix.png"))
    return paths


def write_report(market_dir: Path | str, out_dir: Path | str | None = None) -> CalibrationReport:
    """Measure every calibration target and write ``calibration.md`` plus charts."""
    market_dir = Path(market_dir)
    manifest = store.read_manifest(market_dir)
    out = Path(out_dir) if out_dir is not None else market_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    targets, frames = measure(market_dir)
    charts = _charts(frames, out)
    p = manifest["parameters"]
    lines = [
        "# Calibration report of a synthetic market",
        "",
        f"- enterprises: {p['enterprises']:,}; months: {p['months']} from {p['start']}; "
        f"seed {p['seed']}; profile **{p['profile']}**",
        f"- content hash: `{manifest['content_hash']}`",
        "- targets and their sources: `docs/sources.md` of the Puhui repository",
        "",
        "| measure | generated | target range | inside | source |",
        "| --- | --- | --- | --- | --- |",
    ]
    for t in targets:
        inside = ("yes" if t.inside else "**NO**") if t.checked else "(info)"
        rng = f"{_fmt(t, t.low)} - {_fmt(t, t.high)}" if t.checked else ""
        lines.append(f"| {t.label} | {_fmt(t, t.value)} | {rng} | {inside} | {t.source} |")
    outside = [t for t in targets if t.checked and not t.inside]
    lines += [
        "",
        "All checked targets are inside their ranges."
        if not outside
        else f"{len(outside)} target(s) outside: " + ", ".join(t.key for t in outside),
        "",
        "The oracle AUC ranks firms by their true 12-month default probability (pooled every "
        "six months over performing firms with a full outcome window): no model trained on "
        "the public tables can beat it.",
        "",
        "## Annual default rates",
        "",
        "| year | performing at start | defaults |",
        "| --- | --- | --- |",
    ]
    for row in frames["default_rates"].iter_rows(named=True):
        lines.append(f"| {row['year']} | {row['performing']:,} | {row['defaults']:,} |")
    lines += ["", "## Charts", ""]
    lines += [f"![{c.stem}]({c.name})" for c in charts]
    path = out / "calibration.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return CalibrationReport(path, tuple(charts), tuple(targets))
