"""Gradient boosting challenger on LightGBM: monotone constraints, calibrated PD, contributions."""

from __future__ import annotations

import logging
import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.lazy import lazy_module
from puhui.risk.dataset import FeatureKind, FeatureSpec
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.trees import TreeEnsemble, parse_lightgbm, predict_raw

if TYPE_CHECKING:
    import lightgbm as lgb
    import sklearn.isotonic as sk_isotonic
    import sklearn.linear_model as sk_linear
else:
    lgb = lazy_module("lightgbm")
    sk_isotonic = lazy_module("sklearn.isotonic")
    sk_linear = lazy_module("sklearn.linear_model")

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
CalibrationKind = Literal["platt", "isotonic"]
# Bad-rate smoothing towards the overall rate when ordering categories (rare ones stay central).
CATEGORY_PRIOR_WEIGHT = 20.0


# Up to this many rows the number of trees, the calibration and the out-of-sample figures come
# from k-fold cross-validation (every row fits the final model); above it one stratified holdout
# is enough and k extra fits would cost minutes (ADR 0012).
CV_MAX_ROWS = 20_000
CV_FOLDS = 5
# Minimum leaf size by data size: about 1 % of the rows the trees are fitted on, never fewer
# than 20 (LightGBM's own default) nor more than 200 (ADR 0012).
MIN_LEAF_SHARE = 0.01
MIN_LEAF_FLOOR = 20
MIN_LEAF_CEILING = 200


@dataclass(frozen=True)
class GbmConfig:
    """LightGBM parameters chosen for credit data (shallow trees, strong leaves) and calibration.

    ``monotone`` maps a feature to +1 (PD may only rise with it) or -1 (may only fall).
    ``min_child_samples`` and ``cv_folds`` left as None are chosen from the data's size
    (:func:`resolved_for`); ``cv_folds`` of 0 means one stratified holdout of ``holdout_share``.
    ``n_estimators`` is the cap: early stopping on the folds (or the holdout) picks the count.
    """

    n_estimators: int = 1000
    learning_rate: float = 0.05
    num_leaves: int = 15
    max_depth: int = 5
    min_child_samples: int | None = None
    subsample: float = 0.8
    colsample: float = 0.8
    reg_lambda: float = 1.0
    early_stopping_rounds: int | None = 50
    holdout_share: float = 0.2
    calibration: CalibrationKind = "platt"
    monotone: Mapping[str, int] = field(default_factory=dict)
    seed: int = 0
    # One thread: on a shared machine OpenMP's spinning threads make training 10-20× slower.
    n_threads: int = 1
    cv_folds: int | None = None

    def __post_init__(self) -> None:
        if not 0.05 <= self.holdout_share <= 0.5:
            raise InvalidTrainingData("holdout_share must be between 0.05 and 0.5")
        if self.cv_folds is not None and (self.cv_folds == 1 or self.cv_folds < 0):
            raise InvalidTrainingData("cv_folds must be 0 (one holdout) or at least 2")
        bad = {k: v for k, v in self.monotone.items() if v not in (-1, 0, 1)}
        if bad:
            raise InvalidTrainingData(f"monotone directions must be -1, 0 or +1: {bad}")

    def resolved_for(self, n_rows: int) -> GbmConfig:
        """The configuration with the size-dependent choices made for ``n_rows`` rows."""
        folds = self.cv_folds
        if folds is None:
            folds = CV_FOLDS if n_rows <= CV_MAX_ROWS else 0
        fitted_rows = n_rows * (1 - 1 / folds) if folds else n_rows * (1 - self.holdout_share)
        leaf = self.min_child_samples
        if leaf is None:
            leaf = int(
                min(max(round(MIN_LEAF_SHARE * fitted_rows), MIN_LEAF_FLOOR), MIN_LEAF_CEILING)
            )
        return replace(self, cv_folds=folds, min_child_samples=leaf)

    def to_dict(self) -> dict[str, Any]:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__}
        data["monotone"] = dict(self.monotone)
        return data


