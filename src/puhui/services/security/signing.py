"""Ed25519 signatures of contract digests by the platform."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from puhui.domain.errors import ConfigurationError


class ContractSigner:
    """Signs the SHA-256 hex digest of a contract; the key id is a fingerprint of the public key."""

    def __init__(self, private_key_seed: bytes) -> None:
        if len(private_key_seed) != 32:
            raise ConfigurationError("an Ed25519 signing key seed is exactly 32 bytes")
        self._key = Ed25519PrivateKey.from_private_bytes(private_key_seed)
        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_key_hex = public.hex()
        self.key_id = "ed25519:" + hashlib.sha256(public).hexdigest()[:16]

    def sign(self, digest_hex: str) -> str:
        return self._key.sign(digest_hex.encode("ascii")).hex()


def verify_signature(public_key_hex: str, digest_hex: str, signature_hex: str) -> bool:
    """Anyone holding the platform's public key can check a contract it signed."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(signature_hex), digest_hex.encode("ascii"))
    except (InvalidSignature, ValueError):
        return False
    return True
