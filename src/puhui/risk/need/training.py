"""Training the need model on one market's history, point in time.

Snapshots are months ``t`` with ``t + 3 <= as_of``: each gives every enterprise's features as
of ``t`` and the label "a true need in t+1 .. t+3" (with its amount and duration), so nothing
after ``as_of`` is read. Twelve consecutive snapshots cover every calendar month, which the
seasons need. A fifth of the enterprises (by a hash of the USCC) is held out: it stops the
boosting early and fixes the amount floor's ratio to the point estimate.
"""

from __future__ import annotations

import logging
import math
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.lazy import lazy_module
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import MarketTables, month_start_plus
from puhui.risk.need.calendar import NEED_HORIZON_MONTHS
from puhui.risk.need.features import PRE_CONSENT_SOURCES, need_features
from puhui.risk.need.labels import need_labels
from puhui.risk.need.model import (
    AMOUNT_FEATURES,
    BOOSTER_FEATURES,
    MARGIN_BOUND,
    AmountStart,
    NeedModel,
    feature_matrix,
    kind_key,
    offset_key,
)

if TYPE_CHECKING:
    import lightgbm as lgb
else:
    lgb = lazy_module("lightgbm")

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

SNAPSHOTS = 12
HOLDOUT_SHARE = 0.2
MAX_ROWS = 400_000
"""Rows kept for the probability model (a hash sample beyond): minutes, not tens of them."""
FLOOR_QUANTILE = 0.03
"""Quantile of true / predicted the floor sits at on held-out needs: 97 % covered there, so
that a later month, a market in another phase of its cycle or the enterprises ranked most
likely to need (where pre-approval acts) still see at least 90 % (measured: the ratio's 5 %
quantile moves between 0.42 and 0.50 from month to month, and is lower in the top decile)."""

