"""Signed federated messages: bad signatures, stale timestamps and replays are refused."""

from __future__ import annotations

import pytest

from puhui.risk.federated.errors import (
    FederatedNonceReplayed,
    FederatedRequestExpired,
    FederatedSecretTooWeak,
    FederatedSignatureInvalid,
)
from puhui.risk.federated.signing import (
    RequestVerifier,
    SharedSecret,
    response_signature,
    sign_request,
    verify_response,
)

SECRET = SharedSecret(b"k" * 32)
NOW = 1_800_000_000.0


def test_a_signed_request_passes_once_and_its_replay_is_refused() -> None:
    verifier = RequestVerifier(SECRET, clock=lambda: NOW)
    headers = sign_request(SECRET, "POST", "/federated/v1/psi", b"{}", now=NOW)
    verifier.verify("POST", "/federated/v1/psi", headers, b"{}")
    with pytest.raises(FederatedNonceReplayed):
        verifier.verify("POST", "/federated/v1/psi", headers, b"{}")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/federated/v1/psi", b"{}"),
        ("POST", "/federated/v1/score", b"{}"),
        ("POST", "/federated/v1/psi", b"{ }"),
    ],
)
def test_a_signature_covers_method_path_and_body(method: str, path: str, body: bytes) -> None:
    headers = sign_request(SECRET, "POST", "/federated/v1/psi", b"{}", now=NOW)
    with pytest.raises(FederatedSignatureInvalid):
        RequestVerifier(SECRET, clock=lambda: NOW).verify(method, path, headers, body)


def test_a_stale_timestamp_is_refused() -> None:
    headers = sign_request(SECRET, "POST", "/p", b"", now=NOW - 3600)
    with pytest.raises(FederatedRequestExpired):
        RequestVerifier(SECRET, clock=lambda: NOW).verify("POST", "/p", headers, b"")


def test_an_answer_must_be_signed_for_this_request() -> None:
    signature = response_signature(SECRET, "nonce-1", 200, b"{}")
    verify_response(SECRET, "nonce-1", 200, b"{}", signature)
    with pytest.raises(FederatedSignatureInvalid):
        verify_response(SECRET, "nonce-2", 200, b"{}", signature)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(FederatedSecretTooWeak):
        SharedSecret(b"short")
