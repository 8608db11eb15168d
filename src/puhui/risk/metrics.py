"""Discrimination, calibration and stability metrics of a probability of default."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from puhui.lazy import lazy_module
from puhui.risk.errors import InvalidTrainingData

if TYPE_CHECKING:
    import scipy.stats as scipy_stats
else:
    scipy_stats = lazy_module("scipy.stats")

FloatArray = npt.NDArray[np.float64]
# An empty PSI bucket would make the log infinite; a tiny share keeps the index finite.
PSI_FLOOR_SHARE = 1e-4


def _check(y: npt.ArrayLike, pd: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    y_arr = np.asarray(y, dtype=np.float64)
    pd_arr = np.asarray(pd, dtype=np.float64)
    if y_arr.shape != pd_arr.shape or y_arr.ndim != 1:
        raise InvalidTrainingData("outcomes and predictions must be 1-D arrays of one length")
    if y_arr.size == 0:
        raise InvalidTrainingData("no rows to evaluate")
    if not np.isin(y_arr, (0.0, 1.0)).all():
        raise InvalidTrainingData("outcomes must be 0 (good) or 1 (bad)")
    return y_arr, pd_arr


def auc(y: npt.ArrayLike, pd: npt.ArrayLike) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); NaN with one class."""
    y_arr, pd_arr = _check(y, pd)
    n_bad = float(y_arr.sum())
    n_good = float(y_arr.size - n_bad)
    if n_bad == 0 or n_good == 0:
        return float("nan")
    ranks = scipy_stats.rankdata(pd_arr)
    return float((ranks[y_arr == 1].sum() - n_bad * (n_bad + 1) / 2) / (n_bad * n_good))


def gini(y: npt.ArrayLike, pd: npt.ArrayLike) -> float:
    return 2.0 * auc(y, pd) - 1.0


def ks(y: npt.ArrayLike, pd: npt.ArrayLike) -> float:
    """Kolmogorov-Smirnov: largest gap between the cumulative bad and good shares."""
    y_arr, pd_arr = _check(y, pd)
    n_bad = y_arr.sum()
    n_good = y_arr.size - n_bad
    if n_bad == 0 or n_good == 0:
        return float("nan")
    order = np.argsort(-pd_arr, kind="mergesort")
    sorted_pd, sorted_y = pd_arr[order], y_arr[order]
    # Only compare at the end of a run of equal scores: a cut cannot split tied applicants.
    last_of_tie = np.r_[sorted_pd[1:] != sorted_pd[:-1], True]
    cum_bad = np.cumsum(sorted_y)[last_of_tie] / n_bad
    cum_good = np.cumsum(1.0 - sorted_y)[last_of_tie] / n_good
    return float(np.max(np.abs(cum_bad - cum_good)))


def ks_curve(y: npt.ArrayLike, pd: npt.ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Population share, cumulative bad share and cumulative good share (riskiest first)."""
    y_arr, pd_arr = _check(y, pd)
    order = np.argsort(-pd_arr, kind="mergesort")
    sorted_y = y_arr[order]
    share = np.arange(1, y_arr.size + 1) / y_arr.size
    cum_bad = np.cumsum(sorted_y) / max(sorted_y.sum(), 1.0)
    cum_good = np.cumsum(1.0 - sorted_y) / max((1.0 - sorted_y).sum(), 1.0)
    return share, cum_bad, cum_good


def roc_curve(y: npt.ArrayLike, pd: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """False-positive and true-positive rates at every distinct cut."""
    _, cum_bad, cum_good = ks_curve(y, pd)
    return np.r_[0.0, cum_good], np.r_[0.0, cum_bad]


def brier(y: npt.ArrayLike, pd: npt.ArrayLike) -> float:
    y_arr, pd_arr = _check(y, pd)
    return float(np.mean((pd_arr - y_arr) ** 2))


@dataclass(frozen=True)
class CalibrationBucket:
    bucket: int
    n: int
    n_bad: int
    expected_bad_rate: float
    observed_bad_rate: float

    @property
    def relative_error(self) -> float:
        """|expected - observed| / observed (NaN where nothing was observed)."""
        if self.observed_bad_rate == 0:
            return float("nan")
        return abs(self.expected_bad_rate - self.observed_bad_rate) / self.observed_bad_rate


def calibration_by_decile(
    y: npt.ArrayLike, pd: npt.ArrayLike, *, n_buckets: int = 10
) -> list[CalibrationBucket]:
    """Expected (mean PD) against observed bad rate in equal-count buckets of predicted PD."""
    y_arr, pd_arr = _check(y, pd)
    order = np.argsort(pd_arr, kind="mergesort")
    buckets: list[CalibrationBucket] = []
    for number, part in enumerate(np.array_split(order, n_buckets), start=1):
        if part.size == 0:
            continue
        buckets.append(
            CalibrationBucket(
                bucket=number,
                n=int(part.size),
                n_bad=int(y_arr[part].sum()),
                expected_bad_rate=float(pd_arr[part].mean()),
                observed_bad_rate=float(y_arr[part].mean()),
            )
        )
    return buckets


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike, *, n_buckets: int = 10) -> float:
    """Population stability index of ``actual`` against the deciles of ``expected``."""
    base = np.asarray(expected, dtype=np.float64)
    current = np.asarray(actual, dtype=np.float64)
    base, current = base[~np.isnan(base)], current[~np.isnan(current)]
    if base.size == 0 or current.size == 0:
        raise InvalidTrainingData("PSI needs values in both populations")
    edges = np.unique(np.quantile(base, np.linspace(0, 1, n_buckets + 1)[1:-1]))
    base_share = np.bincount(np.searchsorted(edges, base, side="right"), minlength=edges.size + 1)
    current_share = np.bincount(
        np.searchsorted(edges, current, side="right"), minlength=edges.size + 1
    )
    p = np.maximum(base_share / base.size, PSI_FLOOR_SHARE)
    q = np.maximum(current_share / current.size, PSI_FLOOR_SHARE)
    return float(np.sum((q - p) * np.log(q / p)))


@dataclass(frozen=True)
class Metrics:
    auc: float
    ks: float
    gini: float
    brier: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate(y: npt.ArrayLike, pd: npt.ArrayLike) -> Metrics:
    y_arr, pd_arr = _check(y, pd)
    area = auc(y_arr, pd_arr)
    return Metrics(
        auc=area,
        ks=ks(y_arr, pd_arr),
        gini=2.0 * area - 1.0,
        brier=brier(y_arr, pd_arr),
        n=int(y_arr.size),
    )
