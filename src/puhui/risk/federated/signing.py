"""Both-ways authentication of federated messages with a shared secret (HMAC-SHA256).

A request is signed over method, path, timestamp, nonce and the SHA-256 of its body; the
receiver refuses a bad signature (401), a timestamp outside the window (401) and a nonce it
accepted before (409). A response is signed over the request's nonce, its status and its
body, so the caller knows the answer comes from the peer and belongs to its own request. The
secret is provisioned out of band; mutual TLS with client certificates is the production
transport (docs/federated.md) and this signing stays as the application-level check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from puhui.risk.federated.errors import (
    FederatedNonceReplayed,
    FederatedRequestExpired,
    FederatedSecretTooWeak,
    FederatedSignatureInvalid,
)

TIMESTAMP_HEADER = "x-puhui-timestamp"
NONCE_HEADER = "x-puhui-nonce"
SIGNATURE_HEADER = "x-puhui-signature"
RESPONSE_SIGNATURE_HEADER = "x-puhui-response-signature"
WINDOW_SECONDS = 300
MIN_SECRET_BYTES = 32


@dataclass(frozen=True)
class SharedSecret:
    value: bytes

    def __post_init__(self) -> None:
        if len(self.value) < MIN_SECRET_BYTES:
            raise FederatedSecretTooWeak(
                f"the federated shared secret needs at least {MIN_SECRET_BYTES} bytes",
                details={"length": len(self.value)},
            )

    def mac(self, *parts: bytes) -> str:
        return hmac.new(self.value, b"\n".join(parts), hashlib.sha256).hexdigest()


def _request_mac(
    secret: SharedSecret, method: str, path: str, *, timestamp: str, nonce: str, body: bytes
) -> str:
    return secret.mac(
        b"request",
        method.upper().encode(),
        path.encode(),
        timestamp.encode(),
        nonce.encode(),
        hashlib.sha256(body).hexdigest().encode(),
    )


def sign_request(
    secret: SharedSecret, method: str, path: str, body: bytes, *, now: float | None = None
) -> dict[str, str]:
    """The headers that authenticate one request (a fresh nonce each time)."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    return {
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: _request_mac(
            secret, method, path, timestamp=timestamp, nonce=nonce, body=body
        ),
    }


def response_signature(secret: SharedSecret, nonce: str, status: int, body: bytes) -> str:
    return secret.mac(
        b"response", nonce.encode(), str(status).encode(), hashlib.sha256(body).hexdigest().encode()
    )


def verify_response(
    secret: SharedSecret, nonce: str, status: int, body: bytes, signature: str | None
) -> None:
    expected = response_signature(secret, nonce, status, body)
    if signature is None or not hmac.compare_digest(expected, signature):
        raise FederatedSignatureInvalid("the peer's answer is not signed with the shared secret")


class RequestVerifier:
    """Checks signed requests and remembers accepted nonces for the clock window."""

    def __init__(self, secret: SharedSecret, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def verify(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> str:
        """The request's nonce, once signature, clock window and freshness are checked."""
        timestamp = headers.get(TIMESTAMP_HEADER)
        nonce = headers.get(NONCE_HEADER)
        signature = headers.get(SIGNATURE_HEADER)
        if timestamp is None or nonce is None or signature is None:
            raise FederatedSignatureInvalid("the request carries no federated signature")
        expected = _request_mac(
            self._secret, method, path, timestamp=timestamp, nonce=nonce, body=body
        )
        if not hmac.compare_digest(expected, signature):
            raise FederatedSignatureInvalid("the request's signature does not match")
        now = self._clock()
        try:
            sent = int(timestamp)
        except ValueError:
            raise FederatedSignatureInvalid("the request's timestamp is not a number") from None
        if abs(now - sent) > WINDOW_SECONDS:
            raise FederatedRequestExpired(
                "the request's timestamp is outside the accepted window",
                details={"window_seconds": WINDOW_SECONDS},
            )
        with self._lock:
            # Nonces older than the window cannot come back: their timestamp would be refused.
            self._seen = {n: t for n, t in self._seen.items() if now - t <= 2 * WINDOW_SECONDS}
            if nonce in self._seen:
                raise FederatedNonceReplayed("the request's nonce was used before: refused")
            self._seen[nonce] = now
        return nonce
