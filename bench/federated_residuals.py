"""Residuals for vertical logistic regression under Paillier, compared in plaintext (ADR 0053).

Usage: PYTHONPATH=src .venv/bin/python bench/federated_residuals.py --market DIR --as-of YYYY-MM
       [--epochs 8] [--learning-rate 0.8] [--work DIR]

Splits the market as ``bench/federated.py`` does and trains the same mini-batch gradient
descent on both sides' data in the clear, once per way of forming the residual, then prints
the held-out AUC and the held-out mean PD over the default rate of each, beside scikit-learn's
exact logistic regression. The encrypted protocol reproduces plaintext gradient descent to
1e-4 in the weights (tests/federated/test_protocol.py), so this compares the residuals without
the hours of Paillier arithmetic.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from puhui.market.params import parse_month
from puhui.pipelines.federated_split import split_market
from puhui.risk.federated.bank import TrainingConfig, split_in_the_clear
from puhui.risk.federated.data import read_party
from puhui.risk.federated.vertical_lr import SCORE_BOUND, epoch_batches, sigmoid, step
from puhui.risk.metrics import auc

Array = np.ndarray
Residual = Callable[[Array, Array], Array]
"""The predicted probability the residual uses, from the bank's and the owner's scores."""


def _least_squares_sigmoid(degree: int) -> Residual:
    grid = np.linspace(-8.0, 8.0, 2001)
    coefficients = np.polynomial.polynomial.polyfit(grid, sigmoid(grid), degree)

    def probability(u_bank: Array, u_owner: Array) -> Array:
        result: Array = np.polynomial.polynomial.polyval(u_bank + u_owner, coefficients)
        return result

    return probability


def _expanded(order: int) -> Residual:
    def probability(u_bank: Array, u_owner: Array) -> Array:
        p = sigmoid(u_bank)
        slope = p * (1 - p)
        result: Array = p + slope * u_owner
        if order == 2:
            result = result + 0.5 * slope * (1 - 2 * p) * u_owner**2
        return result

    return probability


RESIDUALS: dict[str, tuple[str, Residual]] = {
    "Taylor at 0 (before ADR 0053)": ("1, 1", lambda b, o: 0.5 + (b + o) / 4),
    "least squares on [-8, 8], degree 3": ("4, 3", _least_squares_sigmoid(3)),
    "least squares on [-8, 8], degree 7": ("8, 7", _least_squares_sigmoid(7)),
    "exact in u_b, first order in u_o (shipped)": ("2, 1", _expanded(1)),
    "exact in u_b, second order in u_o": ("3, 2", _expanded(2)),
    "exact sigmoid (not possible encrypted)": ("-", lambda b, o: sigmoid(b + o)),
}


def _train(
    residual: Residual,
    x_bank: Array,
    x_owner: Array,
    labels: Array,
    *,
    epochs: int,
    learning_rate: float,
    config: TrainingConfig,
) -> tuple[Array, Array]:
    w_bank, w_owner = np.zeros(x_bank.shape[1]), np.zeros(x_owner.shape[1])
    for epoch in range(epochs):
        for batch in epoch_batches(len(labels), config.batch_size, config.seed, epoch):
            u_bank = np.clip(x_bank[batch] @ w_bank, -SCORE_BOUND, SCORE_BOUND)
            u_owner = np.clip(x_owner[batch] @ w_owner, -SCORE_BOUND, SCORE_BOUND)
            d = residual(u_bank, u_owner) - labels[batch]
            rows = len(batch)
            w_bank = step(
                w_bank, x_bank[batch].T @ d / rows, learning_rate, config.l2, intercept=True
            )
            w_owner = step(
                w_owner, x_owner[batch].T @ d / rows, learning_rate, config.l2, intercept=False
            )
    return w_bank, w_owner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--market", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--epochs", type=int, default=TrainingConfig.epochs)
    parser.add_argument("--learning-rate", type=float, default=TrainingConfig.learning_rate)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="puhui-residuals-"))
    if not (work / "bank").exists():
        split_market(args.market, work / "bank", work / "owner", as_of=parse_month(args.as_of))
    config = TrainingConfig()
    bank = read_party(work / "bank", with_labels=True)
    clear = split_in_the_clear(bank, read_party(work / "owner", with_labels=False), config)
    xb, xo, y = clear.x_bank, clear.x_owner, clear.labels
    xb_test, xo_test, y_test = clear.x_bank_test, clear.x_owner_test, clear.labels_test
    rate = float(y_test.mean())
    print(
        f"train {len(y)} rows, held-out {len(y_test)} rows ({int(y_test.sum())} "
        f"defaults, rate {rate:.4f}); {args.epochs} epochs, learning rate {args.learning_rate}"
    )
    print(f"  {'residual':<46} {'messages':>8} {'AUC':>7} {'mean PD / rate':>15}")
    for name, (messages, residual) in RESIDUALS.items():
        w_bank, w_owner = _train(
            residual,
            xb,
            xo,
            y,
            epochs=args.epochs,
            learning_rate=args.learning_rate,
            config=config,
        )
        logits = xb_test @ w_bank + xo_test @ w_owner
        level = float(sigmoid(logits).mean()) / rate
        print(f"  {name:<46} {messages:>8} {auc(y_test, logits):>7.4f} {level:>15.2f}")
    both, both_test = np.hstack([xb, xo]), np.hstack([xb_test, xo_test])
    exact = LogisticRegression(max_iter=2000).fit(both, y)
    logits = exact.decision_function(both_test)
    level = float(sigmoid(logits).mean()) / rate
    name = "scikit-learn's exact logistic regression"
    print(f"  {name:<46} {'-':>8} {auc(y_test, logits):>7.4f} {level:>15.2f}")


if __name__ == "__main__":
    main()
