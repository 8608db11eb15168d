"""Validation report of a PD model: Markdown with ROC, KS, calibration and distribution PNGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from matplotlib.figure import Figure

from puhui.risk.metrics import calibration_by_decile, evaluate, ks_curve, psi, roc_curve

FloatArray = npt.NDArray[np.float64]


def _save(figure: Figure, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path.name


def write_validation_report(
    directory: Path,
    y: npt.ArrayLike,
    pd: npt.ArrayLike,
    *,
    title: str,
    development_pd: npt.ArrayLike | None = None,
) -> Path:
    """Write ``report.md`` and its four charts; PSI against the development PDs when given."""
    directory.mkdir(parents=True, exist_ok=True)
    y_arr = np.asarray(y, dtype=np.float64)
    pd_arr = np.asarray(pd, dtype=np.float64)
    metrics = evaluate(y_arr, pd_arr)
    buckets = calibration_by_decile(y_arr, pd_arr)

    figure = Figure(figsize=(5, 5))
    axes = figure.subplots()
    fpr, tpr = roc_curve(y_arr, pd_arr)
    axes.plot(fpr, tpr, label=f"AUC {metrics.auc:.3f}")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey")
    axes.set(xlabel="false positive rate (goods)", ylabel="true positive rate (bads)", title="ROC")
    axes.legend(loc="lower right")
    roc_png = _save(figure, directory / "roc.png")

    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    share, cum_bad, cum_good = ks_curve(y_arr, pd_arr)
    axes.plot(share, cum_bad, label="bads")
    axes.plot(share, cum_good, label="goods")
    axes.set(xlabel="population share (riskiest first)", ylabel="cumulative share")
    axes.set_title(f"KS {metrics.ks:.3f}")
    axes.legend()
    ks_png = _save(figure, directory / "ks.png")

    figure = Figure(figsize=(5, 5))
    axes = figure.subplots()
    expected = [b.expected_bad_rate for b in buckets]
    observed = [b.observed_bad_rate for b in buckets]
    axes.plot(expected, observed, marker="o")
    top = max([*expected, *observed, 1e-6])
    axes.plot([0, top], [0, top], linestyle="--", color="grey")
    axes.set(xlabel="expected bad rate (mean PD)", ylabel="observed bad rate", title="Calibration")
    calibration_png = _save(figure, directory / "calibration.png")

    figure = Figure(figsize=(6, 4))
    axes = figure.subplots()
    bins = np.linspace(0.0, max(float(pd_arr.max()), 1e-6), 40).tolist()
    axes.hist(pd_arr[y_arr == 0], bins=bins, alpha=0.6, density=True, label="goods")
    axes.hist(pd_arr[y_arr == 1], bins=bins, alpha=0.6, density=True, label="bads")
    axes.set(xlabel="predicted PD", ylabel="density", title="Score distribution")
    axes.legend()
    distribution_png = _save(figure, directory / "distribution.png")

    lines = [
        f"# Validation report: {title}",
        "",
        "| n | bads | AUC | Gini | KS | Brier |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {metrics.n:,} | {int(y_arr.sum()):,} | {metrics.auc:.4f} | {metrics.gini:.4f} "
        f"| {metrics.ks:.4f} | {metrics.brier:.5f} |",
        "",
    ]
    if development_pd is not None:
        stability = psi(np.asarray(development_pd, dtype=np.float64), pd_arr)
        verdict = "stable" if stability < 0.1 else "watch" if stability < 0.25 else "shifted"
        lines += [f"PSI against development: **{stability:.4f}** ({verdict})", ""]
    lines += [
        "## Calibration by decile of predicted PD",
        "",
        "| decile | n | bads | expected | observed | relative error |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for b in buckets:
        lines.append(
            f"| {b.bucket} | {b.n:,} | {b.n_bad:,} | {b.expected_bad_rate:.4%} "
            f"| {b.observed_bad_rate:.4%} | {b.relative_error:.1%} |"
        )
    lines += [
        "",
        "Relative error is judged only in deciles with at least 100 bads.",
        "",
        f"![ROC]({roc_png}) ![KS]({ks_png})",
        "",
        f"![Calibration]({calibration_png}) ![Distribution]({distribution_png})",
        "",
    ]
    path = directory / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
