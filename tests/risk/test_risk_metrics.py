"""AUC, KS, Brier, calibration and PSI against definitions worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from puhui.risk.metrics import auc, brier, calibration_by_decile, evaluate, ks, psi


def test_auc_counts_ties_half_as_scikit_learn_does() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    pd = np.round(rng.random(500), 1)  # many ties
    assert auc(y, pd) == pytest.approx(roc_auc_score(y, pd), abs=1e-12)


def test_perfect_ranking_has_auc_one_and_ks_one() -> None:
    y = np.array([0, 0, 0, 1, 1])
    pd = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    assert auc(y, pd) == 1.0
    assert ks(y, pd) == 1.0
    assert evaluate(y, pd).gini == 1.0


def test_ks_is_the_largest_gap_between_cumulative_bad_and_good_shares() -> None:
    y = np.array([1, 0, 1, 0, 0, 0])
    pd = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1])
    # riskiest first: after 1 row bads 1/2 goods 0 -> 0.5; after 3 rows 2/2 vs 1/4 -> 0.75
    assert ks(y, pd) == pytest.approx(0.75)


def test_ks_never_splits_applicants_with_the_same_score() -> None:
    y = np.array([1, 0, 1, 0])
    pd = np.array([0.5, 0.5, 0.5, 0.5])
    assert ks(y, pd) == 0.0


def test_brier_is_the_mean_squared_error_of_the_probability() -> None:
    assert brier([1, 0], [0.8, 0.4]) == pytest.approx((0.04 + 0.16) / 2)


def test_calibration_buckets_compare_mean_pd_with_observed_rate() -> None:
    y = np.array([0] * 90 + [1] * 10)
    pd = np.r_[np.full(90, 0.05), np.full(10, 0.5)]
    buckets = calibration_by_decile(y, pd)
    assert len(buckets) == 10
    assert sum(b.n for b in buckets) == 100
    assert buckets[-1].observed_bad_rate == 1.0
    assert buckets[-1].expected_bad_rate == 0.5
    assert buckets[-1].relative_error == pytest.approx(0.5)


def test_psi_is_zero_for_the_same_population_and_grows_with_a_shift() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=5000)
    assert psi(base, base) == pytest.approx(0.0)
    assert psi(base, base + 0.1) < psi(base, base + 0.5)
    assert psi(base, base + 0.5) > 0.1
