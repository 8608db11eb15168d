"""Vertical federated learning on a held-out market: AUC, time per epoch, bytes exchanged.

Usage: PYTHONPATH=src .venv/bin/python bench/federated.py --market DIR --as-of YYYY-MM
       [--key-bits 2048] [--epochs 8] [--batch-size 256] [--work DIR]

Splits the market into the bank's and the owner's folders (``puhui federated split``), starts
the owner as a separate process (``puhui federated serve``) on a free loopback port and trains
the bank's side against it over signed HTTP. Baselines in the same run, on the same held-out
part of the intersection: the bank alone (its features only) and the same model trained
centrally on both sides' data in the clear (the same gradient descent on the same expanded
residual, and scikit-learn's exact logistic regression for reference). Also the federated
model's calibration: its mean PD on the held-out rows before the intercept is refitted on them.
"""

from __future__ import annotations

import argparse
import http.client
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from puhui.adapters.federated.owner_client import API_PREFIX, HttpOwnerPeer
from puhui.market.params import parse_month
from puhui.pipelines.federated_split import split_market
from puhui.risk.federated.bank import TrainingConfig, split_in_the_clear, train
from puhui.risk.federated.data import read_party
from puhui.risk.federated.signing import SharedSecret
from puhui.risk.federated.vertical_lr import plaintext_training
from puhui.risk.metrics import auc

SRC = Path(__file__).resolve().parents[1] / "src"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_owner(owner_dir: Path, secret_file: Path, port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "puhui", "federated", "serve", "--data", str(owner_dir)]
    command += ["--secret-file", str(secret_file), "--port", str(port)]
    process = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": str(SRC)})
    for _ in range(300):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", API_PREFIX + "/health")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the owner did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--market", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--key-bits", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="puhui-federated-"))
    summary = split_market(
        args.market, work / "bank", work / "owner", as_of=parse_month(args.as_of)
    )
    print(
        f"bank {summary.bank_rows} rows, owner {summary.owner_rows}, shared "
        f"{summary.shared_rows}, default rate {summary.default_rate:.3f}"
    )
    config = TrainingConfig(
        epochs=args.epochs, batch_size=args.batch_size, key_bits=args.key_bits, seed=0
    )
    bank = read_party(work / "bank", with_labels=True)
    clear = split_in_the_clear(bank, read_party(work / "owner", with_labels=False), config)
    xb, xo, y = clear.x_bank, clear.x_owner, clear.labels
    xb_test, xo_test, y_test = clear.x_bank_test, clear.x_owner_test, clear.labels_test

    def fit(owner_part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return plaintext_training(
            xb,
            owner_part,
            y,
            epochs=config.epochs,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            l2=config.l2,
            seed=config.seed,
        )

    started = time.perf_counter()
    wb_alone, _ = fit(xo[:, :0])
    wb_central, wo_central = fit(xo)
    plaintext_seconds = time.perf_counter() - started
    exact_bank = LogisticRegression(max_iter=2000).fit(xb, y)
    exact_central = LogisticRegression(max_iter=2000).fit(np.hstack([xb, xo]), y)
    results = {
        "bank alone (GD, its features only)": auc(y_test, xb_test @ wb_alone),
        "central, both sides in clear (same GD)": auc(
            y_test, xb_test @ wb_central + xo_test @ wo_central
        ),
        "bank alone (exact LR, sklearn)": auc(y_test, exact_bank.decision_function(xb_test)),
        "central (exact LR, sklearn)": auc(
            y_test, exact_central.decision_function(np.hstack([xb_test, xo_test]))
        ),
    }
    secret_file = work / "secret"
    secret_file.write_bytes(secrets.token_hex(32).encode())
    port = _free_port()
    process = _start_owner(work / "owner", secret_file, port)
    url = f"http://127.0.0.1:{port}"
    try:
        started = time.perf_counter()
        report = train(
            bank,
            HttpOwnerPeer(url, SharedSecret(secret_file.read_bytes())),
            work / f"model-{secrets.token_hex(3)}",
            owner_url=url,
            config=config,
            on_epoch=lambda epoch, seconds: print(f"  epoch {epoch}: {seconds:.1f} s", flush=True),
        )
        federated_seconds = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)
    results["federated (Paillier, two processes)"] = float(report.model.metadata["test_auc"])
    print(f"train {len(y)} rows, held-out {len(y_test)} rows ({int(y_test.sum())} defaults)")
    for name, value in results.items():
        print(f"  AUC {name:<48} {value:.4f}")
    federated = results["federated (Paillier, two processes)"]
    central = results["central, both sides in clear (same GD)"]
    print(f"  federated - central (same model): {federated - central:+.4f}")
    alone = results["bank alone (GD, its features only)"]
    print(f"  federated - bank alone:           {federated - alone:+.4f}")
    calibration = report.model.metadata["calibration"]
    print(
        f"  held-out default rate {calibration['held_out_default_rate']:.4f}, mean PD before the "
        f"intercept refit {calibration['held_out_mean_pd_before']:.4f} "
        f"(shift {calibration['intercept_shift']:+.3f})"
    )
    epoch_mean = float(np.mean(report.epoch_seconds))
    print(
        f"  {args.key_bits}-bit keys: {epoch_mean:.1f} s per epoch "
        f"({len(y) / epoch_mean:.0f} rows/s), whole run {federated_seconds:.1f} s; "
        f"plaintext both models {plaintext_seconds:.3f} s "
        f"(ratio {federated_seconds / plaintext_seconds:,.0f}x)"
    )
    print(
        f"  bytes exchanged {report.bytes_exchanged:,} "
        f"({report.bytes_exchanged / len(y) / config.epochs:,.0f} per training row per "
        "epoch, PSI included)"
    )


if __name__ == "__main__":
    main()
