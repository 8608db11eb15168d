"""The bank's side of a federated run: align by PSI, train epoch by epoch, checkpoint, commit.

Nothing is written at ``out`` until the owner has committed its part: the model is assembled
in a temporary sibling folder and renamed at the end. After every completed epoch both sides
checkpoint (the bank in ``<out>.checkpoint``, the owner in its folder), so a run interrupted
by either side going away resumes from the last completed epoch with fresh keys.
"""

from __future__ import annotations

import json
import logging
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from puhui.risk.federated import psi
from puhui.risk.federated.data import Matrix, PartyData, Standardiser, with_intercept
from puhui.risk.federated.errors import InvalidFederatedData
from puhui.risk.federated.model import FederatedModel, intercept_shift, write_model
from puhui.risk.federated.paillier import KeyPair, PublicKey
from puhui.risk.federated.peer import OwnerPeer
from puhui.risk.federated.vertical_lr import (
    MIN_BATCH_ROWS,
    Vector,
    bank_cross_term,
    bank_residual_parts,
    encode,
    epoch_batches,
    sigmoid,
    step,
    unmask,
)
from puhui.risk.metrics import auc

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingConfig:
    epochs: int = 8
    batch_size: int = 256
    learning_rate: float = 0.8
    l2: float = 1e-3
    key_bits: int = 2048
    seed: int = 0
    test_share: float = 0.3


@dataclass
class _State:
    """What the bank checkpoints after each epoch."""

    training_id: str
    session_id: str
    train_ids: list[str]
    test_ids: list[str]
    standardiser: dict[str, Any]
    weights: list[float]
    epochs_done: int
    epoch_seconds: list[float]
    bytes_exchanged: int


@dataclass(frozen=True)
class TrainingReport:
    model: FederatedModel
    epoch_seconds: list[float]
    bytes_exchanged: int
    resumed_from_epoch: int


def checkpoint_folder(out: Path) -> Path:
    return out.with_name(out.name + ".checkpoint")


def split_ids(shared: list[str], test_share: float, seed: int) -> tuple[list[str], list[str]]:
    """A seeded train/test split of the intersection (the test part is the held-out measure)."""
    order = sorted(shared)
    permuted = [order[i] for i in np.random.default_rng(seed).permutation(len(order))]
    cut = round(len(permuted) * (1.0 - test_share))
    return permuted[:cut], permuted[cut:]


@dataclass(frozen=True)
class ClearSplit:
    """Both sides' data in the clear on the training split and the held-out part of their
    intersection, standardised on the training rows (the bank's with its intercept column):
    the baselines a federated model is compared with."""

    x_bank: Matrix
    x_owner: Matrix
    labels: np.ndarray[Any, np.dtype[np.int8]]
    x_bank_test: Matrix
    x_owner_test: Matrix
    labels_test: np.ndarray[Any, np.dtype[np.int8]]


def split_in_the_clear(bank: PartyData, owner: PartyData, config: TrainingConfig) -> ClearSplit:
    """The split ``train`` makes (the same ids, the same standardisation), with both sides'
    features at hand: for benchmarks and the demo, never for a real owner's data."""
    labels = bank.labels
    if labels is None:
        raise InvalidFederatedData("the bank's folder has no labels")
    shared = sorted(set(bank.ids) & set(owner.ids))
    train_ids, test_ids = split_ids(shared, config.test_share, config.seed)
    bank_std = Standardiser.fit(bank.features[bank.rows_of(train_ids)])
    owner_std = Standardiser.fit(owner.features[owner.rows_of(train_ids)])
    return ClearSplit(
        x_bank=with_intercept(bank_std.transform(bank.features[bank.rows_of(train_ids)])),
        x_owner=owner_std.transform(owner.features[owner.rows_of(train_ids)]),
        labels=labels[bank.rows_of(train_ids)],
        x_bank_test=with_intercept(bank_std.transform(bank.features[bank.rows_of(test_ids)])),
        x_owner_test=owner_std.transform(owner.features[owner.rows_of(test_ids)]),
        labels_test=labels[bank.rows_of(test_ids)],
    )


def align(bank: PartyData, peer: OwnerPeer) -> tuple[str, list[str]]:
    """Private set intersection: the PSI session id and the shared ids in the bank's order."""
    key = psi.PsiKey()
    session_id, answer = peer.psi(key.blind_ids(bank.ids))
    shared, positions = psi.bank_intersection(key, bank.ids, answer)
    peer.align(session_id, positions)
    return session_id, shared


def _fresh_state(bank: PartyData, peer: OwnerPeer, config: TrainingConfig) -> _State:
    session_id, shared = align(bank, peer)
    train_ids, test_ids = split_ids(shared, config.test_share, config.seed)
    standardiser = Standardiser.fit(bank.features[bank.rows_of(train_ids)])
    return _State(
        training_id=secrets.token_hex(12),
        session_id=session_id,
        train_ids=train_ids,
        test_ids=test_ids,
        standardiser=standardiser.to_dict(),
        weights=[0.0] * (len(bank.feature_names) + 1),
        epochs_done=0,
        epoch_seconds=[],
        bytes_exchanged=0,
    )


def _save_state(folder: Path, state: _State) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / "state.json.tmp"
    temporary.write_text(json.dumps(asdict(state)), encoding="utf-8")
    temporary.replace(folder / "state.json")


def _load_state(folder: Path) -> _State | None:
    path = folder / "state.json"
    if not path.is_file():
        return None
    return _State(**json.loads(path.read_text(encoding="utf-8")))


