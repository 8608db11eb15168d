"""Monitoring report of a model: Markdown with score PSI, characteristic, vintage PNG charts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from puhui.lazy import lazy_module
from puhui.risk.monitoring import (
    CharacteristicShift,
    MonitoringResult,
    MonitoringThresholds,
    psi_reading,
)

if TYPE_CHECKING:
    import matplotlib.figure as mpl_figure
    from matplotlib.figure import Figure
else:
    mpl_figure = lazy_module("matplotlib.figure")

# The characteristic table lists its bins only for the inputs that moved most.
DETAILED_INPUTS = 5


def _save(figure: Figure, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path.name


def _number(value: float | None, spec: str = ".4f") -> str:
    return "n/a" if value is None else format(value, spec)


def _score_psi_chart(result: MonitoringResult, t: MonitoringThresholds, path: Path) -> str:
    figure = mpl_figure.Figure(figsize=(7, 4))
    axes = figure.subplots()
    months = [m.month for m in result.score_by_month]
    values = [m.psi or 0.0 for m in result.score_by_month]
    axes.bar(months, values, color="#4c72b0")
    axes.axhline(t.score_psi_warn, linestyle="--", color="orange", label="watch")
    axes.axhline(t.score_psi_alert, linestyle="--", color="red", label="shifted")
    axes.set(xlabel="decision month", ylabel="PSI of the score", title="Score stability")
    axes.tick_params(axis="x", labelrotation=45)
    axes.legend()
    return _save(figure, path)


def _distribution_chart(score: CharacteristicShift, path: Path) -> str:
    figure = mpl_figure.Figure(figsize=(7, 4))
    axes = figure.subplots()
    shown = [b for b in score.bins if b.development_share or b.actual_share]
    positions = list(range(len(shown)))
    axes.bar([p - 0.2 for p in positions], [b.development_share for b in shown], 0.4,
             label="development")  # fmt: skip
    axes.bar([p + 0.2 for p in positions], [b.actual_share for b in shown], 0.4, label="window")
    axes.set_xticks(positions, [b.label for b in shown], rotation=45, ha="right", fontsize=7)
    axes.set(ylabel="share", title=f"Score distribution (PSI {score.psi:.3f})")
    axes.legend()
    return _save(figure, path)


def _vintage_chart(result: MonitoringResult, t: MonitoringThresholds, path: Path) -> str:
    figure = mpl_figure.Figure(figsize=(7, 4))
    axes = figure.subplots()
    for v in result.vintages:
        months = range(1, len(v.bad_rate_by_month) + 1)
        axes.plot(list(months), list(v.bad_rate_by_month), label=v.booking_month)
    axes.axvline(t.horizon_months, linestyle=":", color="grey")
    axes.set(xlabel="months on book", ylabel="cumulative bad rate (90+ DPD)", title="Vintages")
    if 0 < len(result.vintages) <= 12:
        axes.legend(fontsize=7)
    return _save(figure, path)


def _calibration_chart(result: MonitoringResult, path: Path) -> str:
    figure = mpl_figure.Figure(figsize=(7, 4))
    axes = figure.subplots()
    months = [v.booking_month for v in result.vintages]
    axes.plot(months, [v.mean_pd for v in result.vintages], marker="o", label="predicted (mean PD)")
    realised = [v.realised_bad_rate for v in result.vintages]
    axes.plot(
        months,
        [float("nan") if r is None else r for r in realised],
        marker="s",
        label="realised at horizon",
    )
    axes.set(xlabel="booking month", ylabel="bad rate", title="Predicted against realised")
    axes.tick_params(axis="x", labelrotation=45)
    axes.legend()
    return _save(figure, path)


def _characteristic_lines(result: MonitoringResult, t: MonitoringThresholds) -> list[str]:
    if not result.characteristics:
        return []
    lines = [
        "## Characteristic analysis",
        "",
        "Shift: the change of the mean score (scorecard points) or of the mean log-odds "
        "contribution (gradient boosting) that the input's move alone explains.",
        "",
        "| input | PSI | reading | shift | unit |",
        "| --- | ---: | --- | ---: | --- |",
    ]
    for c in result.characteristics:
        reading = psi_reading(c.psi, watch=t.score_psi_warn, shifted=t.input_psi_alert)
        lines.append(
            f"| {c.name} | {c.psi:.4f} | {reading} | {_number(c.shift, '+.3f')} | {c.unit} |"
        )
    for c in result.characteristics[:DETAILED_INPUTS]:
        lines += [
            "",
            f"### {c.name} (PSI {c.psi:.4f})",
            "",
            "| bin | development | window | weight | shift |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {b.label} | {b.development_share:.2%} | {b.actual_share:.2%} "
            f"| {_number(b.weight, '.3f')} | {_number(b.shift, '+.3f')} |"
            for b in c.bins
            if b.development_share or b.actual_share
        ]
    return [*lines, ""]


def _outcome_lines(result: MonitoringResult) -> list[str]:
    lines: list[str] = []
    if result.vintages:
        lines += [
            "## Vintages",
            "",
            "| booked | loans | mean PD | months observed | bad rate to date "
            "| realised at horizon | realised / predicted |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for v in result.vintages:
            to_date = v.bad_rate_by_month[-1] if v.bad_rate_by_month else 0.0
            lines.append(
                f"| {v.booking_month} | {v.n:,} | {v.mean_pd:.2%} | {v.months_observed} "
                f"| {to_date:.2%} | {_number(v.realised_bad_rate, '.2%')} "
                f"| {_number(v.ratio, '.2f')} |"
            )
        lines.append("")
    p = result.performance
    if p is not None:
        lines += [
            f"## Rank-ordering on matured loans ({p.horizon_months}-month horizon)",
            "",
            "| matured loans | bad | AUC | KS | development AUC | development KS | AUC drop |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| {p.n:,} | {p.n_bad:,} | {_number(p.auc)} | {_number(p.ks)} "
            f"| {_number(p.development_auc)} | {_number(p.development_ks)} "
            f"| {_number(p.auc_drop, '+.4f')} |",
            "",
        ]
    return lines


def write_monitoring_report(
    directory: Path, result: MonitoringResult, thresholds: MonitoringThresholds | None = None
) -> Path:
    """Write ``report.md`` and its charts (only the charts the data allows) into ``directory``."""
    t = thresholds or MonitoringThresholds()
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        f"# Monitoring report: model {result.model_version}",
        "",
        f"Decision months {result.first_month}..{result.last_month}: "
        f"{result.n_applications:,} scored applications.",
        "",
    ]
    lines += [f"> {note}" for note in result.notes]
    lines += [""] if result.notes else []
    lines += ["## Alerts", ""]
    if result.alerts:
        lines += ["| code | severity | subject | value | threshold | message |",
                  "| --- | --- | --- | ---: | ---: | --- |"]  # fmt: skip
        lines += [
            f"| {a.code.value} | {a.severity.value} | {a.subject} | {a.value:.4f} "
            f"| {a.threshold:.4f} | {a.message} |"
            for a in result.alerts
        ]
    else:
        lines.append("None: every measured figure is within its threshold.")
    lines.append("")
    if result.score is not None:
        score_png = _score_psi_chart(result, t, directory / "score_psi.png")
        distribution_png = _distribution_chart(result.score, directory / "score_distribution.png")
        lines += [
            "## Score stability against development",
            "",
            f"PSI of the score over the window: **{result.score.psi:.4f}** "
            f"({psi_reading(result.score.psi, watch=t.score_psi_warn, shifted=t.score_psi_alert)})"
            f"; development mean PD {_number(result.reference_mean_pd, '.2%')}.",
            "",
            "| month | applications | mean score | mean PD | PSI |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {m.month} | {m.n:,} | {m.mean_score:.1f} | {m.mean_pd:.2%} | {_number(m.psi)} |"
            for m in result.score_by_month
        ]
        lines += ["", f"![Score PSI]({score_png}) ![Score distribution]({distribution_png})", ""]
    lines += _characteristic_lines(result, t)
    if result.decision_rates:
        lines += [
            "## Decisions by month",
            "",
            "| month | applications | approved | referred | declined |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {r.month} | {r.n:,} | {r.approval_rate:.1%} | {r.referral_rate:.1%} "
            f"| {r.decline_rate:.1%} |"
            for r in result.decision_rates
        ]
        lines.append("")
    lines += _outcome_lines(result)
    if result.vintages:
        vintage_png = _vintage_chart(result, t, directory / "vintages.png")
        calibration_png = _calibration_chart(result, directory / "predicted_vs_realised.png")
        lines += [
            f"![Vintages]({vintage_png}) ![Predicted against realised]({calibration_png})",
            "",
        ]
    path = directory / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
