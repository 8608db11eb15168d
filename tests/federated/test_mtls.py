"""The bank and the data owner over mutual TLS, two processes on loopback: the owner refuses a
bank without a certificate its CA signed, the bank refuses an owner it cannot verify, and
training and scoring run end to end over the verified channel."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from tests.federated.parties import TEST_KEY_BITS, make_parties
from tests.federated.test_http import SECRET, SRC, _free_port
from typer.testing import CliRunner

from puhui.adapters.federated.owner_client import HttpOwnerPeer
from puhui.adapters.federated.tls import FederationCerts, PartyTls, make_federation_certs
from puhui.cli.main import app
from puhui.risk.federated.bank import TrainingConfig, train
from puhui.risk.federated.data import read_party
from puhui.risk.federated.errors import FederatedPeerUnavailable, InvalidFederatedData
from puhui.risk.federated.model import load_model
from puhui.risk.federated.scoring import ScoringConsent
from puhui.risk.federated.signing import SharedSecret

runner = CliRunner()


@dataclass(frozen=True)
class Owner:
    url: str
    bank_dir: Path
    root: Path
    certs: FederationCerts


def _start_tls_owner(
    owner_dir: Path, secret_file: Path, port: int, tls: PartyTls
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    command = [sys.executable, "-m", "puhui", "federated", "serve", "--data", str(owner_dir)]
    command += ["--secret-file", str(secret_file), "--port", str(port)]
    command += [
        "--tls-cert",
        str(tls.cert),
        "--tls-key",
        str(tls.key),
        "--tls-ca",
        str(tls.peer_ca),
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def owner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Owner]:
    root = tmp_path_factory.mktemp("federated-mtls")
    bank_dir, owner_dir = make_parties(root)
    certs = make_federation_certs(root / "certs", owner_hosts=["127.0.0.1", "localhost"])
    secret_file = root / "secret"
    secret_file.write_bytes(SECRET)
    port = _free_port()
    process = _start_tls_owner(owner_dir, secret_file, port, certs.owner)
    url = f"https://127.0.0.1:{port}"
    peer = HttpOwnerPeer(url, SharedSecret(SECRET), tls=certs.bank, timeout_seconds=2)
    deadline = time.monotonic() + 30
    while True:
        try:
            peer.ping()
            break
        except FederatedPeerUnavailable:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.2)
    yield Owner(url, bank_dir, root, certs)
    process.terminate()
    process.wait(timeout=10)


def test_training_and_scoring_run_over_mutual_tls(owner: Owner) -> None:
    peer = HttpOwnerPeer(owner.url, SharedSecret(SECRET), tls=owner.certs.bank)
    report = train(
        read_party(owner.bank_dir, with_labels=True),
        peer,
        owner.root / "model",
        owner_url=owner.url,
        config=TrainingConfig(epochs=1, batch_size=64, key_bits=TEST_KEY_BITS, seed=2),
    )
    assert report.bytes_exchanged > 0
    model = load_model(owner.root / "model")
    assert model.owner_url == owner.url
    scores = HttpOwnerPeer(owner.url, SharedSecret(SECRET), tls=owner.certs.bank).assessment_scores(
        model.model_id, [ScoringConsent("E000100", "AUTH-0001", date(2099, 1, 1))]
    )
    assert len(scores) == 1


def test_a_bank_without_a_certificate_of_the_federation_is_refused(
    owner: Owner, tmp_path: Path
) -> None:
    stranger = make_federation_certs(tmp_path / "other", owner_hosts=["127.0.0.1"])
    # A certificate of another CA: the owner's handshake refuses it.
    wrong_client = PartyTls(stranger.bank.cert, stranger.bank.key, owner.certs.ca)
    with pytest.raises(FederatedPeerUnavailable):
        HttpOwnerPeer(owner.url, SharedSecret(SECRET), tls=wrong_client).ping()
    # No certificate at all: refused as well.
    host, port = owner.url.removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=str(owner.certs.ca))
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
        import http.client

        connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=5)
        connection.request("GET", "/federated/v1/health")
        connection.getresponse()
    # Plain HTTP to the TLS port gets no answer either.
    with pytest.raises(FederatedPeerUnavailable):
        HttpOwnerPeer(f"http://{host}:{port}", SharedSecret(SECRET), timeout_seconds=5).ping()


def test_the_bank_refuses_an_owner_its_ca_did_not_sign(owner: Owner, tmp_path: Path) -> None:
    stranger = make_federation_certs(tmp_path / "other", owner_hosts=["127.0.0.1"])
    # Our own client certificate, but trusting only another CA: the owner's does not verify.
    distrustful = PartyTls(owner.certs.bank.cert, owner.certs.bank.key, stranger.ca)
    with pytest.raises(FederatedPeerUnavailable):
        HttpOwnerPeer(owner.url, SharedSecret(SECRET), tls=distrustful).ping()


def test_tls_settings_are_checked_before_anything_is_sent(tmp_path: Path) -> None:
    certs = make_federation_certs(tmp_path / "certs", owner_hosts=["localhost"])
    assert oct(certs.bank.key.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(InvalidFederatedData):
        HttpOwnerPeer("https://127.0.0.1:1", SharedSecret(SECRET))  # https needs certificates
    with pytest.raises(InvalidFederatedData):
        HttpOwnerPeer("http://127.0.0.1:1", SharedSecret(SECRET), tls=certs.bank)
    with pytest.raises(InvalidFederatedData):
        make_federation_certs(tmp_path / "certs", owner_hosts=["localhost"])  # no overwrite
    missing = PartyTls(tmp_path / "nope.pem", certs.bank.key, certs.ca)
    with pytest.raises(InvalidFederatedData):
        missing.client_context()


def test_the_cli_writes_certificates_and_refuses_half_a_tls_setting(tmp_path: Path) -> None:
    made = runner.invoke(
        app, ["federated", "certs", "--out", str(tmp_path / "c"), "--owner-host", "127.0.0.1"]
    )
    assert made.exit_code == 0, made.output
    assert {p.name for p in (tmp_path / "c").iterdir()} == {
        "ca.pem",
        "owner.pem",
        "owner-key.pem",
        "bank.pem",
        "bank-key.pem",
    }
    (tmp_path / "secret").write_bytes(SECRET)
    half = runner.invoke(
        app,
        [
            "federated",
            "score",
            "--model",
            str(tmp_path / "none"),
            "--bank",
            str(tmp_path / "none"),
            "--uscc",
            "X",
            "--consent-ref",
            "AUTH-0001",
            "--consent-expires",
            "2099-01-01",
            "--secret-file",
            str(tmp_path / "secret"),
            "--tls-cert",
            str(tmp_path / "c" / "bank.pem"),
        ],
    )
    assert half.exit_code == 2
    assert "--tls-key" in half.output