def train(
    bank: PartyData,
    peer: OwnerPeer,
    out: Path,
    *,
    owner_url: str,
    config: TrainingConfig | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> TrainingReport:
    """Train with the owner and write the model at ``out`` (resuming a checkpoint if present)."""
    config = config or TrainingConfig()
    all_labels = bank.labels
    if all_labels is None:
        raise InvalidFederatedData("the bank's data carries the labels")
    if config.batch_size < MIN_BATCH_ROWS:
        raise InvalidFederatedData(f"a batch has at least {MIN_BATCH_ROWS} rows")
    checkpoints = checkpoint_folder(out)
    state = _load_state(checkpoints)
    resumed_from = 0 if state is None else state.epochs_done
    if state is None:
        state = _fresh_state(bank, peer, config)
        _save_state(checkpoints, state)
    else:
        logger.info("resuming federated training after epoch %d", state.epochs_done)
    rows = bank.rows_of(state.train_ids)
    standardiser = Standardiser.from_dict(state.standardiser)
    x_bank = with_intercept(standardiser.transform(bank.features[rows]))
    labels = all_labels[rows]
    weights: Vector = np.array(state.weights)
    keys = KeyPair(config.key_bits)
    bytes_before = peer.bytes_exchanged
    owner_n, owner_features = peer.open_training(
        training_id=state.training_id,
        session_id=state.session_id,
        train_ids=state.train_ids,
        bank_key_n=keys.public.n,
        key_bits=config.key_bits,
        learning_rate=config.learning_rate,
        l2=config.l2,
        resume_epoch=state.epochs_done,
    )
    owner_key = PublicKey(owner_n)
    for epoch in range(state.epochs_done, config.epochs):
        started = time.perf_counter()
        for batch in epoch_batches(len(labels), config.batch_size, config.seed, epoch):
            weights = _batch_step(
                peer,
                state=state,
                keys=keys,
                owner_key=owner_key,
                x_bank=x_bank,
                labels=labels,
                weights=weights,
                batch=batch,
                config=config,
            )
        peer.end_epoch(state.training_id, epoch + 1)
        seconds = time.perf_counter() - started
        state.weights = [float(w) for w in weights]
        state.epochs_done = epoch + 1
        state.epoch_seconds.append(seconds)
        state.bytes_exchanged += peer.bytes_exchanged - bytes_before
        bytes_before = peer.bytes_exchanged
        _save_state(checkpoints, state)
        if on_epoch is not None:
            on_epoch(epoch + 1, seconds)
    model = _finish(
        bank,
        all_labels=all_labels,
        peer=peer,
        out=out,
        state=state,
        standardiser=standardiser,
        owner_url=owner_url,
        owner_features=owner_features,
        config=config,
    )
    state.bytes_exchanged += peer.bytes_exchanged - bytes_before
    shutil.rmtree(checkpoints, ignore_errors=True)
    return TrainingReport(model, state.epoch_seconds, state.bytes_exchanged, resumed_from)


def _batch_step(
    peer: OwnerPeer,
    *,
    state: _State,
    keys: KeyPair,
    owner_key: PublicKey,
    x_bank: np.ndarray[Any, np.dtype[np.float64]],
    labels: np.ndarray[Any, np.dtype[np.int8]],
    weights: Vector,
    batch: np.ndarray[Any, np.dtype[np.int64]],
    config: TrainingConfig,
) -> Vector:
    xb = x_bank[batch]
    intercepts, slopes = bank_residual_parts(xb, weights, labels[batch])
    ids = [state.train_ids[i] for i in batch]
    masked_owner_gradient, encrypted_owner_scores = peer.gradient(
        state.training_id,
        ids,
        keys.public.encrypt(encode(intercepts)),
        keys.public.encrypt(encode(slopes)),
    )
    owner_gradient_plus_mask = [keys.decrypt(c) for c in masked_owner_gradient]
    masked_cross, masks = bank_cross_term(owner_key, encrypted_owner_scores, xb, slopes)
    cross = unmask(
        peer.update(state.training_id, owner_gradient_plus_mask, masked_cross), masks, len(batch)
    )
    gradient = xb.T @ intercepts / len(batch) + cross
    return step(weights, gradient, config.learning_rate, config.l2, intercept=True)


def _finish(
    bank: PartyData,
    *,
    all_labels: np.ndarray[Any, np.dtype[np.int8]],
    peer: OwnerPeer,
    out: Path,
    state: _State,
    standardiser: Standardiser,
    owner_url: str,
    owner_features: list[str],
    config: TrainingConfig,
) -> FederatedModel:
    model_id = state.training_id
    peer.commit(state.training_id, model_id)
    test_rows = bank.rows_of(state.test_ids)
    owner_scores = np.array(peer.validation_scores(model_id, state.test_ids))
    model = FederatedModel(
        model_id=model_id,
        owner_url=owner_url,
        bank_features=list(bank.feature_names),
        owner_features=owner_features,
        weights=list(state.weights),
        standardiser=standardiser,
        metadata={
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "learning_rate": config.learning_rate,
            "l2": config.l2,
            "key_bits": config.key_bits,
            "train_rows": len(state.train_ids),
            "test_rows": len(state.test_ids),
            "bank_data_hash": bank.data_hash,
            "epoch_seconds": state.epoch_seconds,
            "bytes_exchanged": state.bytes_exchanged,
        },
    )
    test_labels = all_labels[test_rows]
    logits = model.bank_scores(bank.features[test_rows]) + owner_scores
    # The held-out AUC does not depend on the intercept; the level of the probabilities does.
    model.metadata["test_auc"] = auc(test_labels, logits)
    shift = intercept_shift(logits, test_labels)
    model.weights[0] += shift
    model.metadata["calibration"] = {
        "intercept_shift": shift,
        "held_out_default_rate": float(np.mean(test_labels)) if len(test_labels) else None,
        "held_out_mean_pd_before": float(np.mean(sigmoid(logits))) if len(test_labels) else None,
    }
    write_model(model, out)
    return model
