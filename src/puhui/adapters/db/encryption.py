"""Personal data at rest: AES-256-GCM per value, and a keyed blind index (HMAC) for lookups."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from puhui.domain.errors import ConfigurationError

_VERSION = "v1"
_NONCE_BYTES = 12
MIN_DATA_KEY_BYTES = 32


def derive_key(key: bytes, purpose: str) -> bytes:
    """A sub-key for one purpose (request hashes, one-time codes) from the data key.

    The API and the lending simulation both derive their keys here, so that an idempotency
    record written by one is recognised by the other.
    """
    return hmac.new(key, f"puhui/{purpose}".encode(), hashlib.sha256).digest()


class FieldCipher:
    """Encrypts single column values; the column name is bound in as associated data.

    Two sub-keys are derived from the one data key (HMAC-SHA256 as a KDF), so that the
    blind index, which must be deterministic, never shares a key with the cipher. Binding
    the column name means a ciphertext copied from ``phone`` into ``id_number`` fails to open.
    """

    def __init__(self, data_key: bytes) -> None:
        if len(data_key) < MIN_DATA_KEY_BYTES:
            raise ConfigurationError(
                f"the data-encryption key needs at least {MIN_DATA_KEY_BYTES} bytes"
            )
        self._aead = AESGCM(hmac.new(data_key, b"puhui/field-encryption/v1", "sha256").digest())
        self._index_key = hmac.new(data_key, b"puhui/blind-index/v1", "sha256").digest()

    def encrypt(self, column: str, plaintext: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), column.encode())
        return f"{_VERSION}:{base64.b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, column: str, stored: str) -> str:
        version, _, body = stored.partition(":")
        if version != _VERSION:
            raise ConfigurationError(f"unknown ciphertext version {version!r} in {column}")
        raw = base64.b64decode(body)
        try:
            clear = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], column.encode())
        except InvalidTag:
            raise ConfigurationError(
                f"cannot decrypt {column}: wrong data key or tampered value"
            ) from None
        return clear.decode("utf-8")

    def blind_index(self, column: str, value: str) -> str:
        """Deterministic and keyed: equal values match; without the key it reveals nothing."""
        message = f"{column}:{value}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()
