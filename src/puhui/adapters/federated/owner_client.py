"""The bank's HTTP client of a data owner: signed requests, verified answers, bytes counted.

One connection per request (loopback or a private link: a retry on a reused connection could
apply a training step twice, so nothing is retried). Over ``https://`` the connection is mutual
TLS (``adapters.federated.tls``): the bank presents its certificate and verifies the owner's.
Any failure to get an answer is ``FederatedPeerUnavailable``; an answer that is an error is
``FederatedPeerRefused`` carrying the owner's code.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

from puhui.adapters.federated.tls import PartyTls
from puhui.risk.federated import wire
from puhui.risk.federated.errors import (
    FederatedPeerRefused,
    FederatedPeerUnavailable,
    InvalidFederatedData,
)
from puhui.risk.federated.psi import OwnerPsiAnswer
from puhui.risk.federated.scoring import ScoringConsent
from puhui.risk.federated.signing import (
    NONCE_HEADER,
    RESPONSE_SIGNATURE_HEADER,
    SharedSecret,
    sign_request,
    verify_response,
)

API_PREFIX = "/federated/v1"


class HttpOwnerPeer:
    """Implements ``OwnerPeer`` against ``puhui federated serve``."""

    def __init__(
        self,
        base_url: str,
        secret: SharedSecret,
        *,
        tls: PartyTls | None = None,
        timeout_seconds: float = 300.0,
    ):
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or parts.hostname is None:
            raise InvalidFederatedData(
                "the owner URL is https://host:port (mutual TLS) or http://host:port (loopback)"
            )
        if (parts.scheme == "https") != (tls is not None):
            raise InvalidFederatedData(
                "an https:// owner needs the bank's TLS certificate, key and the owner's CA "
                "(--tls-cert, --tls-key, --tls-ca); an http:// one takes none"
            )
        self._host = parts.hostname
        self._port = parts.port or (443 if tls is not None else 80)
        self._prefix = parts.path.rstrip("/") + API_PREFIX
        self._secret = secret
        self._timeout = timeout_seconds
        self._context = None if tls is None else tls.client_context()
        self.bytes_exchanged = 0

    def _connection(self) -> http.client.HTTPConnection:
        if self._context is None:
            return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        return http.client.HTTPSConnection(
            self._host, self._port, timeout=self._timeout, context=self._context
        )

    def ping(self) -> None:
        """Reach the owner (over mutual TLS when configured); unavailable otherwise."""
        connection = self._connection()
        try:
            connection.request("GET", self._prefix + "/health")
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException) as error:
            raise FederatedPeerUnavailable(
                "the data owner did not answer",
                details={"path": "/health", "error": type(error).__name__},
            ) from None
        finally:
            connection.close()
        if status != 200:
            raise FederatedPeerUnavailable(
                "the data owner is not healthy", details={"status": status}
            )

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        full_path = self._prefix + path
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        headers = sign_request(self._secret, "POST", full_path, body)
        headers["content-type"] = "application/json"
        connection = self._connection()
        try:
            connection.request("POST", full_path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as error:
            raise FederatedPeerUnavailable(
                "the data owner did not answer",
                details={"path": path, "error": type(error).__name__},
            ) from None
        finally:
            connection.close()
        self.bytes_exchanged += len(body) + len(data)
        verify_response(
            self._secret,
            headers[NONCE_HEADER],
            response.status,
            data,
            response.getheader(RESPONSE_SIGNATURE_HEADER),
        )
        try:
            document = json.loads(data)
        except ValueError:
            raise InvalidFederatedData("the owner's answer is not JSON") from None
        if not isinstance(document, dict):
            raise InvalidFederatedData("the owner's answer is not a JSON object")
        if response.status != 200:
            details: dict[str, Any] = {"status": response.status, "code": document.get("code")}
            message = f"the data owner refused: {document.get('message', '')}"
            refused = document.get("details")
            if isinstance(refused, dict) and isinstance(refused.get("retry_after_seconds"), int):
                details["retry_after_seconds"] = refused["retry_after_seconds"]
                message += f" (in {refused['retry_after_seconds']} s)"
            raise FederatedPeerRefused(message, details=details)
        return document

    def psi(self, bank_blinded: list[bytes]) -> tuple[str, OwnerPsiAnswer]:
        answer = self._post("/psi", {"blinded": wire.points_out(bank_blinded)})
        return str(answer["session_id"]), OwnerPsiAnswer(
            wire.points_in(answer["double_blinded"]), wire.points_in(answer["owner_blinded"])
        )

    def align(self, session_id: str, positions: list[int]) -> int:
        answer = self._post("/align", {"session_id": session_id, "positions": positions})
        return int(answer["shared"])

    def open_training(
        self,
        *,
        training_id: str,
        session_id: str,
        train_ids: list[str],
        bank_key_n: int,
        key_bits: int,
        learning_rate: float,
        l2: float,
        resume_epoch: int,
    ) -> tuple[int, list[str]]:
        answer = self._post(
            "/training/open",
            {
                "training_id": training_id,
                "session_id": session_id,
                "train_ids": train_ids,
                "bank_key_n": wire.ints_out([bank_key_n])[0],
                "key_bits": key_bits,
                "learning_rate": learning_rate,
                "l2": l2,
                "resume_epoch": resume_epoch,
            },
        )
        return wire.int_in(answer["owner_key_n"]), [str(f) for f in answer["features"]]

    def gradient(
        self,
        training_id: str,
        ids: list[str],
        encrypted_intercepts: list[int],
        encrypted_slopes: list[int],
    ) -> tuple[list[int], list[int]]:
        answer = self._post(
            "/training/gradient",
            {
                "training_id": training_id,
                "ids": ids,
                "residual_intercept": wire.ints_out(encrypted_intercepts),
                "residual_slope": wire.ints_out(encrypted_slopes),
            },
        )
        return wire.ints_in(answer["masked_gradient"]), wire.ints_in(answer["scores"])

    def update(
        self, training_id: str, masked_gradient: list[int], encrypted_cross: list[int]
    ) -> list[int]:
        answer = self._post(
            "/training/update",
            {
                "training_id": training_id,
                "masked_gradient": wire.ints_out(masked_gradient),
                "cross": wire.ints_out(encrypted_cross),
            },
        )
        return wire.ints_in(answer["masked_cross"])

    def end_epoch(self, training_id: str, epoch: int) -> None:
        self._post("/training/epoch", {"training_id": training_id, "epoch": epoch})

    def commit(self, training_id: str, model_id: str) -> None:
        self._post("/training/commit", {"training_id": training_id, "model_id": model_id})

    def assessment_scores(self, model_id: str, consents: list[ScoringConsent]) -> list[float]:
        answer = self._post(
            "/score",
            {
                "model_id": model_id,
                "consents": [
                    {
                        "id": c.enterprise_id,
                        "consent_ref": c.reference,
                        "expires_on": c.expires_on.isoformat(),
                    }
                    for c in consents
                ],
            },
        )
        return [float(s) for s in answer["scores"]]

    def validation_scores(self, model_id: str, ids: list[str]) -> list[float]:
        answer = self._post("/score/validation", {"model_id": model_id, "ids": ids})
        return [float(s) for s in answer["scores"]]