MIN_OFFSET_NEEDS = 20
"""Training needs an offset of its own needs (an industry and kind, or a kind): fewer fall back."""
WEAK_INSTRUMENT_F = 10.0
"""First-stage F below which the instrument is weak (the usual rule of thumb, Staiger and Stock):
the instrumental slope is then mostly noise, so least squares (biased towards zero) is used."""
MAX_MARGIN_SLOPE = 3.0
"""Bound of the margin slope: at the margin's bound (±0.5) the correction moves the proxy by
at most a factor e^1.5 ≈ 4.5. The slope was −2.8 on a 1,500-firm market; unbounded, a weak
instrument gave −14.7 and +9.7 on two training markets (factors of hundreds)."""

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
    frame: pl.DataFrame,
    *,
    names: tuple[str, ...],
    y: FloatArray,
    valid: npt.NDArray[np.bool_],
    seed: int,
) -> str:
    params = _params(objective, seed)
    x = feature_matrix(frame, names)
    columns = [f"f{j}" for j in range(x.shape[1])]
    industry = [columns[names.index("industry_code")]]
    train = lgb.Dataset(
        x[~valid],
        label=y[~valid],
        feature_name=columns,
        categorical_feature=industry,
        params=params,
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


def margin_slope(needs: pl.DataFrame) -> float:
    """How much log(need / proxy) falls per unit of 12-month margin, errors-in-variables aware.

    The margin is a noisy reading of the firm's current health, so a least-squares slope is
    biased towards zero; the margin of the year before (independent noise, the same slow
    health) is the instrument: slope = cov(gap, margin_prev) / cov(margin, margin_prev).
    A weak instrument (first-stage F < ``WEAK_INSTRUMENT_F``) makes that ratio of two small,
    noisy covariances unbounded: the least-squares slope is taken instead, and either is
    bounded by ``MAX_MARGIN_SLOPE``.
    """
    gap = (pl.col("need_amount_fen").cast(pl.Float64).log() - pl.col("need_base_log")).alias("g")
    bounded = pl.col("margin_12m", "margin_prev_12m").clip(-MARGIN_BOUND, MARGIN_BOUND)
    rows = needs.select(gap, bounded).drop_nulls().drop_nans()
    if rows.height < 100:
        return 0.0
    g, x, z = (rows.get_column(c).to_numpy() for c in ("g", "margin_12m", "margin_prev_12m"))
    g, x, z = g - g.mean(), x - x.mean(), z - z.mean()
    xx, zz, xz = float(x @ x), float(z @ z), float(x @ z)
    if xx == 0.0:
        return 0.0
    r2 = xz * xz / (xx * zz) if zz else 0.0  # the first stage's R², x on z
    f_stat = math.inf if r2 >= 1.0 else r2 / (1.0 - r2) * (rows.height - 2)
    slope = float(g @ z) / xz if f_stat >= WEAK_INSTRUMENT_F else float(g @ x) / xx
    return float(np.clip(slope, -MAX_MARGIN_SLOPE, MAX_MARGIN_SLOPE))


def amount_start(needs: pl.DataFrame) -> AmountStart:
    """The level correction and the median offsets per industry and proxy kind."""
    slope = margin_slope(needs)
    fill_value = needs.get_column("margin_12m").drop_nulls().drop_nans().median()
    fill = float(fill_value) if isinstance(fill_value, float) else 0.0
    provisional = AmountStart({"*": 0.0}, slope, fill)
    gap = np.log(needs.get_column("need_amount_fen").cast(pl.Float64).to_numpy())
    framed = needs.select("industry_code", "need_base_kind").with_columns(
        pl.Series("gap", gap - provisional.corrected_base(needs))
    )
    framed = framed.filter(pl.col("gap").is_finite())
    overall = framed.get_column("gap").median()
    offsets = {"*": float(overall) if isinstance(overall, float) else 0.0}
    groups = framed.group_by("industry_code", "need_base_kind").agg(
        pl.col("gap").median(), pl.len()
    )
    for industry, kind, median, count in groups.iter_rows():
        if count >= MIN_OFFSET_NEEDS and median is not None:
            offsets[offset_key(industry, kind)] = float(median)
    kinds = framed.group_by("need_base_kind").agg(pl.col("gap").median(), pl.len())
    for kind, median, count in kinds.iter_rows():
        if count >= MIN_OFFSET_NEEDS and median is not None:
            offsets[kind_key(kind)] = float(median)
    return AmountStart(offsets, slope, fill)


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
    y = frame.get_column("has_need").cast(pl.Float64).to_numpy()
    probability = _fit(
        "binary", frame, names=BOOSTER_FEATURES["probability"], y=y, valid=holdout, seed=seed
    )
    needs = frame.filter(pl.col("has_need") == 1)
    need_holdout = holdout[positive]
    start = amount_start(needs.filter(pl.Series(~need_holdout)))
    log_true = np.log(needs.get_column("need_amount_fen").cast(pl.Float64).to_numpy())
    # The regression fits what the start leaves: log need − (corrected proxy + offset).
    residual = log_true - start.apply(needs)
    amount = _fit(
        "regression_l1", needs, names=AMOUNT_FEATURES, y=residual, valid=need_holdout, seed=seed
    )
    duration_y = needs.get_column("need_duration_months").cast(pl.Float64).to_numpy()
    duration = _fit(
        "regression_l1", needs, names=AMOUNT_FEATURES, y=duration_y, valid=need_holdout, seed=seed
    )
    boosters = {"probability": probability, "amount": amount, "duration": duration}
    fitted = NeedModel(as_of, sources, boosters, start, floor_ratio=1.0)
    held = needs.filter(pl.Series(need_holdout))
    ratio = np.exp(log_true[need_holdout] - fitted.log_amount(held))
    floor_ratio = min(1.0, float(np.quantile(ratio, FLOOR_QUANTILE)))
    metrics = {
        "training_rows": float(frame.height),
        "need_rate": float(y.mean()),
        "holdout_needs": float(need_holdout.sum()),
        "holdout_mdape": float(np.median(np.abs(1.0 - ratio) / ratio)),
        "holdout_floor_coverage": float(np.mean(floor_ratio <= ratio)),
        "margin_slope": start.margin_slope,
    }
    logger.info("need model trained as of %s: %s", as_of, metrics)
    return NeedModel(as_of, sources, boosters, start, floor_ratio, metrics)
