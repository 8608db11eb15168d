"""The demo's federated stage (issue #18, docs/federated.md): the bank and a data owner (the
tax and utility features of the market) train one model as two processes over mutual TLS.

The market is split into the bank's folder (its flows, loans and labels) and the owner's (tax
and utilities) as of the month before lending; a federation CA and a certificate per party are
made; ``puhui federated serve`` runs as a separate process on a free loopback port; the bank
aligns by PSI and trains against it, then the stage stops the owner. Beside it, on the same
held-out part of the intersection, the same model of the bank's features alone and trained
centrally on both sides in the clear (what the federated model should equal).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

import puhui
from puhui.adapters.federated.owner_client import HttpOwnerPeer
from puhui.adapters.federated.tls import make_federation_certs
from puhui.pipelines.federated_split import split_market
from puhui.risk.federated.bank import TrainingConfig, split_in_the_clear, train
from puhui.risk.federated.data import PartyData, read_party
from puhui.risk.federated.errors import FederatedPeerUnavailable
from puhui.risk.federated.signing import SharedSecret
from puhui.risk.federated.vertical_lr import plaintext_training
from puhui.risk.metrics import auc

DEMO_KEY_BITS = 1024
"""Paillier key size of the demo's run (2048 in production: docs/benchmarks.md)."""
DEMO_EPOCHS = 2
START_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class FederatedDemo:
    train_rows: int
    test_rows: int
    test_defaults: int
    auc_bank_alone: float
    auc_central: float
    auc_federated: float
    seconds_per_epoch: float
    bytes_exchanged: int
    key_bits: int
    url: str
    held_out_mean_pd_before: float | None = None
    """The federated model's held-out mean PD before its intercept was refitted on those rows."""
    intercept_shift: float = 0.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _in_the_clear(
    bank: PartyData, owner: PartyData, config: TrainingConfig
) -> tuple[float, float, int, int, int]:
    """AUC of the bank alone and of both sides in the clear (same model, same split)."""
    clear = split_in_the_clear(bank, owner, config)

    def fit(owner_part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return plaintext_training(
            clear.x_bank,
            owner_part,
            clear.labels,
            epochs=config.epochs,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            l2=config.l2,
            seed=config.seed,
        )

    alone, _ = fit(clear.x_owner[:, :0])
    central_b, central_o = fit(clear.x_owner)
    return (
        auc(clear.labels_test, clear.x_bank_test @ alone),
        auc(clear.labels_test, clear.x_bank_test @ central_b + clear.x_owner_test @ central_o),
        len(clear.labels),
        len(clear.labels_test),
        int(clear.labels_test.sum()),
    )


def run_federated_demo(
    market_dir: Path,
    as_of: date,
    work: Path,
    *,
    epochs: int = DEMO_EPOCHS,
    key_bits: int = DEMO_KEY_BITS,
) -> FederatedDemo:
    """Split, certify, serve the owner in its own process, train over mutual TLS, compare."""
    split_market(market_dir, work / "bank", work / "owner", as_of=as_of)
    certs = make_federation_certs(work / "certs", owner_hosts=["127.0.0.1"])
    secret_file = work / "secret"
    descriptor = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32))
    secret = SharedSecret(secret_file.read_bytes())
    config = TrainingConfig(epochs=epochs, key_bits=key_bits, seed=0)
    bank = read_party(work / "bank", with_labels=True)
    alone, central, train_rows, test_rows, defaults = _in_the_clear(
        bank, read_party(work / "owner", with_labels=False), config
    )
    port = _free_port()
    url = f"https://127.0.0.1:{port}"
    owner_tls = certs.owner
    command = [sys.executable, "-m", "puhui", "federated", "serve", "--data", str(work / "owner")]
    command += ["--secret-file", str(secret_file), "--port", str(port)]
    command += ["--tls-cert", str(owner_tls.cert), "--tls-key", str(owner_tls.key)]
    command += ["--tls-ca", str(owner_tls.peer_ca)]
    source = str(Path(puhui.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH", "")) if p)
    owner = subprocess.Popen(  # noqa: S603 - our own CLI, arguments we built
        command,
        env={**os.environ, "PYTHONPATH": path},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        peer = HttpOwnerPeer(url, secret, tls=certs.bank)
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                peer.ping()
                break
            except FederatedPeerUnavailable:
                if time.monotonic() > deadline or owner.poll() is not None:
                    raise
                time.sleep(0.2)
        report = train(bank, peer, work / "model", owner_url=url, config=config)
    finally:
        owner.terminate()
        owner.wait(timeout=30)
    return FederatedDemo(
        train_rows=train_rows,
        test_rows=test_rows,
        test_defaults=defaults,
        auc_bank_alone=alone,
        auc_central=central,
        auc_federated=float(report.model.metadata["test_auc"]),
        seconds_per_epoch=float(np.mean(report.epoch_seconds)),
        bytes_exchanged=report.bytes_exchanged,
        key_bits=config.key_bits,
        url=url,
        held_out_mean_pd_before=report.model.metadata["calibration"]["held_out_mean_pd_before"],
        intercept_shift=float(report.model.metadata["calibration"]["intercept_shift"]),
    )
