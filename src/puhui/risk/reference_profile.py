"""The development profile a model is monitored against: bins and shares of score and inputs.

Computed once from the development sample when the model is trained and saved beside the
artefact (``reference.json``, through :mod:`puhui.risk.artefact`). Monitoring then needs
neither the model nor the development data: every bin carries its development share and,
where the model gives one, its weight (scorecard points, or the mean SHAP contribution to the
log-odds of a gradient-boosting model), so a shift in shares turns into a shift in score.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.domain.errors import InvalidInput
from puhui.risk.dataset import FeatureKind
from puhui.risk.gbm import GbmModel
from puhui.risk.metrics import auc, ks
from puhui.risk.scorecard import ScorecardModel
from puhui.risk.scorer import scorer_for

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

REFERENCE_FORMAT = "puhui-reference-profile/1"
DEFAULT_BINS = 10
# A bin's mean SHAP contribution is estimated on at most this many rows: SHAP costs ~0.2 ms a
# row, and the mean of a bin with fewer than 1/20,000 of the rows weighs nothing in a shift.
CONTRIBUTION_SAMPLE = 20_000
SPECIAL = "Special"
MISSING = "Missing"
POINTS = "points"
LOG_ODDS = "log-odds"


class MonitoringDataInvalid(InvalidInput):
    """A frame offered for monitoring lacks a column or holds values of the wrong kind."""

    code = "invalid_monitoring_data"


def _finite_or_none(value: float) -> float | None:
    return None if math.isnan(value) else value


@dataclass(frozen=True)
class BinnedVariable:
    """One variable cut into bins, with the development share (and weight) of every bin.

    Bins are laid out as the scorecard lays out its characteristics: the regular bins, then
    ``Special`` (special codes), then ``Missing``. Regular bin ``i`` of a numeric variable holds
    ``edges[i-1] <= x < edges[i]``; a category not seen in development falls in ``Missing``,
    exactly as scoring treats it.
    """

    name: str
    kind: FeatureKind
    edges: tuple[float, ...]
    categories: Mapping[str, int]
    labels: tuple[str, ...]
    special_codes: tuple[float, ...]
    shares: tuple[float, ...]
    weights: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        size = len(self.labels) + 2
        if len(self.shares) != size or (self.weights and len(self.weights) != size):
            raise MonitoringDataInvalid(
                f"{self.name}: shares and weights need one value per bin ({size})"
            )

    @property
    def all_labels(self) -> tuple[str, ...]:
        return (*self.labels, SPECIAL, MISSING)

    def bin_index(self, column: pl.Series) -> IntArray:
        """The bin of every value (regular, special or missing)."""
        n = len(self.labels)
        if self.kind is FeatureKind.CATEGORICAL:
            mapped = column.cast(pl.String).replace_strict(
                dict(self.categories), default=n + 1, return_dtype=pl.Int64
            )
            return mapped.fill_null(n + 1).to_numpy().astype(np.int64)
        try:
            values = column.cast(pl.Float64).fill_null(np.nan).to_numpy()
        except pl.exceptions.InvalidOperationError:
            raise MonitoringDataInvalid(f"{self.name} must be numeric") from None
        index = np.searchsorted(np.asarray(self.edges, dtype=np.float64), values, side="right")
        if self.special_codes:
            index = np.where(np.isin(values, self.special_codes), n, index)
        return np.where(np.isnan(values), n + 1, index).astype(np.int64)

    def shares_of(self, column: pl.Series) -> FloatArray:
        """The share of ``column`` in every bin (all zero for an empty column)."""
        counts = np.bincount(self.bin_index(column), minlength=len(self.labels) + 2)
        total = counts.sum()
        return counts / total if total else np.zeros(counts.size)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "edges": list(self.edges),
            "categories": dict(self.categories),
            "labels": list(self.labels),
            "special_codes": list(self.special_codes),
            "shares": list(self.shares),
            "weights": list(self.weights),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BinnedVariable:
        return cls(
            name=str(data["name"]),
            kind=FeatureKind(data["kind"]),
            edges=tuple(float(x) for x in data["edges"]),
            categories={str(k): int(v) for k, v in data["categories"].items()},
            labels=tuple(str(x) for x in data["labels"]),
            special_codes=tuple(float(x) for x in data["special_codes"]),
            shares=tuple(float(x) for x in data["shares"]),
            weights=tuple(float(x) for x in data["weights"]),
        )


@dataclass(frozen=True)
class ReferenceProfile:
    """The development population of one model, as monitoring compares against it."""

    model_kind: str
    weight_unit: str
    n_rows: int
    n_bad: int
    mean_pd: float
    auc: float | None
    ks: float | None
    score: BinnedVariable
    inputs: tuple[BinnedVariable, ...]

    @property
    def bad_rate(self) -> float:
        return self.n_bad / self.n_rows if self.n_rows else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": REFERENCE_FORMAT,
            "model_kind": self.model_kind,
            "weight_unit": self.weight_unit,
            "n_rows": self.n_rows,
            "n_bad": self.n_bad,
            "mean_pd": self.mean_pd,
            "auc": self.auc,
            "ks": self.ks,
            "score": self.score.to_dict(),
            "inputs": [variable.to_dict() for variable in self.inputs],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferenceProfile:
        if data.get("format") != REFERENCE_FORMAT:
            raise MonitoringDataInvalid(f"unknown reference profile format {data.get('format')!r}")
        return cls(
            model_kind=str(data["model_kind"]),
            weight_unit=str(data["weight_unit"]),
            n_rows=int(data["n_rows"]),
            n_bad=int(data["n_bad"]),
            mean_pd=float(data["mean_pd"]),
            auc=None if data["auc"] is None else float(data["auc"]),
            ks=None if data["ks"] is None else float(data["ks"]),
            score=BinnedVariable.from_dict(data["score"]),
            inputs=tuple(BinnedVariable.from_dict(v) for v in data["inputs"]),
        )


def numeric_labels(edges: Sequence[float]) -> tuple[str, ...]:
    bounds = [-math.inf, *edges, math.inf]
    return tuple(f"[{lo:.6g}, {hi:.6g})" for lo, hi in itertools.pairwise(bounds))


def quantile_edges(values: FloatArray, n_bins: int = DEFAULT_BINS) -> tuple[float, ...]:
    """Cut points at the deciles (for ``n_bins`` 10) of the non-missing values.

    Equal quantiles collapse into one cut, and a cut at the minimum is dropped (it would only
    open an empty first bin): a variable that is mostly zero gets few, honest bins.
    """
    present = values[~np.isnan(values)]
    if present.size == 0:
        return ()
    cuts = np.unique(np.quantile(present, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    return tuple(float(c) for c in cuts if c > present.min())


def _shares(index: IntArray, size: int) -> FloatArray:
    counts = np.bincount(index, minlength=size)
    return counts / max(int(counts.sum()), 1)


def _mean_by_bin(index: IntArray, values: FloatArray, size: int) -> tuple[float, ...]:
    """Mean of ``values`` in every bin, NaN values left out (0 where a bin has none)."""
    present = ~np.isnan(values)
    counts = np.bincount(index[present], minlength=size)
    sums = np.bincount(index[present], weights=values[present], minlength=size)
    means = np.divide(sums, counts, out=np.zeros(size), where=counts > 0)
    return tuple(float(x) for x in means)


def numeric_variable(
    name: str, values: FloatArray, n_bins: int = DEFAULT_BINS, weights: FloatArray | None = None
) -> BinnedVariable:
    """A numeric variable cut at its quantiles; ``weights`` (one per value, NaN for unknown)
    give every bin its mean weight."""
    edges = quantile_edges(values, n_bins)
    draft = BinnedVariable(
        name, FeatureKind.NUMERIC, edges, {}, numeric_labels(edges), (), (0.0,) * (len(edges) + 3)
    )
    index = draft.bin_index(pl.Series(name, values))
    size = len(edges) + 3
    return BinnedVariable(
        name,
        FeatureKind.NUMERIC,
        edges,
        {},
        draft.labels,
        (),
        tuple(float(x) for x in _shares(index, size)),
        () if weights is None else _mean_by_bin(index, weights, size),
    )


def _categorical_variable(
    name: str, column: pl.Series, categories: Sequence[str], weights: FloatArray
) -> BinnedVariable:
    codes = {category: i for i, category in enumerate(categories)}
    size = len(codes) + 2
    draft = BinnedVariable(
        name, FeatureKind.CATEGORICAL, (), codes, tuple(categories), (), (0.0,) * size
    )
    index = draft.bin_index(column)
    return BinnedVariable(
        name,
        FeatureKind.CATEGORICAL,
        (),
        codes,
        tuple(categories),
        (),
        tuple(float(x) for x in _shares(index, size)),
        _mean_by_bin(index, weights, size),
    )


def _sampled_contributions(model: GbmModel, features: pl.DataFrame) -> FloatArray:
    """SHAP contributions of a seeded sample of the rows; NaN for the rows left out."""
    n = features.height
    rows = np.arange(n)
    if n > CONTRIBUTION_SAMPLE:
        rows = np.sort(np.random.default_rng(0).choice(n, CONTRIBUTION_SAMPLE, replace=False))
    contributions = np.full((n, len(model.specs)), np.nan)
    contributions[rows] = model.contributions(model.matrix(features[rows]))
    return contributions


def build_reference_profile(
    model: ScorecardModel | GbmModel,
    features: pl.DataFrame,
    target: npt.ArrayLike,
    *,
    n_bins: int = DEFAULT_BINS,
) -> ReferenceProfile:
    """Profile the development sample a model was fitted on (or validated against).

    ``features`` holds the model's inputs typed as in development (``TrainingData.features``
    or ``scoring_frame(artefact, frame)``); ``target`` is 0/1 with 1 = bad. A scorecard's
    inputs keep the scorecard's own bins and points; a gradient-boosting model's numeric inputs
    are cut at their deciles and every bin carries its mean SHAP contribution.
    """
    y = np.asarray(target, dtype=np.float64)
    if y.ndim != 1 or y.size != features.height or y.size == 0:
        raise MonitoringDataInvalid("the target must give one 0/1 value per development row")
    missing = [name for name in model.feature_names if name not in features.columns]
    if missing:
        raise MonitoringDataInvalid(f"the development frame lacks model inputs: {missing}")
    assessed = scorer_for(model).assess_frame(features, n_reasons=0)
    pd = assessed.get_column("pd").to_numpy().astype(np.float64)
    score = assessed.get_column("score").to_numpy().astype(np.float64)
    inputs: list[BinnedVariable] = []
    if isinstance(model, ScorecardModel):
        unit = POINTS
        for c in model.characteristics:
            index = c.bin_index(features.get_column(c.name))
            inputs.append(
                BinnedVariable(
                    c.name,
                    c.kind,
                    c.edges,
                    dict(c.categories),
                    c.labels,
                    c.special_codes,
                    tuple(float(x) for x in _shares(index, c.n_bins + 2)),
                    c.points,
                )
            )
    else:
        unit = LOG_ODDS
        contributions = _sampled_contributions(model, features)
        for j, spec in enumerate(model.specs):
            column = features.get_column(spec.name)
            if spec.kind is FeatureKind.CATEGORICAL:
                ordered = sorted(model.category_codes[spec.name].items(), key=lambda kv: kv[1])
                inputs.append(
                    _categorical_variable(
                        spec.name, column, [name for name, _ in ordered], contributions[:, j]
                    )
                )
            else:
                values = column.cast(pl.Float64).fill_null(np.nan).to_numpy()
                inputs.append(numeric_variable(spec.name, values, n_bins, contributions[:, j]))
    return ReferenceProfile(
        model_kind="scorecard" if isinstance(model, ScorecardModel) else "gbm",
        weight_unit=unit,
        n_rows=int(y.size),
        n_bad=int(y.sum()),
        mean_pd=float(pd.mean()),
        auc=_finite_or_none(auc(y, pd)),
        ks=_finite_or_none(ks(y, pd)),
        score=numeric_variable("score", score, n_bins),
        inputs=tuple(inputs),
    )
