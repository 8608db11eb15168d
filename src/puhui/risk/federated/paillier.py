"""Typed Paillier over ``phe``: keys, encryption and decryption of signed integers.

``phe`` makes the keys and encrypts (with its obfuscation); homomorphic operations work on raw
ciphertexts (``int`` modulo n²) so messages are plain JSON integers and every value is a
fixed-point integer chosen by :mod:`puhui.risk.federated.fixed_point`, never a float encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from phe import paillier
from phe.util import invert, powmod

from puhui.risk.federated.errors import InvalidFederatedData


@dataclass(frozen=True)
class PublicKey:
    """A Paillier public key: modulus n (g = n + 1, as ``phe`` makes them)."""

    n: int

    @property
    def n_square(self) -> int:
        return self.n * self.n

    @property
    def bits(self) -> int:
        return self.n.bit_length()

    def _phe(self) -> Any:
        return paillier.PaillierPublicKey(self.n)

    def encrypt(self, values: Sequence[int]) -> list[int]:
        key = self._phe()
        return [int(key.encrypt(int(value)).ciphertext()) for value in values]

    def add_plain(self, ciphertext: int, value: int) -> int:
        """[[m]] -> [[m + value]] (g^value with g = n + 1 is 1 + n·value, no randomness needed)."""
        return ciphertext * (1 + self.n * (value % self.n)) % self.n_square

    def add(self, left: int, right: int) -> int:
        return left * right % self.n_square

    def dot(self, ciphertexts: Sequence[int], weights: Sequence[int]) -> int:
        """[[Σ wᵢ·mᵢ]] from [[mᵢ]] and plaintext integers wᵢ (negative ones through the inverse)."""
        n_square = self.n_square
        total = 1
        for ciphertext, weight in zip(ciphertexts, weights, strict=True):
            if weight == 0:
                continue
            if weight > 0:
                term = powmod(ciphertext, weight, n_square)
            else:
                term = powmod(invert(ciphertext, n_square), -weight, n_square)
            total = total * int(term) % n_square
        return total

    def check(self, ciphertext: int) -> int:
        if not 0 < ciphertext < self.n_square:
            raise InvalidFederatedData("a ciphertext is outside 0 < c < n²")
        return ciphertext


class KeyPair:
    """A Paillier key pair; the private part never leaves the party that made it."""

    def __init__(self, bits: int) -> None:
        if bits < 512:
            raise InvalidFederatedData(
                "Paillier keys have at least 512 bits", details={"bits": bits}
            )
        public, private = paillier.generate_paillier_keypair(n_length=bits)
        self._private: Any = private
        self.public = PublicKey(int(public.n))

    def decrypt(self, ciphertext: int) -> int:
        """The signed integer in [-n/2, n/2) under the ciphertext."""
        value = int(self._private.raw_decrypt(self.public.check(ciphertext)))
        return value - self.public.n if value > self.public.n // 2 else value
