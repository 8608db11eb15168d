"""The residual the protocol forms: σ(u_b) − y + σ'(u_b)·u_o, exact in the bank's partial score
and first order in the owner's. It is the logistic residual where the owner's score is 0, its
error is second order in the owner's score, and gradient descent on it ranks like logistic
regression fitted exactly (where the earlier Taylor expansion at 0 fitted a linear
probability model)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from puhui.risk.federated.data import with_intercept
from puhui.risk.federated.model import intercept_shift
from puhui.risk.federated.vertical_lr import (
    bank_residual_parts,
    plaintext_training,
    sigmoid,
)
from puhui.risk.metrics import auc


def _logistic(z: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-z))
    return result


def test_the_expansion_is_exact_in_the_banks_score_and_second_order_in_the_owners() -> None:
    rng = np.random.default_rng(5)
    x_bank = with_intercept(rng.standard_normal((400, 3)))
    w_bank = np.array([-3.0, 1.2, -0.8, 0.5])
    labels = (rng.random(400) < 0.1).astype(np.int8)
    intercepts, slopes = bank_residual_parts(x_bank, w_bank, labels)
    u_bank = x_bank @ w_bank
    np.testing.assert_allclose(intercepts, _logistic(u_bank) - labels, atol=1e-12)
    np.testing.assert_allclose(slopes, _logistic(u_bank) * (1 - _logistic(u_bank)), atol=1e-12)
    for size in (0.4, 0.2, 0.1):
        u_owner = rng.uniform(-size, size, 400)
        error = np.abs(intercepts + slopes * u_owner - (_logistic(u_bank + u_owner) - labels))
        # |σ''| ≤ 1/(6√3) < 0.1: the remainder is at most 0.05·u_o².
        assert error.max() <= 0.05 * size**2
    np.testing.assert_allclose(sigmoid(np.array([-800.0, 0.0, 800.0])), [0.0, 0.5, 1.0])


def test_gradient_descent_on_it_ranks_like_exact_logistic_regression() -> None:
    for seed in range(3):
        rng = np.random.default_rng(seed)
        rows = 12_000
        x_bank = np.clip(rng.standard_t(4, size=(rows, 5)), -8, 8)
        x_owner = np.clip(rng.standard_t(4, size=(rows, 4)), -8, 8)
        x_bank = (x_bank - x_bank.mean(0)) / x_bank.std(0)
        x_owner = (x_owner - x_owner.mean(0)) / x_owner.std(0)
        truth = x_bank @ [0.9, -0.6, 0.4, 0.0, 0.3] + x_owner @ [0.8, -0.7, 0.5, 0.2]
        labels = (rng.random(rows) < _logistic(truth - 4.0)).astype(np.int8)  # about 5 % bad
        train, test = slice(0, 8_000), slice(8_000, rows)
        design = with_intercept(x_bank)
        w_bank, w_owner = plaintext_training(
            design[train],
            x_owner[train],
            labels[train],
            epochs=8,
            batch_size=256,
            learning_rate=0.8,
            l2=1e-3,
            seed=0,
        )
        federated = auc(labels[test], design[test] @ w_bank + x_owner[test] @ w_owner)
        both = np.hstack([design, x_owner])
        exact = LogisticRegression(max_iter=2_000).fit(both[train], labels[train])
        reference = auc(labels[test], exact.decision_function(both[test]))
        assert federated >= reference - 0.005, (seed, federated, reference)
        # The level is high (the expansion's tangent lies under the convex lower tail of σ):
        # what the intercept refitted on held-out rows corrects (intercept_shift).
        logits = design[test] @ w_bank + x_owner[test] @ w_owner
        assert _logistic(logits).mean() > labels[test].mean()
        shift = intercept_shift(logits, labels[test])
        assert shift < 0
        assert _logistic(logits + shift).mean() == pytest.approx(labels[test].mean(), abs=1e-9)
        assert auc(labels[test], logits + shift) == federated


def test_the_intercept_shift_meets_the_observed_rate_and_needs_both_outcomes() -> None:
    logits = np.linspace(-6, 2, 101)
    for labels in (np.zeros(101), np.ones(101), np.array([])):
        assert intercept_shift(logits[: len(labels)], labels) == 0.0
    labels = (np.arange(101) % 10 == 0).astype(np.int8)
    shift = intercept_shift(logits, labels)
    assert _logistic(logits + shift).mean() == pytest.approx(labels.mean(), abs=1e-9)
    assert intercept_shift(logits + shift, labels) == pytest.approx(0.0, abs=1e-8)
