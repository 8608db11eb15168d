"""The encrypted protocol computes the same model as plaintext gradient descent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.federated.parties import TEST_KEY_BITS, make_parties

from puhui.risk.federated.bank import TrainingConfig, checkpoint_folder, split_ids, train
from puhui.risk.federated.data import Standardiser, read_party, with_intercept
from puhui.risk.federated.model import load_model
from puhui.risk.federated.owner import OwnerParty
from puhui.risk.federated.peer import InProcessOwner
from puhui.risk.federated.vertical_lr import plaintext_training

CONFIG = TrainingConfig(epochs=2, batch_size=64, key_bits=TEST_KEY_BITS, seed=1)


def test_encrypted_training_matches_plaintext_gradient_descent(tmp_path: Path) -> None:
    bank_dir, owner_dir = make_parties(tmp_path)
    bank = read_party(bank_dir, with_labels=True)
    owner = OwnerParty(owner_dir)
    report = train(
        bank, InProcessOwner(owner), tmp_path / "model", owner_url="local", config=CONFIG
    )

    model = load_model(tmp_path / "model")
    shared = sorted(set(bank.ids) & set(owner.data.ids))
    train_ids, _ = split_ids(shared, CONFIG.test_share, CONFIG.seed)
    x_bank_raw = bank.features[bank.rows_of(train_ids)]
    x_owner_raw = owner.data.features[owner.data.rows_of(train_ids)]
    assert bank.labels is not None
    expected_bank, expected_owner = plaintext_training(
        with_intercept(Standardiser.fit(x_bank_raw).transform(x_bank_raw)),
        Standardiser.fit(x_owner_raw).transform(x_owner_raw),
        bank.labels[bank.rows_of(train_ids)],
        epochs=CONFIG.epochs,
        batch_size=CONFIG.batch_size,
        learning_rate=CONFIG.learning_rate,
        l2=CONFIG.l2,
        seed=CONFIG.seed,
    )
    # The intercept is then refitted on the held-out rows (calibration in the large).
    shift = model.metadata["calibration"]["intercept_shift"]
    assert shift != 0.0
    np.testing.assert_allclose(model.weights[1:], expected_bank[1:], atol=1e-4)
    assert model.weights[0] == pytest.approx(expected_bank[0] + shift, abs=1e-4)
    _, test_ids = split_ids(shared, CONFIG.test_share, CONFIG.seed)
    held_out = model.probabilities(
        bank.features[bank.rows_of(test_ids)],
        np.array(owner.validation_scores(model.model_id, test_ids)),
    )
    rate = bank.labels[bank.rows_of(test_ids)].mean()
    assert held_out.mean() == pytest.approx(rate, abs=1e-6)
    assert model.metadata["calibration"]["held_out_default_rate"] == pytest.approx(rate)
    owner_part = owner.validation_scores(model.model_id, train_ids)
    x_owner = Standardiser.fit(x_owner_raw).transform(x_owner_raw)
    np.testing.assert_allclose(owner_part, x_owner @ expected_owner, atol=1e-3)
    assert report.model.metadata["test_auc"] > 0.6
    assert not checkpoint_folder(tmp_path / "model").exists()
