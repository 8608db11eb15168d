"""Online and batch scoring with one interface for both model kinds: PD, score, grade, reasons."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from operator import sub
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.codegen import compile_function, literal
from puhui.risk.dataset import FeatureKind
from puhui.risk.errors import InvalidApplicantData
from puhui.risk.gbm import GbmModel
from puhui.risk.reasons import FeatureLabel, Reason, reason_code, reason_template
from puhui.risk.scorecard import ScorecardConfig, ScorecardModel
from puhui.risk.trees import compile_row_function, row_kernel

FloatArray = npt.NDArray[np.float64]

# Master scale: upper PD bound of each grade (the last grade takes everything above).
__all__ = [
    "MASTER_SCALE",
    "Assessment",
    "FeatureLabel",
    "GbmScorer",
    "OnlineScorer",
    "Reason",
    "ScorecardScorer",
    "grade_of",
    "reason_code",
    "scorer_for",
]

MASTER_SCALE: tuple[tuple[str, float], ...] = (
    ("A", 0.005),
    ("B", 0.01),
    ("C", 0.02),
    ("D", 0.04),
    ("E", 0.08),
    ("F", 0.15),
    ("G", 0.30),
    ("H", 1.0),
)
_GRADE_BOUNDS = tuple(bound for _, bound in MASTER_SCALE[:-1])
_GRADE_NAMES = tuple(name for name, _ in MASTER_SCALE)
MAX_REASONS = 4
# A characteristic that lost less than this is not a reason (rounding noise, not evidence).
MIN_REASON_IMPACT = 1e-6
# PD is clipped away from 0 and 1 before turning it into a score (log-odds must be finite).
PD_CLIP = 1e-12


def grade_of(pd: float) -> str:
    return _GRADE_NAMES[bisect_left(_GRADE_BOUNDS, pd)]


class Assessment(NamedTuple):
    pd: float
    score: float
    grade: str
    reasons: tuple[Reason, ...]


class OnlineScorer(Protocol):
    """What every model kind offers the decision engine."""

    feature_names: tuple[str, ...]

    def assess(self, features: Mapping[str, Any], *, with_reasons: bool = True) -> Assessment:
        """Score one applicant from a mapping of feature name to value (None = missing)."""
        ...

    def matrix(self, frame: pl.DataFrame) -> FloatArray:
        """The batch input: one float column per feature, NaN for missing."""
        ...

    def predict_pd(self, x: FloatArray) -> FloatArray:
        """PD of every row of a matrix built by :meth:`matrix`."""
        ...

    def assess_frame(self, frame: pl.DataFrame, *, n_reasons: int = 3) -> pl.DataFrame:
        """PD, score, grade and the first reason codes of every row."""
        ...


def _score_from_pd(pd: FloatArray, scaling: ScorecardConfig) -> FloatArray:
    clipped = np.clip(pd, PD_CLIP, 1.0 - PD_CLIP)
    return scaling.offset - scaling.factor * np.log(clipped / (1.0 - clipped))


def _grades(pd: FloatArray) -> list[str]:
    index = np.searchsorted(np.asarray(_GRADE_BOUNDS), pd, side="left")
    return [_GRADE_NAMES[i] for i in index.tolist()]


def _reason_columns(
    impact: FloatArray, names: Sequence[str], n_reasons: int
) -> dict[str, list[str | None]]:
    """The reason codes of the ``n_reasons`` largest positive impacts of every row."""
    order = np.argsort(-impact, axis=1, kind="stable")[:, :n_reasons]
    top = np.take_along_axis(impact, order, axis=1)
    codes = np.asarray([reason_code(n) for n in names], dtype=object)
    columns: dict[str, list[str | None]] = {}
    for k in range(order.shape[1]):
        values = np.where(top[:, k] > MIN_REASON_IMPACT, codes[order[:, k]], np.asarray(None))
        columns[f"reason_{k + 1}"] = values.tolist()
    return columns


# --- scorecard -------------------------------------------------------------------------------


def _text_key(value: Any) -> Any:
    return value if value is None or isinstance(value, str) else str(value)


class ScorecardScorer:
    """Scorecard scoring: generated if/elif code per characteristic for one row, a bin search
    over padded edge arrays for batch (Numba when installed)."""

    def __init__(
        self, model: ScorecardModel, labels: Mapping[str, FeatureLabel] | None = None
    ) -> None:
        self.model = model
        self.feature_names = model.feature_names
        self._offset = model.config.offset
        self._factor = model.config.factor
        chars = model.characteristics
        self._best = tuple(c.best_points for c in chars)
        self._index = tuple(range(len(chars)))
        self._templates = tuple(reason_template(c.name, labels or {}) for c in chars)
        self._points = self._compile()
        self._plan = self._batch_plan()

    def _made_reasons(self, j: int, impact: float) -> Reason:
        code, zh, en = self._templates[j]
        # tuple.__new__ skips NamedTuple's Python-level constructor: this runs per applicant.
        return tuple.__new__(Reason, (code, self.feature_names[j], impact, zh, en))

    def _compile(self) -> Callable[[Mapping[str, Any]], tuple[float, ...]]:
        lines = ["def points(row):", "    g = row.get"]
        scope: dict[str, Any] = {"_text_key": _text_key}
        for j, c in enumerate(self.model.characteristics):
            missing, special = literal(c.points[-1]), literal(c.points[-2])
            lines.append(f"    v = g({literal(c.name)})")
            if c.kind is FeatureKind.CATEGORICAL:
                scope[f"C{j}"] = {cat: c.points[b] for cat, b in c.categories.items()}
                lines.append(
                    f"    p{j} = C{j}.get(v if v.__class__ is str else _text_key(v), {missing})"
                )
                continue
            lines.append(f"    if v is None or v != v: p{j} = {missing}")
            if c.special_codes:
                lines.append(f"    elif v in {literal(tuple(c.special_codes))}: p{j} = {special}")
            for edge, pts in zip(c.edges, c.points, strict=False):
                lines.append(f"    elif v < {literal(edge)}: p{j} = {literal(pts)}")
            lines.append(f"    else: p{j} = {literal(c.points[c.n_bins - 1])}")
        names = ", ".join(f"p{j}" for j in range(len(self.model.characteristics)))
        lines.append(f"    return ({names},)")
        function: Callable[[Mapping[str, Any]], tuple[float, ...]] = compile_function(
            "\n".join(lines) + "\n", "points", namespace=scope, label="scorecard"
        )
        return function

    def _batch_plan(self) -> dict[str, Any]:
        chars = self.model.characteristics
        width_edges = max([max(c.n_bins - 1, 1) for c in chars], default=1)
        width_special = max([max(len(c.special_codes), 1) for c in chars], default=1)
        width_points = max([c.n_bins + 2 for c in chars], default=2)
        edges = np.full((len(chars), width_edges), np.inf)
        specials = np.full((len(chars), width_special), np.nan)
        points = np.zeros((len(chars), width_points))
        n_edges = np.zeros(len(chars), dtype=np.int64)
        n_special = np.zeros(len(chars), dtype=np.int64)
        n_bins = np.zeros(len(chars), dtype=np.int64)
        for j, c in enumerate(chars):
            # A categorical column arrives as its bin number: bins are cut at the half-integers.
            cuts = (
                [b + 0.5 for b in range(c.n_bins - 1)]
                if c.kind is FeatureKind.CATEGORICAL
                else list(c.edges)
            )
            edges[j, : len(cuts)] = cuts
            n_edges[j] = len(cuts)
            specials[j, : len(c.special_codes)] = c.special_codes
            n_special[j] = len(c.special_codes)
            n_bins[j] = c.n_bins
            points[j, : c.n_bins + 2] = c.points
        return {
            "edges": edges,
            "n_edges": n_edges,
            "specials": specials,
            "n_special": n_special,
            "n_bins": n_bins,
            "points": points,
        }

    def assess(self, features: Mapping[str, Any], *, with_reasons: bool = True) -> Assessment:
        try:
            pts = self._points(features)
        except TypeError:
            raise InvalidApplicantData(
                "a numeric characteristic received a non-numeric value",
                details={"features": list(self.feature_names)},
            ) from None
        score = sum(pts)
        pd = 1.0 / (1.0 + math.exp((score - self._offset) / self._factor))
        grade = _GRADE_NAMES[bisect_left(_GRADE_BOUNDS, pd)]
        if not with_reasons:
            return Assessment(pd, score, grade, ())
        lost = list(map(sub, self._best, pts))
        top = sorted(self._index, key=lost.__getitem__, reverse=True)[:MAX_REASONS]
        made = self._made_reasons
        reasons = tuple(made(j, lost[j]) for j in top if lost[j] > MIN_REASON_IMPACT)
        return Assessment(pd, score, grade, reasons)

    def matrix(self, frame: pl.DataFrame) -> FloatArray:
        columns: list[FloatArray] = []
        for c in self.model.characteristics:
            column = frame.get_column(c.name)
            if c.kind is FeatureKind.CATEGORICAL:
                codes = {k: float(v) for k, v in c.categories.items()}
                column = column.cast(pl.String).replace_strict(
                    codes, default=None, return_dtype=pl.Float64
                )
            columns.append(column.cast(pl.Float64).fill_null(np.nan).to_numpy())
        if not columns:
            return np.zeros((frame.height, 0))
        return np.ascontiguousarray(np.column_stack(columns), dtype=np.float64)

    def total_points(self, x: FloatArray) -> FloatArray:
        plan = self._plan
        matrix = np.ascontiguousarray(x, dtype=np.float64)
        if _HAVE_NUMBA:
            result: FloatArray = _numba_points(
                matrix,
                plan["edges"],
                plan["n_edges"],
                plan["specials"],
                plan["n_special"],
                plan["n_bins"],
                plan["points"],
            )
            return result
        return _numpy_points(matrix, plan)

    def predict_pd(self, x: FloatArray) -> FloatArray:
        return self.model.pd_from_points(self.total_points(x))

    def assess_frame(self, frame: pl.DataFrame, *, n_reasons: int = 3) -> pl.DataFrame:
        x = self.matrix(frame)
        points = self.total_points(x)
        pd = self.model.pd_from_points(points)
        bins = self.model.bin_matrix(frame)
        per_char = np.column_stack(
            [np.asarray(c.points)[bins[:, j]] for j, c in enumerate(self.model.characteristics)]
        )
        lost = np.asarray(self._best)[None, :] - per_char
        return pl.DataFrame(
            {
                "pd": pd,
                "score": points,
                "grade": _grades(pd),
                **_reason_columns(lost, self.feature_names, n_reasons),
            },
            schema_overrides={f"reason_{k + 1}": pl.String for k in range(n_reasons)},
        )


def _numpy_points(x: FloatArray, plan: Mapping[str, Any]) -> FloatArray:
    total = np.zeros(x.shape[0])
    for j in range(x.shape[1]):
        values = x[:, j]
        edges = plan["edges"][j, : plan["n_edges"][j]]
        index = np.searchsorted(edges, values, side="right")
        specials = plan["specials"][j, : plan["n_special"][j]]
        if specials.size:
            index = np.where(np.isin(values, specials), plan["n_bins"][j], index)
        index = np.where(np.isnan(values), plan["n_bins"][j] + 1, index)
        total += plan["points"][j][index]
    return total


try:  # pragma: no cover - exercised when numba is installed
    import numba

    @numba.njit(parallel=True, cache=True, nogil=True)
    def _numba_points(  # noqa: PLR0917 - numba kernels take plain arrays
        x: FloatArray,
        edges: FloatArray,
        n_edges: npt.NDArray[np.int64],
        specials: FloatArray,
        n_special: npt.NDArray[np.int64],
        n_bins: npt.NDArray[np.int64],
        points: FloatArray,
    ) -> FloatArray:
        n, width = x.shape
        out = np.empty(n)
        for i in numba.prange(n):
            total = 0.0
            for j in range(width):
                value = x[i, j]
                if np.isnan(value):
                    b = n_bins[j] + 1
                else:
                    b = -1
                    for s in range(n_special[j]):
                        if value == specials[j, s]:
                            b = n_bins[j]
                    if b < 0:
                        lo, hi = 0, n_edges[j]
                        while lo < hi:  # bisect_right: bin i holds edges[i-1] <= x < edges[i]
                            mid = (lo + hi) >> 1
                            if value < edges[j, mid]:
                                hi = mid
                            else:
                                lo = mid + 1
                        b = lo
                total += points[j, b]
            out[i] = total
        return out

    _HAVE_NUMBA = True
except ImportError:  # pragma: no cover - depends on the environment
    _HAVE_NUMBA = False


# --- gradient boosting -----------------------------------------------------------------------


class GbmScorer:
    """GBM scoring: the trees compiled to one Python function for a single row, Numba (or NumPy)
    traversal for batch; reasons from LightGBM's SHAP contributions."""

    def __init__(
        self,
        model: GbmModel,
        labels: Mapping[str, FeatureLabel] | None = None,
        scaling: ScorecardConfig | None = None,
    ) -> None:
        self.model = model
        self.feature_names = model.feature_names
        self._scaling = scaling or ScorecardConfig()
        self._templates = tuple(reason_template(n, labels or {}) for n in self.feature_names)
        scope: dict[str, Any] = {}
        loaders: list[str] = []
        for j, spec in enumerate(model.specs):
            if spec.kind is FeatureKind.CATEGORICAL:
                scope[f"C{j}"] = model.category_codes[spec.name]
                loaders.append(f"C{j}.get(_text_key(g({literal(spec.name)})))")
            else:
                loaders.append(f"g({literal(spec.name)})")
        scope["_text_key"] = _text_key
        self._vector = _compile_vector_builder(loaders, scope)
        kernel = row_kernel(model.ensemble)
        if kernel is None:
            self._raw = compile_row_function(model.ensemble, loaders, scope)
        else:
            build = self._vector

            def raw(row: Mapping[str, Any]) -> float:
                return kernel(build(row))

            self._raw = raw
        self._calibrate = model.calibrator.apply_one
        calibrator = model.calibrator
        self._platt = (calibrator.a, calibrator.b) if calibrator.kind == "platt" else None
        self._offset = self._scaling.offset
        self._factor = self._scaling.factor

    def assess(self, features: Mapping[str, Any], *, with_reasons: bool = True) -> Assessment:
        try:
            raw = self._raw(features)
        except (TypeError, ValueError):
            raise InvalidApplicantData(
                "a numeric feature received a non-numeric value",
                details={"features": list(self.feature_names)},
            ) from None
        if self._platt is not None:
            log_odds = self._platt[0] * raw + self._platt[1]
            pd = 1.0 / (1.0 + math.exp(-log_odds))
        else:
            pd = self._calibrate(raw)
            clipped = min(max(pd, PD_CLIP), 1.0 - PD_CLIP)
            log_odds = math.log(clipped / (1.0 - clipped))
        score = self._offset - self._factor * log_odds
        grade = _GRADE_NAMES[bisect_left(_GRADE_BOUNDS, pd)]
        if not with_reasons:
            return Assessment(pd, score, grade, ())
        return Assessment(pd, score, grade, self._reasons(features))

    def _reasons(self, features: Mapping[str, Any]) -> tuple[Reason, ...]:
        contrib = self.model.contributions(self._vector(features).reshape(1, -1))[0]
        order = np.argsort(-contrib, kind="stable")[:MAX_REASONS]
        return tuple(
            Reason(
                self._templates[j][0],
                self.feature_names[j],
                float(contrib[j]),
                self._templates[j][1],
                self._templates[j][2],
            )
            for j in order.tolist()
            if contrib[j] > MIN_REASON_IMPACT
        )

    def matrix(self, frame: pl.DataFrame) -> FloatArray:
        return self.model.matrix(frame)

    def predict_pd(self, x: FloatArray) -> FloatArray:
        return self.model.predict_pd(x)

    def assess_frame(self, frame: pl.DataFrame, *, n_reasons: int = 3) -> pl.DataFrame:
        x = self.matrix(frame)
        pd = self.predict_pd(x)
        score = _score_from_pd(pd, self._scaling)
        return pl.DataFrame(
            {
                "pd": pd,
                "score": score,
                "grade": _grades(pd),
                **_reason_columns(self.model.contributions(x), self.feature_names, n_reasons),
            },
            schema_overrides={f"reason_{k + 1}": pl.String for k in range(n_reasons)},
        )


def _compile_vector_builder(
    loaders: Sequence[str], scope: Mapping[str, Any]
) -> Callable[[Mapping[str, Any]], FloatArray]:
    """Generated ``vector(row)``: the features in model order as floats, NaN for missing."""
    values = ", ".join(f"_nan_if_none({loader})" for loader in loaders)
    source = f"def vector(row):\n    g = row.get\n    return _array(({values},), _float64)\n"
    namespace: dict[str, Any] = {
        **scope,
        "_nan_if_none": _nan_if_none,
        "_array": np.array,
        "_float64": np.float64,
    }
    function: Callable[[Mapping[str, Any]], FloatArray] = compile_function(
        source, "vector", namespace=namespace, label="vector"
    )
    return function


def _nan_if_none(value: Any) -> Any:
    return math.nan if value is None else value


def scorer_for(
    model: ScorecardModel | GbmModel, labels: Mapping[str, FeatureLabel] | None = None
) -> ScorecardScorer | GbmScorer:
    """The online scorer of a fitted model of either kind."""
    if isinstance(model, ScorecardModel):
        return ScorecardScorer(model, labels)
    return GbmScorer(model, labels)
