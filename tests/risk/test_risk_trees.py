"""Compiled trees give LightGBM's own raw scores, with every missing-value rule."""

from __future__ import annotations

import math

import lightgbm as lgb
import numpy as np
import pytest

from puhui.risk.errors import UnsupportedModel
from puhui.risk.trees import (
    compile_row_function,
    parse_lightgbm,
    predict_raw,
    predict_raw_numpy,
)


def _booster(zero_as_missing: bool, with_nan: bool) -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3000, 4))
    x[:, 3] = rng.integers(0, 3, 3000)  # many exact zeros
    y = (rng.random(3000) < 1 / (1 + np.exp(-(x[:, 0] - x[:, 1] + 0.5 * x[:, 3])))).astype(int)
    if with_nan:
        x[rng.random(3000) < 0.15, 1] = np.nan
    params = {
        "objective": "binary",
        "num_leaves": 15,
        "verbose": -1,
        "zero_as_missing": zero_as_missing,
        "num_threads": 1,
    }
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=60)
    test = rng.normal(size=(500, 4))
    test[:, 3] = rng.integers(0, 3, 500)
    test[rng.random(500) < 0.2, 1] = np.nan
    test[rng.random(500) < 0.1, 2] = np.nan  # missing where training had none
    test[:5, 0] = 0.0
    return booster, test


@pytest.mark.parametrize(
    ("zero_as_missing", "with_nan"), [(False, True), (False, False), (True, True)]
)
def test_batch_and_row_predictions_equal_lightgbm_raw_scores(
    zero_as_missing: bool, with_nan: bool
) -> None:
    booster, test = _booster(zero_as_missing, with_nan)
    expected = booster.predict(test, raw_score=True)
    ensemble = parse_lightgbm(booster.model_to_string())
    assert ensemble.n_trees == 60
    np.testing.assert_allclose(predict_raw(ensemble, test), expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(predict_raw_numpy(ensemble, test), expected, rtol=0, atol=1e-9)
    names = [f"f{j}" for j in range(4)]
    row_function = compile_row_function(ensemble, [f"g({n!r})" for n in names], {})
    online = [
        row_function(
            {n: (None if math.isnan(v) else float(v)) for n, v in zip(names, row, strict=True)}
        )
        for row in test
    ]
    np.testing.assert_allclose(online, expected, rtol=0, atol=1e-9)


def test_categorical_splits_are_refused_with_a_named_error() -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 6, size=(500, 1)).astype(float)
    y = (x[:, 0] % 2 == 0).astype(int)
    booster = lgb.train(
        {"objective": "binary", "verbose": -1, "min_data_per_group": 5, "cat_smooth": 1},
        lgb.Dataset(x, y, categorical_feature=[0]),
        num_boost_round=3,
    )
    with pytest.raises(UnsupportedModel, match="categorical"):
        parse_lightgbm(booster.model_to_string())


def _nan_both_ways_booster(max_depth: int, num_leaves: int) -> tuple[lgb.Booster, np.ndarray]:
    """Missing values that go left at some splits and right at others, plus ±inf inputs."""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(4000, 5))
    y = (rng.random(4000) < 1 / (1 + np.exp(-(x[:, 0] + x[:, 1] * x[:, 2])))).astype(int)
    x[(rng.random(4000) < 0.3) & (y == 1), 1] = np.nan  # missing means bad: NaN goes one way
    x[(rng.random(4000) < 0.3) & (y == 0), 2] = np.nan  # missing means good: the other way
    params = {
        "objective": "binary",
        "num_leaves": num_leaves,
        "max_depth": max_depth,
        "min_data_in_leaf": 2,
        "verbose": -1,
        "num_threads": 1,
    }
    booster = lgb.train(params, lgb.Dataset(x, y), num_boost_round=40)
    test = rng.normal(size=(1001, 5))  # not a multiple of the kernel's block or lane count
    test[rng.random(1001) < 0.25, 1] = np.nan
    test[rng.random(1001) < 0.25, 2] = np.nan
    test[rng.random(1001) < 0.1, 4] = np.nan  # missing where training had none: read as 0.0
    test[:3, 0] = [np.inf, -np.inf, 0.0]
    return booster, test


def test_complete_tree_kernel_equals_lightgbm_with_missing_values_on_both_sides() -> None:
    booster, test = _nan_both_ways_booster(max_depth=6, num_leaves=40)
    ensemble = parse_lightgbm(booster.model_to_string())
    assert ensemble.complete is not None
    assert ensemble.complete.depth == 6
    expected = booster.predict(test, raw_score=True)
    for rows in (1, 7, 8, 129, 1001):
        np.testing.assert_allclose(
            predict_raw(ensemble, test[:rows]), expected[:rows], rtol=0, atol=1e-9
        )


def test_trees_too_deep_for_the_complete_layout_fall_back_to_the_same_predictions() -> None:
    booster, test = _nan_both_ways_booster(max_depth=-1, num_leaves=400)
    ensemble = parse_lightgbm(booster.model_to_string())
    assert ensemble.complete is None
    expected = booster.predict(test, raw_score=True)
    np.testing.assert_allclose(predict_raw(ensemble, test), expected, rtol=0, atol=1e-9)


def test_zero_as_missing_models_use_the_general_kernel() -> None:
    booster, test = _booster(zero_as_missing=True, with_nan=True)
    ensemble = parse_lightgbm(booster.model_to_string())
    assert ensemble.complete is None
    np.testing.assert_allclose(
        predict_raw(ensemble, test), booster.predict(test, raw_score=True), rtol=0, atol=1e-9
    )