@dataclass(frozen=True)
class Calibrator:
    """Maps the raw margin to a probability of default: Platt (a·raw + b) or isotonic steps."""

    kind: CalibrationKind
    a: float = 1.0
    b: float = 0.0
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()

    def apply(self, raw: FloatArray) -> FloatArray:
        if self.kind == "platt":
            return 1.0 / (1.0 + np.exp(-(self.a * raw + self.b)))
        return np.asarray(np.interp(raw, np.asarray(self.x), np.asarray(self.y)), dtype=np.float64)

    def apply_one(self, raw: float) -> float:
        if self.kind == "platt":
            return 1.0 / (1.0 + math.exp(-(self.a * raw + self.b)))
        # Hot path: a bisect over the steps instead of a NumPy call (microseconds matter).
        xs, ys = self.x, self.y
        if raw <= xs[0]:
            return ys[0]
        if raw >= xs[-1]:
            return ys[-1]
        i = bisect_right(xs, raw)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 if x1 == x0 else y0 + (y1 - y0) * (raw - x0) / (x1 - x0)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "a": self.a, "b": self.b, "x": list(self.x), "y": list(self.y)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibrator:
        return cls(
            kind=data["kind"],
            a=float(data["a"]),
            b=float(data["b"]),
            x=tuple(float(v) for v in data["x"]),
            y=tuple(float(v) for v in data["y"]),
        )


def fit_calibrator(raw: FloatArray, y: npt.NDArray[np.int8], kind: CalibrationKind) -> Calibrator:
    if kind == "platt":
        model = sk_linear.LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), y)
        return Calibrator("platt", a=float(model.coef_[0, 0]), b=float(model.intercept_[0]))
    iso = sk_isotonic.IsotonicRegression(out_of_bounds="clip", y_min=1e-6, y_max=1 - 1e-6).fit(
        raw, y
    )
    return Calibrator(
        "isotonic",
        x=tuple(float(v) for v in iso.X_thresholds_),
        y=tuple(float(v) for v in iso.y_thresholds_),
    )


@dataclass(frozen=True)
class GbmModel:
    """A fitted booster (LightGBM text), its category codes and its calibration."""

    specs: tuple[FeatureSpec, ...]
    category_codes: dict[str, dict[str, float]]
    model_text: str
    calibrator: Calibrator
    config: GbmConfig

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.specs)

    @cached_property
    def booster(self) -> lgb.Booster:
        return lgb.Booster(model_str=self.model_text)

    @cached_property
    def ensemble(self) -> TreeEnsemble:
        return parse_lightgbm(self.model_text)

    def matrix(self, features: pl.DataFrame) -> FloatArray:
        """Rows as the booster reads them: NaN for missing, categories as their codes."""
        columns: list[FloatArray] = []
        for spec in self.specs:
            column = features.get_column(spec.name)
            if spec.kind is FeatureKind.CATEGORICAL:
                column = column.cast(pl.String).replace_strict(
                    self.category_codes[spec.name], default=None, return_dtype=pl.Float64
                )
            columns.append(column.cast(pl.Float64).fill_null(np.nan).to_numpy())
        return np.ascontiguousarray(np.column_stack(columns), dtype=np.float64)

    def raw_margin(self, x: FloatArray) -> FloatArray:
        return predict_raw(self.ensemble, x)

    def predict_pd(self, x: FloatArray) -> FloatArray:
        return self.calibrator.apply(self.raw_margin(x))

    def contributions(self, x: FloatArray) -> FloatArray:
        """SHAP contributions to the raw margin per feature (LightGBM ``pred_contrib``)."""
        # One thread: for a few rows OpenMP start-up costs more than the work (ms, not µs).
        threads = 1 if x.shape[0] < 10_000 else self.config.n_threads
        contrib = self.booster.predict(x, pred_contrib=True, num_threads=threads)
        return np.asarray(contrib, dtype=np.float64)[:, : len(self.specs)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": [{"name": s.name, "kind": s.kind.value} for s in self.specs],
            "category_codes": self.category_codes,
            "calibrator": self.calibrator.to_dict(),
            "config": self.config.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], model_text: str) -> GbmModel:
        return cls(
            specs=tuple(FeatureSpec(f["name"], FeatureKind(f["kind"])) for f in data["features"]),
            category_codes={
                k: {str(c): float(v) for c, v in codes.items()}
                for k, codes in data["category_codes"].items()
            },
            model_text=model_text,
            calibrator=Calibrator.from_dict(data["calibrator"]),
            config=GbmConfig(**data["config"]),
        )


