"""Training the need model on one market's history, point in time.

Snapshots are months ``t`` with ``t + 3 <= as_of``: each gives every enterprise's features as
of ``t`` and the label "a true need in t+1 .. t+3" (with its amount and duration), so nothing
after ``as_of`` is read. Twelve consecutive snapshots cover every calendar month, which the
seasons need. A fifth of the enterprises (by a hash of the USCC) is held out: it stops the
boosting early and fixes the amount's point scale and floor ratio.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import MarketTables, month_start_plus
from puhui.risk.need.calendar import NEED_HORIZON_MONTHS
from puhui.risk.need.features import NEED_FEATURE_NAMES, PRE_CONSENT_SOURCES, need_features
from puhui.risk.need.labels import need_labels
from puhui.risk.need.model import NeedModel, feature_matrix, log_start, offset_key

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

SNAPSHOTS = 12
HOLDOUT_SHARE = 0.2
MAX_ROWS = 400_000
"""Rows kept for the probability model (a hash sample beyond): minutes, not tens of them."""
FLOOR_QUANTILE = 0.08
"""Quantile of true / predicted the floor sits at on held-out needs (aims at ≥ 90 % covered
on a new market with some margin)."""
MAX_TREES = 600
EARLY_STOP = 40


def _params(objective: str, seed: int) -> dict[str, Any]:
    return {
        "objective": objective,
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_data_in_leaf": 100,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": seed,
        "deterministic": True,
        "num_threads": 1,
        "verbose": -1,
    }


def training_frame(
    tables: MarketTables,
    need_events: pl.LazyFrame,
    as_of: date,
    *,
    snapshots: int = SNAPSHOTS,
    sources: frozenset[str] = PRE_CONSENT_SOURCES,
) -> pl.DataFrame:
    """Features and labels of every snapshot month ``t`` (``t + 3 <= as_of``), stacked."""
    frames: list[pl.DataFrame] = []
    for back in range(snapshots):
        snapshot = month_start_plus(as_of, -NEED_HORIZON_MONTHS - back)
        features = need_features(tables, snapshot, sources=sources)
        labels = need_labels(need_events, snapshot)
        frames.append(
            features.join(labels, on="uscc", how="left").with_columns(
                pl.lit(snapshot).alias("snapshot"),
                pl.col("need_amount_fen").is_not_null().cast(pl.Int8).alias("has_need"),
            )
        )
    return pl.concat(frames, how="vertical")


def _hash_share(frame: pl.DataFrame, *columns: str, seed: int) -> pl.Series:
    """A stable number in [0, 1) per row from its key columns (sampling without randomness)."""
    return (frame.select(pl.struct(*columns).hash(seed=seed)).to_series() % 1_000_003) / 1_000_003.0


def _fit(
    objective: str,
    x: FloatArray,
    y: FloatArray,
    valid: npt.NDArray[np.bool_],
    seed: int,
) -> str:
    params = _params(objective, seed)
    names = [f"f{j}" for j in range(x.shape[1])]
    industry = [names[NEED_FEATURE_NAMES.index("industry_code")]]
    train = lgb.Dataset(
        x[~valid], label=y[~valid], feature_name=names, categorical_feature=industry, params=params
    )
    check = lgb.Dataset(x[valid], label=y[valid], reference=train, params=params)
    booster = lgb.train(
        params,
        train,
        num_boost_round=MAX_TREES,
        valid_sets=[check],
        callbacks=[lgb.early_stopping(EARLY_STOP, verbose=False)],
    )
    return str(booster.model_to_string(num_iteration=booster.best_iteration))


def _offsets(frame: pl.DataFrame) -> dict[str, float]:
    """Median log(need / revenue proxy) per industry and proxy kind, and overall."""
    gap = (pl.col("need_amount_fen").cast(pl.Float64).log() - pl.col("need_base_log")).alias("gap")
    framed = frame.select("industry_code", "need_base_kind", gap).drop_nulls("gap")
    overall = framed.get_column("gap").median()
    offsets = {"*": float(overall) if isinstance(overall, float) else 0.0}
    groups = framed.group_by("industry_code", "need_base_kind").agg(
        pl.col("gap").median(), pl.len()
    )
    for industry, kind, median, count in groups.iter_rows():
        if count >= 20 and median is not None:
            offsets[offset_key(industry, kind)] = float(median)
    return offsets


def best_scale(ratio: FloatArray) -> float:
    """The multiplier ``c`` of the prediction minimising the median of |c − r| / r."""
    grid = np.arange(0.5, 2.0, 0.005)
    errors = [float(np.median(np.abs(c - ratio) / ratio)) for c in grid]
    return float(grid[int(np.argmin(errors))])


def train_need_model(
    tables: MarketTables,
    need_events: pl.LazyFrame,
    as_of: date,
    *,
    seed: int = 7,
    sources: frozenset[str] = PRE_CONSENT_SOURCES,
    snapshots: int = SNAPSHOTS,
) -> NeedModel:
    """Fit the need model on the snapshots before ``as_of`` (labels never pass ``as_of``)."""
    frame = training_frame(tables, need_events, as_of, snapshots=snapshots, sources=sources)
    if frame.height > MAX_ROWS:
        frame = frame.filter(
            _hash_share(frame, "uscc", "snapshot", seed=seed) < MAX_ROWS / frame.height
        )
    holdout = (_hash_share(frame, "uscc", seed=seed + 1) < HOLDOUT_SHARE).to_numpy()
    positive = frame.get_column("has_need").to_numpy().astype(bool)
    if positive[~holdout].sum() < 50 or positive[holdout].sum() < 20:
        raise InvalidTrainingData("too few true needs before as_of to train a need model")
    x = feature_matrix(frame, NEED_FEATURE_NAMES)
    y = frame.get_column("has_need").cast(pl.Float64).to_numpy()
    probability = _fit("binary", x, y, holdout, seed)
    needs = frame.filter(pl.col("has_need") == 1)
    need_holdout = holdout[positive]
    offsets = _offsets(needs.filter(pl.Series(~need_holdout)))
    x_need = x[positive]
    log_true = np.log(needs.get_column("need_amount_fen").cast(pl.Float64).to_numpy())
    # The regression fits what the offset leaves: log need − (proxy + industry offset).
    start = log_start(needs, offsets)
    amount = _fit("regression_l1", x_need, log_true - start, need_holdout, seed)
    duration_y = needs.get_column("need_duration_months").cast(pl.Float64).to_numpy()
    duration = _fit("regression_l1", x_need, duration_y, need_holdout, seed)
    fitted = NeedModel(
        as_of=as_of,
        sources=sources,
        boosters={"probability": probability, "amount": amount, "duration": duration},
        offsets=offsets,
        point_scale=1.0,
        floor_ratio=1.0,
    )
    held = needs.filter(pl.Series(need_holdout))
    ratio = np.exp(log_true[need_holdout] - fitted.log_amount(held, x_need[need_holdout]))
    scale = best_scale(ratio)
    floor_ratio = min(1.0, float(np.quantile(ratio, FLOOR_QUANTILE)) / scale)
    ape = np.abs(scale - ratio) / ratio
    metrics = {
        "training_rows": float(frame.height),
        "need_rate": float(y.mean()),
        "holdout_needs": float(need_holdout.sum()),
        "holdout_mdape": float(np.median(ape)),
        "holdout_floor_coverage": float(np.mean(scale * floor_ratio <= ratio)),
    }
    logger.info("need model trained as of %s: %s", as_of, metrics)
    return NeedModel(
        as_of=as_of,
        sources=sources,
        boosters=fitted.boosters,
        offsets=offsets,
        point_scale=scale,
        floor_ratio=floor_ratio,
        metrics=metrics,
    )
