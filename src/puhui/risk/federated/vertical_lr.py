"""Vertically partitioned logistic regression under Paillier: the protocol's arithmetic.

The residual of the logistic loss, d = σ(u_b + u_o) − y, cannot be formed under encryption
as it stands. It is expanded to first order in the owner's partial score around the bank's:

    d ≈ σ(u_b) − y + σ'(u_b)·u_o = c₀ + c₁·u_o,

exact in u_b (which the bank holds in the clear, intercept included) and linear in u_o (a sum
of standardised features without intercept, small around 0). The bank forms c₀ and c₁ per row;
the owner combines them with its plaintext u_o under the bank's key. For one batch of rows
(notation in docs/federated.md):

1. bank → owner: [[c₀]]_B and [[c₁]]_B (bank's key B);
2. owner: [[d]]_B = [[c₀]]_B + u_o·[[c₁]]_B, [[g_o + r_o]]_B = X_oᵀ[[d]]_B + r_o (random
   mask r_o); owner → bank: that, and [[u_o]]_O under the owner's key O;
3. bank: decrypts g_o + r_o (uniform-looking), computes [[X_bᵀ(c₁ ⊙ u_o) + r_b]]_O;
   bank → owner: both;
4. owner: removes r_o and updates w_o; decrypts X_bᵀ(c₁ ⊙ u_o) + r_b and returns it;
5. bank: removes r_b; g_b = (X_bᵀc₀ + X_bᵀ(c₁ ⊙ u_o))/m; updates w_b.

Values are fixed-point integers with ``FRACTION_BITS`` fractional bits; a product of k
encodings carries k times as many (the gradients are products of three: a feature, c₁ and
u_o). Masks are ``MASK_STATISTICAL_BITS`` longer than any value they hide.

Until this expansion the loss was the Taylor expansion of the logistic loss at 0 (σ(z) ≈ ½ +
z/4, Hardy et al. 2017): linear in both scores, so one ciphertext per row sufficed, but it fits
a linear probability model, and at a default rate of a few per cent it ranked worse than
logistic regression (docs/benchmarks.md, "Vertical federated learning").
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from puhui.risk.federated.data import CLIP_STANDARD_UNITS, Matrix
from puhui.risk.federated.errors import InvalidFederatedData
from puhui.risk.federated.paillier import KeyPair, PublicKey

FRACTION_BITS = 16
SCALE = 1 << FRACTION_BITS
SCORE_BOUND = 64.0
"""Partial scores and residuals are clipped to ±64 before encoding (a logit of 64 is certain)."""
MASK_STATISTICAL_BITS = 80
MIN_BATCH_ROWS = 32
"""A party learns its own gradient, a sum over the batch: one row alone would reveal a label."""

Vector = npt.NDArray[np.float64]


def encode(values: Vector, bound: float = SCORE_BOUND) -> list[int]:
    scaled = np.rint(np.clip(values, -bound, bound) * SCALE).astype(np.int64)
    return [int(v) for v in scaled]


def encode_matrix(features: Matrix) -> list[list[int]]:
    """Columns of a standardised matrix as fixed-point integers."""
    return [encode(features[:, j], CLIP_STANDARD_UNITS) for j in range(features.shape[1])]


def mask_bits(rows: int) -> int:
    """Bits of a mask that statistically hides a sum of ``rows`` products of three encodings
    (a feature, a slope c₁ ≤ ¼ and a score or residual, each at most ±64)."""
    value_bits = (
        rows.bit_length()
        + 3 * FRACTION_BITS
        + int(np.ceil(np.log2(SCORE_BOUND * CLIP_STANDARD_UNITS * SCORE_BOUND)))
        + 1
    )
    return value_bits + MASK_STATISTICAL_BITS


def fresh_masks(count: int, rows: int, key: PublicKey) -> list[int]:
    bits = mask_bits(rows)
    if bits + 2 >= key.bits:
        raise InvalidFederatedData(
            "the Paillier key is too short for this batch", details={"key_bits": key.bits}
        )
    return [secrets.randbits(bits) for _ in range(count)]


def check_batch(rows: int) -> None:
    if rows < MIN_BATCH_ROWS:
        raise InvalidFederatedData(
            f"a batch has at least {MIN_BATCH_ROWS} rows", details={"rows": rows}
        )


def sigmoid(z: Vector) -> Vector:
    out: Vector = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out


def bank_residual_parts(
    x_bank: Matrix, w_bank: Vector, labels: npt.NDArray[np.int8]
) -> tuple[Vector, Vector]:
    """c₀ = σ(u_b) − y and c₁ = σ'(u_b): the residual's expansion in the owner's score."""
    probability = sigmoid(np.clip(x_bank @ w_bank, -SCORE_BOUND, SCORE_BOUND))
    intercept: Vector = probability - labels.astype(np.float64)
    slope: Vector = probability * (1.0 - probability)
    return intercept, slope