def _category_codes(column: pl.Series, y: npt.NDArray[np.int8]) -> dict[str, float]:
    """Codes in order of smoothed bad rate, so that trees split categories by risk."""
    overall = float(y.mean())
    stats = (
        pl.DataFrame({"c": column.cast(pl.String), "y": y})
        .drop_nulls("c")
        .group_by("c")
        .agg(pl.len().alias("n"), pl.col("y").sum().alias("bad"))
        .with_columns(
            (
                (pl.col("bad") + CATEGORY_PRIOR_WEIGHT * overall)
                / (pl.col("n") + CATEGORY_PRIOR_WEIGHT)
            ).alias("rate")
        )
        .sort(["rate", "c"])
    )
    return {str(c): float(i) for i, c in enumerate(stats.get_column("c").to_list())}


def _stratified_holdout(
    y: npt.NDArray[np.int8], share: float, seed: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    rng = np.random.default_rng(seed)
    holdout: list[npt.NDArray[np.int64]] = []
    for cls in (0, 1):
        members = np.flatnonzero(y == cls)
        rng.shuffle(members)
        holdout.append(members[: max(1, round(share * members.size))])
    mask = np.zeros(y.size, dtype=bool)
    mask[np.concatenate(holdout)] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


@dataclass(frozen=True)
class GbmFit:
    """A fitted model with its out-of-sample predictions: ``pd[i]`` is the PD of row
    ``rows[i]`` from a model that did not see that row; ``method`` says how (cross-validated
    or held-out)."""

    model: GbmModel
    rows: npt.NDArray[np.int64]
    pd: FloatArray
    method: str


def stratified_folds(
    y: npt.NDArray[np.int8], k: int, seed: int
) -> list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]:
    """``k`` (fit rows, held-out rows) pairs; every row is held out once, bads spread evenly."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(y.size, dtype=np.int64)
    for cls in (0, 1):
        members = np.flatnonzero(y == cls)
        rng.shuffle(members)
        fold_of[members] = np.arange(members.size) % k
    return [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(k)]


def _lgb_params(config: GbmConfig, specs: Sequence[FeatureSpec]) -> dict[str, Any]:
    return {
        "objective": "binary",
        "metric": "binary_logloss",
        "learning_rate": config.learning_rate,
        "num_leaves": config.num_leaves,
        "max_depth": config.max_depth,
        "min_child_samples": config.min_child_samples,
        "bagging_fraction": config.subsample,
        "bagging_freq": 1,
        "feature_fraction": config.colsample,
        "lambda_l2": config.reg_lambda,
        "monotone_constraints": [int(config.monotone.get(s.name, 0)) for s in specs],
        "monotone_constraints_method": "intermediate",
        "seed": config.seed,
        "deterministic": True,
        "num_threads": config.n_threads,
        "verbose": -1,
    }


def _codes(
    features: pl.DataFrame, y: npt.NDArray[np.int8], specs: Sequence[FeatureSpec], rows: Any
) -> dict[str, dict[str, float]]:
    return {
        s.name: _category_codes(features.get_column(s.name)[rows], y[rows])
        for s in specs
        if s.kind is FeatureKind.CATEGORICAL
    }


def _matrix(
    features: pl.DataFrame,
    specs: Sequence[FeatureSpec],
    codes: dict[str, dict[str, float]],
    config: GbmConfig,
) -> FloatArray:
    return GbmModel(tuple(specs), codes, "", Calibrator("platt"), config).matrix(features)


def _dataset(
    x: FloatArray,
    y: npt.NDArray[np.int8],
    params: dict[str, Any],
    reference: lgb.Dataset | None = None,
) -> Any:
    # The parameters go with every dataset: a validation set built without them runs on
    # OpenMP's default thread count, which on a busy machine makes each round 50× slower.
    names = [f"f{j}" for j in range(x.shape[1])]
    return lgb.Dataset(
        x, label=y, feature_name=names, reference=reference, params=params, free_raw_data=False
    )


def _cross_validated_rounds(
    features: pl.DataFrame,
    y: npt.NDArray[np.int8],
    specs: Sequence[FeatureSpec],
    config: GbmConfig,
    folds: int,
) -> tuple[int, FloatArray]:
    """Boost one model per fold in lockstep and stop when the mean held-out log loss has not
    improved for ``early_stopping_rounds``; return that round count and every row's
    out-of-fold raw margin at it (category codes learnt on each fold's fit rows only)."""
    params = _lgb_params(config, specs)
    boosters: list[lgb.Booster] = []
    held_out: list[tuple[npt.NDArray[np.int64], FloatArray]] = []
    for fit_rows, test_rows in stratified_folds(y, folds, config.seed):
        x = _matrix(features, specs, _codes(features, y, specs, fit_rows), config)
        train_set = _dataset(x[fit_rows], y[fit_rows], params)
        booster = lgb.Booster(params, train_set)
        booster.add_valid(_dataset(x[test_rows], y[test_rows], params, train_set), "held_out")
        boosters.append(booster)
        held_out.append((test_rows, x[test_rows]))
    patience = config.early_stopping_rounds or config.n_estimators
    best_loss, best_round = math.inf, 0
    for round_number in range(1, config.n_estimators + 1):
        losses = []
        for booster in boosters:
            booster.update()
            losses.append(booster.eval_valid()[0][2])
        loss = float(np.mean(losses))
        if loss < best_loss - 1e-12:
            best_loss, best_round = loss, round_number
        elif round_number - best_round >= patience:
            break
    best_round = max(best_round, 1)
    raw = np.empty(y.size)
    for booster, (test_rows, x_test) in zip(boosters, held_out, strict=True):
        raw[test_rows] = booster.predict(x_test, num_iteration=best_round, raw_score=True)
    return best_round, raw


def fit_gbm(
    features: pl.DataFrame,
    y: npt.NDArray[np.int8],
    specs: Sequence[FeatureSpec],
    config: GbmConfig | None = None,
) -> GbmFit:
    """Fit the model and measure it out of sample.

    Up to :data:`CV_MAX_ROWS` rows: k-fold cross-validation picks the number of trees, the
    calibration is fitted on the out-of-fold margins and the final booster is fitted on every
    row. Above it: fit on one part, stop early and calibrate on the held-out part.
    """
    config = (config or GbmConfig()).resolved_for(y.size)
    unknown = sorted(set(config.monotone) - {s.name for s in specs})
    if unknown:
        raise InvalidTrainingData(f"monotone constraints name unknown features: {unknown}")
    params = _lgb_params(config, specs)
    folds = int(config.cv_folds or 0)
    if folds:
        n_trees, raw_oof = _cross_validated_rounds(features, y, specs, config, folds)
        codes = _codes(features, y, specs, slice(None))
        x = _matrix(features, specs, codes, config)
        booster = lgb.train(params, _dataset(x, y, params), num_boost_round=n_trees)
        model_text = booster.model_to_string()
        calibrator = fit_calibrator(raw_oof, y, config.calibration)
        model = GbmModel(tuple(specs), codes, model_text, calibrator, config)
        rows = np.arange(y.size, dtype=np.int64)
        logger.info("gbm: %d trees by %d-fold cross-validation", n_trees, folds)
        return GbmFit(model, rows, calibrator.apply(raw_oof), f"cross-validated ({folds}-fold)")
    fit_rows, holdout_rows = _stratified_holdout(y, config.holdout_share, config.seed)
    codes = _codes(features, y, specs, fit_rows)
    x = _matrix(features, specs, codes, config)
    train_set = _dataset(x[fit_rows], y[fit_rows], params)
    booster = lgb.train(
        params,
        train_set,
        num_boost_round=config.n_estimators,
        valid_sets=[_dataset(x[holdout_rows], y[holdout_rows], params, train_set)],
        callbacks=(
            [lgb.early_stopping(config.early_stopping_rounds, verbose=False)]
            if config.early_stopping_rounds
            else []
        ),
    )
    n_trees = booster.best_iteration or booster.current_iteration()
    model_text = booster.model_to_string(num_iteration=n_trees)
    raw_holdout = parse_and_predict(model_text, x[holdout_rows])
    calibrator = fit_calibrator(raw_holdout, y[holdout_rows], config.calibration)
    logger.info("gbm: %d trees, calibration %s", n_trees, config.calibration)
    model = GbmModel(tuple(specs), codes, model_text, calibrator, config)
    share = f"{config.holdout_share:.0%}"
    return GbmFit(model, holdout_rows, calibrator.apply(raw_holdout), f"held-out ({share})")


def train_gbm(
    features: pl.DataFrame,
    y: npt.NDArray[np.int8],
    specs: Sequence[FeatureSpec],
    config: GbmConfig | None = None,
) -> GbmModel:
    """The fitted model of :func:`fit_gbm` (without its out-of-sample predictions)."""
    return fit_gbm(features, y, specs, config).model


def parse_and_predict(model_text: str, x: FloatArray) -> FloatArray:
    return predict_raw(parse_lightgbm(model_text), x)
