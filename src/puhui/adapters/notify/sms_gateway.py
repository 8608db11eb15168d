"""The bank's SMS platform (短信平台) over HTTPS: ``NotificationPort`` for real deliveries.

A bank sends customer text messages through one platform of its own, which holds the
operator contracts, the registered signature (短信签名) and the approved templates. Puhui posts
each outbox message to it as signed JSON and leaves the wording to the platform: the message
names its template and carries the template's parameters.

The request, ``POST {url}`` with ``Content-Type: application/json``::

    {"message_id": "msg_…", "channel": "sms", "to": "13912345678",
     "template": "loan_recall_notice_v1", "params": {…}}

(the keys sorted, no spaces) and the headers

- ``Idempotency-Key``: the message id. The outbox delivers at least once: a message whose
  delivery could not be recorded is posted again, and the platform drops the repeat.
- ``X-Puhui-Key-Id``: which shared secret signed it (for rotating the secret).
- ``X-Puhui-Timestamp``: Unix seconds. The platform refuses old requests, to stop replays.
- ``X-Puhui-Signature``: ``sha256=`` and the hex HMAC-SHA256 of ``timestamp + "\\n" + body``
  under the shared secret.

Any 2xx answer is a delivery. A 4xx other than 401, 403, 408, 409, 425 and 429 says the
message itself is wrong (a number or template the platform refuses): it fails at once. Every
other answer, a timeout or a network error is tried again at the next dispatch. The platform's
answer is kept as the message's last error with phone numbers masked, and never logged in
clear.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable

import httpx

from puhui.domain.privacy import mask_phone, mask_text
from puhui.services.notifications import NotificationFailed, OutboxMessage

logger = logging.getLogger(__name__)

RETRIED_CLIENT_ERRORS = frozenset({401, 403, 408, 409, 425, 429})
"""4xx answers about the request's moment or credentials, not the message: tried again."""
SIGNATURE_PREFIX = "sha256="


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The ``X-Puhui-Signature`` of ``body`` sent at ``timestamp`` (for the platform's side)."""
    digest = hmac.new(secret, timestamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def request_body(message: OutboxMessage) -> bytes:
    """What is posted for ``message``: its id, channel, recipient, template and parameters."""
    document = {
        "message_id": message.message_id,
        "channel": message.channel.value,
        "to": message.recipient,
        "template": message.template,
        "params": dict(message.payload),
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class SmsGateway:
    """``NotificationPort`` posting each message to the bank's SMS platform; close it after."""

    def __init__(
        self,
        url: str,
        *,
        key_id: str,
        secret: bytes,
        timeout_seconds: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self._key_id = key_id
        self._secret = secret
        self._timeout = timeout_seconds
        self._now = now
        self._client = httpx.Client(timeout=timeout_seconds, transport=transport)

    def close(self) -> None:
        self._client.close()

    def deliver(self, message: OutboxMessage) -> None:
        body = request_body(message)
        timestamp = str(int(self._now()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": message.message_id,
            "X-Puhui-Key-Id": self._key_id,
            "X-Puhui-Timestamp": timestamp,
            "X-Puhui-Signature": sign(self._secret, timestamp, body),
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise NotificationFailed(
                f"the SMS platform did not answer within {self._timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise NotificationFailed(
                f"the SMS platform could not be reached ({type(exc).__name__})"
            ) from None
        status = response.status_code
        if 200 <= status < 300:
            logger.info(
                "%s message %s to %s (%s) handed to the SMS platform",
                message.channel.value,
                message.message_id,
                mask_phone(message.recipient),
                message.template,
            )
            return
        answer = mask_text(" ".join(response.text.split()))[:200]
        permanent = 400 <= status < 500 and status not in RETRIED_CLIENT_ERRORS
        raise NotificationFailed(
            f"the SMS platform refused the message (HTTP {status})"
            + (f": {answer}" if answer else ""),
            permanent=permanent,
            details={"status": status},
        )
