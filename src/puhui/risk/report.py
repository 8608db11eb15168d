"""Validation report of a PD model: Markdown with ROC, KS, calibration and distribution PNGs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.domain.errors import InvalidInput
from puhui.lazy import lazy_module
from puhui.risk.metrics import auc, calibration_by_decile, evaluate, ks_curve, psi, roc_curve

if TYPE_CHECKING:
    import matplotlib.figure as mpl_figure
    from matplotlib.figure import Figure
else:
    mpl_figure = lazy_module("matplotlib.figure")

FloatArray = npt.NDArray[np.float64]
# Usual reading of a PSI: below 0.1 stable, up to 0.25 worth watching, above that shifted.
PSI_STABLE = 0.1
PSI_SHIFTED = 0.25


@dataclass(frozen=True, slots=True)
class PeriodResult:
    """Out-of-time view: one origination period of the validation sample."""

    period: str
    n: int
    n_bad: int
    auc: float | None
    expected_bad_rate: float
    observed_bad_rate: float
    psi: float | None


def psi_verdict(value: float) -> str:
    return "stable" if value < PSI_STABLE else "watch" if value < PSI_SHIFTED else "shifted"


def period_results(
    y: npt.ArrayLike,
    pd: npt.ArrayLike,
    periods: Sequence[str],
    *,
    reference_pd: npt.ArrayLike | None = None,
) -> list[PeriodResult]:
    """Discrimination, calibration and PSI (against ``reference_pd``) period by period."""
    y_arr = np.asarray(y, dtype=np.float64)
    pd_arr = np.asarray(pd, dtype=np.float64)
    labels = np.asarray(list(periods), dtype=object)
    if labels.size != y_arr.size:
        raise InvalidInput("periods must give one label per row")
    reference = None if reference_pd is None else np.asarray(reference_pd, dtype=np.float64)
    results: list[PeriodResult] = []
    for label in sorted(set(labels.tolist())):
        rows = labels == label
        y_part, pd_part = y_arr[rows], pd_arr[rows]
        both = 0 < y_part.sum() < y_part.size
        results.append(
            PeriodResult(
                period=str(label),
                n=int(rows.sum()),
                n_bad=int(y_part.sum()),
                auc=auc(y_part, pd_part) if both else None,
                expected_bad_rate=float(pd_part.mean()),
                observed_bad_rate=float(y_part.mean()),
                psi=None if reference is None else psi(reference, pd_part),
            )
        )
    return results


def feature_psi(development: pl.DataFrame, validation: pl.DataFrame) -> dict[str, float]:
    """PSI of every numeric column the two samples share (missing values left out)."""
    result: dict[str, float] = {}
    for name, dtype in development.schema.items():
        if name not in validation.columns or not dtype.is_numeric():
            continue
        base = development.get_column(name).cast(pl.Float64).drop_nulls().drop_nans()
        current = validation.get_column(name).cast(pl.Float64).drop_nulls().drop_nans()
        if base.len() == 0 or current.len() == 0:
            continue
        result[name] = psi(base.to_numpy(), current.to_numpy())
    return result


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
    periods: Sequence[str] | None = None,
    features_psi: Mapping[str, float] | None = None,
    oracle_auc: float | None = None,
    notes: Sequence[str] = (),
) -> Path:
    """Write ``report.md`` and its four charts.

    Optional sections: PSI of the PD against the development window (``development_pd``),
    out-of-time results by origination period (``periods``, one label per row), the PSI of
    each characteristic (``features_psi``) and, on a synthetic market, the oracle AUC.
    """
    directory.mkdir(parents=True, exist_ok=True)
    y_arr = np.asarray(y, dtype=np.float64)
    pd_arr = np.asarray(pd, dtype=np.float64)
    metrics = evaluate(y_arr, pd_arr)
    buckets = calibration_by_decile(y_arr, pd_arr)

    figure = mpl_figure.Figure(figsize=(5, 5))
    axes = figure.subplots()
    fpr, tpr = roc_curve(y_arr, pd_arr)
    axes.plot(fpr, tpr, label=f"AUC {metrics.auc:.3f}")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey")
    axes.set(xlabel="false positive rate (goods)", ylabel="true positive rate (bads)", title="ROC")
    axes.legend(loc="lower right")
    roc_png = _save(figure, directory / "roc.png")

    figure = mpl_figure.Figure(figsize=(6, 4))
    axes = figure.subplots()
    share, cum_bad, cum_good = ks_curve(y_arr, pd_arr)
    axes.plot(share, cum_bad, label="bads")
    axes.plot(share, cum_good, label="goods")
    axes.set(xlabel="population share (riskiest first)", ylabel="cumulative share")
    axes.set_title(f"KS {metrics.ks:.3f}")
    axes.legend()
    ks_png = _save(figure, directory / "ks.png")

    figure = mpl_figure.Figure(figsize=(5, 5))
    axes = figure.subplots()
    expected = [b.expected_bad_rate for b in buckets]
    observed = [b.observed_bad_rate for b in buckets]
    axes.plot(expected, observed, marker="o")
    top = max([*expected, *observed, 1e-6])
    axes.plot([0, top], [0, top], linestyle="--", color="grey")
    axes.set(xlabel="expected bad rate (mean PD)", ylabel="observed bad rate", title="Calibration")
    calibration_png = _save(figure, directory / "calibration.png")

    figure = mpl_figure.Figure(figsize=(6, 4))
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
    if oracle_auc is not None:
        lines += [
            f"Oracle AUC (true PD on the same population): **{oracle_auc:.4f}**; "
            f"gap {oracle_auc - metrics.auc:+.4f}.",
            "",
        ]
    lines += [*notes, ""] if notes else []
    lines += _stability_lines(y_arr, pd_arr, development_pd, periods, features_psi)
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


def _stability_lines(
    y_arr: FloatArray,
    pd_arr: FloatArray,
    development_pd: npt.ArrayLike | None,
    periods: Sequence[str] | None,
    features_psi: Mapping[str, float] | None,
) -> list[str]:
    lines: list[str] = []
    if development_pd is not None:
        stability = psi(np.asarray(development_pd, dtype=np.float64), pd_arr)
        lines += [
            "## Stability against the development window",
            "",
            f"PSI of the predicted PD: **{stability:.4f}** ({psi_verdict(stability)})",
            "",
        ]
    if periods is not None:
        lines += [
            "## Out-of-time results by origination period",
            "",
            "| period | n | bads | AUC | expected | observed | PSI vs development |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in period_results(y_arr, pd_arr, periods, reference_pd=development_pd):
            area = "n/a" if r.auc is None else f"{r.auc:.4f}"
            drift = "n/a" if r.psi is None else f"{r.psi:.4f}"
            lines.append(
                f"| {r.period} | {r.n:,} | {r.n_bad:,} | {area} | {r.expected_bad_rate:.4%} "
                f"| {r.observed_bad_rate:.4%} | {drift} |"
            )
        lines += ["", "AUC is shown only where the period has both goods and bads.", ""]
    if features_psi:
        ranked = sorted(features_psi.items(), key=lambda item: -item[1])
        lines += [
            "## Characteristic stability (PSI, development against validation)",
            "",
            "| characteristic | PSI | reading |",
            "| --- | ---: | --- |",
        ]
        lines += [f"| {name} | {value:.4f} | {psi_verdict(value)} |" for name, value in ranked]
        lines.append("")
    return lines


def origination_quarters(frame: pl.DataFrame, column: str = "origination_month") -> list[str]:
    """``YYYY-Qn`` of each row's origination month: the out-of-time periods of a sample."""
    quarters = frame.select(
        pl.format(
            "{}-Q{}", pl.col(column).dt.year(), (pl.col(column).dt.month() - 1) // 3 + 1
        ).alias("quarter")
    )
    return [str(value) for value in quarters.get_column("quarter").to_list()]


def write_market_validation_report(
    directory: Path,
    *,
    title: str,
    development: pl.DataFrame,
    development_pd: npt.ArrayLike,
    validation: pl.DataFrame,
    validation_pd: npt.ArrayLike,
    features: Sequence[str],
    target: str = "bad",
    oracle_auc: float | None = None,
) -> Path:
    """The validation report of a market model: development against validation window.

    ``development`` and ``validation`` are labelled samples (``origination_month``, the target
    and the model's ``features``); the PSI sections compare the two windows and the
    out-of-time table splits the validation window by origination quarter.
    """

    def window(frame: pl.DataFrame) -> str:
        months = frame.get_column("origination_month")
        return f"{months.min()!s:.7}..{months.max()!s:.7} ({frame.height:,} loans)"

    notes = [
        f"Development window: {window(development)}; validation window: {window(validation)}.",
    ]
    shared = [name for name in features if name in development.columns]
    return write_validation_report(
        directory,
        validation.get_column(target).cast(pl.Float64).to_numpy(),
        validation_pd,
        title=title,
        development_pd=development_pd,
        periods=origination_quarters(validation),
        features_psi=feature_psi(development.select(shared), validation.select(shared)),
        oracle_auc=oracle_auc,
        notes=notes,
    )