def owner_gradient(
    bank_key: PublicKey,
    encrypted_intercepts: Sequence[int],
    encrypted_slopes: Sequence[int],
    x_owner: Matrix,
    w_owner: Vector,
    *,
    owner_keys: KeyPair,
) -> tuple[list[int], list[int], list[int]]:
    """Step 2: the owner's masked encrypted gradient, its encrypted partial scores, its masks."""
    rows = x_owner.shape[0]
    check_batch(rows)
    if len(encrypted_intercepts) != rows or len(encrypted_slopes) != rows:
        raise InvalidFederatedData("one encrypted residual intercept and slope per row")
    scores = x_owner @ w_owner
    encoded_scores = encode(scores)
    # [[d]] = [[c₀]]·SCALE + u_o·[[c₁]]: two fractional scales, like the product u_o·c₁.
    encrypted_residual = [
        bank_key.dot([bank_key.check(c0), bank_key.check(c1)], [SCALE, u])
        for c0, c1, u in zip(encrypted_intercepts, encrypted_slopes, encoded_scores, strict=True)
    ]
    masks = fresh_masks(x_owner.shape[1], rows, bank_key)
    masked_gradient = [
        bank_key.add_plain(bank_key.dot(encrypted_residual, column), mask)
        for column, mask in zip(encode_matrix(x_owner), masks, strict=True)
    ]
    encrypted_scores = owner_keys.public.encrypt(encoded_scores)
    return masked_gradient, encrypted_scores, masks


def bank_cross_term(
    owner_key: PublicKey, encrypted_owner_scores: Sequence[int], x_bank: Matrix, slopes: Vector
) -> tuple[list[int], list[int]]:
    """Step 3: [[X_bᵀ(c₁ ⊙ u_o) + r_b]] under the owner's key, and the bank's masks r_b."""
    rows = x_bank.shape[0]
    check_batch(rows)
    if len(encrypted_owner_scores) != rows:
        raise InvalidFederatedData("one encrypted partial score per row of the batch")
    scores = [owner_key.check(c) for c in encrypted_owner_scores]
    masks = fresh_masks(x_bank.shape[1], rows, owner_key)
    encoded_slopes = encode(slopes)
    masked = [
        owner_key.add_plain(
            owner_key.dot(scores, [x * c for x, c in zip(column, encoded_slopes, strict=True)]),
            mask,
        )
        for column, mask in zip(encode_matrix(x_bank), masks, strict=True)
    ]
    return masked, masks


def unmask(masked: Sequence[int], masks: Sequence[int], rows: int) -> Vector:
    """Σ over the batch of products of three encodings, back to a float mean per row."""
    scale = SCALE * SCALE * SCALE * rows
    return np.array([(value - mask) / scale for value, mask in zip(masked, masks, strict=True)])


def step(
    weights: Vector, mean_gradient: Vector, learning_rate: float, l2: float, *, intercept: bool
) -> Vector:
    """One gradient step with ridge penalty (never on the intercept)."""
    penalty = l2 * weights
    if intercept:
        penalty[0] = 0.0
    updated: Vector = weights - learning_rate * (mean_gradient + penalty)
    return updated


def epoch_batches(rows: int, batch_size: int, seed: int, epoch: int) -> list[npt.NDArray[np.int64]]:
    """The batches of one epoch: a seeded permutation, the short tail folded into the last."""
    order = np.random.default_rng([seed, epoch]).permutation(rows)
    count = max(1, rows // batch_size)
    return [np.asarray(part, dtype=np.int64) for part in np.array_split(order, count)]


def plaintext_training(
    x_bank: Matrix,
    x_owner: Matrix,
    labels: npt.NDArray[np.int8],
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    l2: float,
    seed: int,
) -> tuple[Vector, Vector]:
    """The same gradient descent in the clear on both sides' data (the reference): the
    residual expanded to first order in the owner's score, as the protocol forms it."""
    w_bank = np.zeros(x_bank.shape[1])
    w_owner = np.zeros(x_owner.shape[1])
    for epoch in range(epochs):
        for batch in epoch_batches(len(labels), batch_size, seed, epoch):
            xb, xo = x_bank[batch], x_owner[batch]
            intercept, slope = bank_residual_parts(xb, w_bank, labels[batch])
            residual = intercept + slope * np.clip(xo @ w_owner, -SCORE_BOUND, SCORE_BOUND)
            rows = len(batch)
            w_bank = step(w_bank, xb.T @ residual / rows, learning_rate, l2, intercept=True)
            w_owner = step(w_owner, xo.T @ residual / rows, learning_rate, l2, intercept=False)
    return w_bank, w_owner
