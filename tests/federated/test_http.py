"""Bank and data owner in two processes over signed HTTP on loopback."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.federated.parties import TEST_KEY_BITS, make_parties

from puhui.adapters.federated.owner_client import API_PREFIX, HttpOwnerPeer
from puhui.risk.federated.bank import TrainingConfig, checkpoint_folder, train
from puhui.risk.federated.data import read_party
from puhui.risk.federated.errors import FederatedPeerUnavailable
from puhui.risk.federated.model import load_model
from puhui.risk.federated.signing import SharedSecret, sign_request

SECRET = b"s" * 40
CONFIG = TrainingConfig(epochs=2, batch_size=64, key_bits=TEST_KEY_BITS, seed=2)
SRC = Path(__file__).resolve().parents[2] / "src"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_owner(owner_dir: Path, secret_file: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "puhui",
            "federated",
            "serve",
            "--data",
            str(owner_dir),
            "--secret-file",
            str(secret_file),
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", API_PREFIX + "/health")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the owner server did not start")


@pytest.fixture(scope="module")
def owner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    root = tmp_path_factory.mktemp("federated")
    bank_dir, owner_dir = make_parties(root)
    secret_file = root / "secret"
    secret_file.write_bytes(SECRET)
    port = _free_port()
    process = _start_owner(owner_dir, secret_file, port)
    yield f"http://127.0.0.1:{port}", bank_dir, root
    process.terminate()
    process.wait(timeout=10)


def _post(url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def test_training_and_scoring_across_two_processes(owner: tuple[str, Path, Path]) -> None:
    url, bank_dir, root = owner
    peer = HttpOwnerPeer(url, SharedSecret(SECRET))
    report = train(
        read_party(bank_dir, with_labels=True), peer, root / "model", owner_url=url, config=CONFIG
    )
    assert report.bytes_exchanged > 0
    model = load_model(root / "model")
    assert model.owner_features == ["o0", "o1"]
    assert model.metadata["test_auc"] > 0.6
    scores = HttpOwnerPeer(url, SharedSecret(SECRET)).partial_scores(model.model_id, ["E000100"])
    assert len(scores) == 1


def test_a_wrong_signature_is_refused_with_401(owner: tuple[str, Path, Path]) -> None:
    url, _, _ = owner
    path = API_PREFIX + "/psi"
    body = b'{"blinded":[]}'
    headers = sign_request(SharedSecret(b"w" * 40), "POST", path, body)
    status, document = _post(url, path, body, headers)
    assert (status, document["code"]) == (401, "federated_signature_invalid")


def test_a_replayed_nonce_is_refused_with_409(owner: tuple[str, Path, Path]) -> None:
    url, _, _ = owner
    path = API_PREFIX + "/psi"
    body = b'{"blinded":[]}'
    headers = sign_request(SharedSecret(SECRET), "POST", path, body)
    assert _post(url, path, body, headers)[0] == 200
    status, document = _post(url, path, body, headers)
    assert (status, document["code"]) == (409, "federated_nonce_replayed")


def test_owner_going_away_leaves_no_model_and_the_run_resumes(tmp_path: Path) -> None:
    bank_dir, owner_dir = make_parties(tmp_path)
    secret_file = tmp_path / "secret"
    secret_file.write_bytes(SECRET)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = _start_owner(owner_dir, secret_file, port)
    bank = read_party(bank_dir, with_labels=True)
    out = tmp_path / "model"

    def stop_after_first_epoch(epoch: int, seconds: float) -> None:
        if epoch == 1:
            process.terminate()
            process.wait(timeout=10)

    with pytest.raises(FederatedPeerUnavailable):
        train(
            bank,
            HttpOwnerPeer(url, SharedSecret(SECRET)),
            out,
            owner_url=url,
            config=TrainingConfig(epochs=3, batch_size=64, key_bits=TEST_KEY_BITS),
            on_epoch=stop_after_first_epoch,
        )
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".model")] == []
    assert checkpoint_folder(out).is_dir()

    restarted = _start_owner(owner_dir, secret_file, port)
    try:
        report = train(
            bank,
            HttpOwnerPeer(url, SharedSecret(SECRET)),
            out,
            owner_url=url,
            config=TrainingConfig(epochs=3, batch_size=64, key_bits=TEST_KEY_BITS),
        )
    finally:
        restarted.terminate()
        restarted.wait(timeout=10)
    assert report.resumed_from_epoch == 1
    assert len(report.epoch_seconds) == 3
    assert load_model(out).model_id == report.model.model_id
    assert not checkpoint_folder(out).exists()
