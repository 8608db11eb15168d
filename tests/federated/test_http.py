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
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from tests.federated.parties import TEST_KEY_BITS, make_parties
from typer.testing import CliRunner

from puhui.adapters.federated.owner_client import API_PREFIX, HttpOwnerPeer
from puhui.cli.main import app as cli_app
from puhui.domain.clock import SystemClock
from puhui.risk.federated.bank import TrainingConfig, checkpoint_folder, train
from puhui.risk.federated.data import read_party
from puhui.risk.federated.errors import FederatedPeerRefused, FederatedPeerUnavailable
from puhui.risk.federated.model import load_model
from puhui.risk.federated.owner import read_queries
from puhui.risk.federated.scoring import ScoringConsent
from puhui.risk.federated.signing import SharedSecret, sign_request

SECRET = b"s" * 40
CONFIG = TrainingConfig(epochs=2, batch_size=64, key_bits=TEST_KEY_BITS, seed=2)
SRC = Path(__file__).resolve().parents[2] / "src"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_owner(
    owner_dir: Path, secret_file: Path, port: int, *options: str
) -> subprocess.Popen[bytes]:
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
            *options,
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


def _post(url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
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
    consent = ScoringConsent("E000100", "AUTH-0001", date(2099, 1, 1))
    scores = HttpOwnerPeer(url, SharedSecret(SECRET)).assessment_scores(model.model_id, [consent])
    assert len(scores) == 1
    # The same enterprise scored for validation (it is in the PSI intersection) agrees.
    assert HttpOwnerPeer(url, SharedSecret(SECRET)).validation_scores(
        model.model_id, ["E000100"]
    ) == pytest.approx(scores, abs=1e-12)
    month = read_queries(root / "owner", SystemClock().today())
    assessed = [q for q in month if q["purpose"] == "assessment"]
    assert [(q["id"], q["consent_ref"], q["model_id"]) for q in assessed] == [
        ("E000100", "AUTH-0001", model.model_id)
    ]


def _signed_score(url: str, document: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    path = API_PREFIX + "/score"
    body = json.dumps(document).encode()
    headers = sign_request(SharedSecret(SECRET), "POST", path, body)
    headers["content-type"] = "application/json"
    return _post(url, path, body, headers)


def test_online_scoring_without_an_authorisation_in_force_is_refused_with_403(
    owner: tuple[str, Path, Path],
) -> None:
    url, _, root = owner
    before = read_queries(root / "owner", SystemClock().today())
    status, document = _signed_score(
        url, {"model_id": "model-none", "consents": [{"id": "E000100"}]}
    )
    assert (status, document["code"]) == (403, "federated_consent_missing")
    assert document["details"] == {"id": "E000100"}
    status, document = _signed_score(
        url,
        {
            "model_id": "model-none",
            "consents": [{"id": "E000100", "consent_ref": "AUTH-0002", "expires_on": "2020-01-31"}],
        },
    )
    assert (status, document["code"]) == (403, "federated_consent_expired")
    assert document["details"]["consent_ref"] == "AUTH-0002"
    # The old message (ids without authorisations) no longer follows the protocol.
    status, document = _signed_score(url, {"model_id": "model-none", "ids": ["E000100"]})
    assert (status, document["code"]) == (422, "invalid_federated_data")
    assert read_queries(root / "owner", SystemClock().today()) == before


def test_the_owner_limits_online_scores_a_minute_with_429_and_retry_after(
    tmp_path: Path,
) -> None:
    _, owner_dir = make_parties(tmp_path)
    secret_file = tmp_path / "secret"
    secret_file.write_bytes(SECRET)
    port = _free_port()
    process = _start_owner(owner_dir, secret_file, port, "--score-limit", "2")
    url = f"http://127.0.0.1:{port}"
    try:
        consents = [
            {"id": f"E{i:06d}", "consent_ref": f"AUTH-{i:04d}", "expires_on": "2099-01-01"}
            for i in (100, 101, 102)
        ]
        # Too many for any minute: refused as a bad request, and the limit is untouched.
        status, document = _signed_score(url, {"model_id": "model-none", "consents": consents})
        assert (status, document["code"]) == (422, "invalid_federated_data")
        # Two pass the limit (and find no such model); a third within the minute is refused.
        status, document = _signed_score(url, {"model_id": "model-none", "consents": consents[:2]})
        assert (status, document["code"]) == (404, "federated_session_unknown")
        path = API_PREFIX + "/score"
        body = json.dumps({"model_id": "model-none", "consents": consents[2:]}).encode()
        headers = sign_request(SharedSecret(SECRET), "POST", path, body)
        headers["content-type"] = "application/json"
        host, port_text = url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port_text), timeout=10)
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        document = json.loads(response.read())
        assert (response.status, document["code"]) == (429, "federated_rate_limited")
        assert 1 <= int(response.getheader("Retry-After") or "0") <= 30
        with pytest.raises(FederatedPeerRefused) as refused:
            HttpOwnerPeer(url, SharedSecret(SECRET)).assessment_scores(
                "model-none", [ScoringConsent("E000102", "AUTH-0102", date(2099, 1, 1))]
            )
        assert refused.value.details["code"] == "federated_rate_limited"
        assert refused.value.details["retry_after_seconds"] >= 1
        assert str(refused.value).endswith(f"(in {refused.value.details['retry_after_seconds']} s)")
    finally:
        process.terminate()
        process.wait(timeout=10)


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


def test_a_gradient_request_in_the_earlier_one_residual_form_is_refused_with_422(
    owner: tuple[str, Path, Path],
) -> None:
    url, _, _ = owner
    path = API_PREFIX + "/training/gradient"
    earlier = {"training_id": "t", "ids": ["E000100"], "residual": ["1f"]}
    body = json.dumps(earlier).encode()
    headers = sign_request(SharedSecret(SECRET), "POST", path, body)
    headers["content-type"] = "application/json"
    status, document = _post(url, path, body, headers)
    assert (status, document["code"]) == (422, "invalid_federated_data")
    # The fields at fault are named: the old one, and the two that replaced it.
    assert document["details"]["fields"] == ["residual", "residual_intercept", "residual_slope"]
    # A body that is not JSON at all names no field.
    headers = sign_request(SharedSecret(SECRET), "POST", path, b"{not json")
    headers["content-type"] = "application/json"
    status, document = _post(url, path, b"{not json", headers)
    assert (status, document["code"]) == (422, "invalid_federated_data")
    assert document["details"] == {"errors": 1, "fields": []}


def test_the_train_command_says_the_held_out_auc_and_the_intercept_refit(
    owner: tuple[str, Path, Path],
) -> None:
    url, bank_dir, root = owner
    (root / "secret-cli").write_bytes(SECRET)
    out = root / "model-cli"
    command = ["federated", "train", "--bank", str(bank_dir), "--owner", url]
    command += ["--secret-file", str(root / "secret-cli"), "--out", str(out)]
    command += ["--epochs", "1", "--batch-size", "64", "--key-bits", str(TEST_KEY_BITS)]
    result = CliRunner().invoke(cli_app, command)
    assert result.exit_code == 0, result.output
    calibration = load_model(out).metadata["calibration"]
    assert f"written to {out}: test AUC" in result.output
    rate, before = calibration["held_out_default_rate"], calibration["held_out_mean_pd_before"]
    assert (
        f"held-out default rate {rate:.2%}: intercept refitted by "
        f"{calibration['intercept_shift']:+.3f} (the mean PD was {before:.2%}" in result.output
    )
