"""Personal data at rest: AES-256-GCM per value under a key ring, and a keyed blind index.

Stored form: ``v2:<key id>:<base64(nonce + ciphertext + tag)>``. The key id names the data key
that sealed the value, so several keys can be configured at once: the current one encrypts,
the retired ones still decrypt until ``puhui keys rotate`` has re-encrypted everything under
the current key. Values written before key ids existed (``v1:<base64>``) carry no id; they
are opened by trying each configured key (the GCM tag tells the right one).

The blind index (HMAC-SHA256, deterministic so that equal values match) has its own root key
that does not rotate with the data key: a rotation would otherwise have to rewrite every
index in the same instant as the keys change, and every lookup in between would miss.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from puhui.domain.errors import ConfigurationError

_LEGACY = "v1"
_VERSION = "v2"
_NONCE_BYTES = 12
MIN_DATA_KEY_BYTES = 32
DEFAULT_KEY_ID = "1"
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


def derive_key(key: bytes, purpose: str) -> bytes:
    """A sub-key for one purpose (request hashes, one-time codes) from the data key.

    The API and the lending simulation both derive their keys here, so that an idempotency
    record written by one is recognised by the other.
    """
    return hmac.new(key, f"puhui/{purpose}".encode(), hashlib.sha256).digest()


def _aead(data_key: bytes) -> AESGCM:
    if len(data_key) < MIN_DATA_KEY_BYTES:
        raise ConfigurationError(
            f"the data-encryption key needs at least {MIN_DATA_KEY_BYTES} bytes"
        )
    return AESGCM(hmac.new(data_key, b"puhui/field-encryption/v1", "sha256").digest())


def _checked_id(key_id: str) -> str:
    if not KEY_ID_PATTERN.match(key_id):
        raise ConfigurationError(
            f"a data key id is 1 to 16 letters, digits, '-' or '_' (got {key_id!r})"
        )
    return key_id


class FieldCipher:
    """Encrypts single column values; the column name is bound in as associated data.

    Sub-keys are derived with HMAC-SHA256 as a KDF, so that the blind index, which must be
    deterministic, never shares a key with the cipher. Binding the column name means a
    ciphertext copied from ``phone`` into ``id_number`` fails to open.

    ``data_key`` (id ``key_id``) encrypts; ``retired`` maps older key ids to keys that still
    decrypt. ``index_key`` is the root of the blind index; without it the index derives from
    ``data_key`` (how every deployment began), which is why a rotation needs it set first.
    """

    def __init__(
        self,
        data_key: bytes,
        *,
        key_id: str = DEFAULT_KEY_ID,
        retired: Mapping[str, bytes] | None = None,
        index_key: bytes | None = None,
    ) -> None:
        self._key_id = _checked_id(key_id)
        self._ring: dict[str, AESGCM] = {}
        for old_id, old_key in (retired or {}).items():
            if _checked_id(old_id) == key_id:
                raise ConfigurationError(f"data key id {old_id!r} is both current and retired")
            self._ring[old_id] = _aead(old_key)
        self._aead = _aead(data_key)
        self._ring[key_id] = self._aead
        root = data_key if index_key is None else index_key
        if len(root) < MIN_DATA_KEY_BYTES:
            raise ConfigurationError(
                f"the blind-index key needs at least {MIN_DATA_KEY_BYTES} bytes"
            )
        self._stable_root = root
        self._index_key = hmac.new(root, b"puhui/blind-index/v1", "sha256").digest()

    def derive(self, purpose: str) -> bytes:
        """A sub-key for one purpose (one-time codes, request hashes) from the stable root.

        The root is the blind-index key, which does not rotate with the data key: codes in
        flight and idempotency records survive a data-key rotation. Without an index key it
        is the data key, as it always was (``derive_key(data_key, purpose)``).
        """
        return derive_key(self._stable_root, purpose)

    @property
    def key_id(self) -> str:
        """The id of the key that encrypts new values."""
        return self._key_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every configured key id, the current one first."""
        return (self._key_id, *(k for k in self._ring if k != self._key_id))

    def encrypt(self, column: str, plaintext: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), column.encode())
        body = base64.b64encode(nonce + sealed).decode("ascii")
        return f"{_VERSION}:{self._key_id}:{body}"

    @staticmethod
    def key_id_of(stored: str) -> str | None:
        """The id of the key that sealed ``stored``; None for values from before key ids."""
        version, _, rest = stored.partition(":")
        if version == _VERSION:
            return rest.partition(":")[0]
        return None

    def is_current(self, stored: str) -> bool:
        """Whether ``stored`` is sealed under the current key (a rotation leaves it alone)."""
        return self.key_id_of(stored) == self._key_id

    def decrypt(self, column: str, stored: str) -> str:
        version, _, rest = stored.partition(":")
        if version == _VERSION:
            key_id, _, body = rest.partition(":")
            aead = self._ring.get(key_id)
            if aead is None:
                raise ConfigurationError(
                    f"cannot decrypt {column}: data key {key_id!r} is not configured "
                    "(add it to PUHUI_RETIRED_DATA_KEYS until `puhui keys rotate` has run)"
                )
            candidates = [aead]
        elif version == _LEGACY:
            body = rest
            candidates = list(self._ring.values())
        else:
            raise ConfigurationError(f"unknown ciphertext version {version!r} in {column}")
        raw = base64.b64decode(body)
        for candidate in candidates:
            try:
                clear = candidate.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], column.encode())
            except InvalidTag:
                continue
            return clear.decode("utf-8")
        raise ConfigurationError(f"cannot decrypt {column}: wrong data key or tampered value")

    def blind_index(self, column: str, value: str) -> str:
        """Deterministic and keyed: equal values match; without the key it reveals nothing."""
        message = f"{column}:{value}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).hexdigest()
