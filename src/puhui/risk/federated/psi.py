"""Private set intersection by commutative blinding on Curve25519 (ECDH-PSI).

Each party hashes its identifiers to points and raises them to its own secret scalar
(X25519 scalar multiplication): ``H(x)^a`` then ``(H(x)^a)^b == (H(x)^b)^a``. The bank sends
``H(x)^a`` for its ids; the owner answers ``H(x)^ab`` in the same order and sends ``H(y)^b``
for its own ids in random order; the bank raises those to ``a`` and matches. The bank learns the
intersection and the size of the owner's set; the owner learns the size of the bank's set and,
when the bank tells it the matched positions, the intersection — nothing of the other ids: under
the decisional Diffie-Hellman assumption on Curve25519 and its twist ``H(y)^b`` for an id the
bank does not hold is indistinguishable from a random point (docs/federated.md). Semi-honest
parties are assumed: a party that lies about its set is not detected.

Hash to point: SHA-256 of a domain tag and the id, top bit cleared, read as a u-coordinate. The
point lies on the curve or on its twist; both have large prime-order subgroups and the clamped
scalars of X25519 clear the cofactors, so the blinding commutes on both. This is not RFC 9380
hash-to-curve (Elligator 2), which would keep every point on the curve; twist security of
Curve25519 is what makes the simpler map sound.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from puhui.risk.federated.errors import InvalidFederatedData

DOMAIN_TAG = b"puhui-psi-v1\x00"
POINT_BYTES = 32


def hash_to_point(identifier: str) -> bytes:
    """The public point of an identifier (anyone can compute it: never sent unblinded)."""
    digest = bytearray(hashlib.sha256(DOMAIN_TAG + identifier.encode("utf-8")).digest())
    digest[31] &= 0x7F
    return bytes(digest)


class PsiKey:
    """One party's secret scalar for one PSI session; never leaves the party."""

    def __init__(self, secret: bytes | None = None) -> None:
        scalar = secret if secret is not None else secrets.token_bytes(POINT_BYTES)
        self._key = X25519PrivateKey.from_private_bytes(scalar)

    def blind(self, point: bytes) -> bytes:
        if len(point) != POINT_BYTES:
            raise InvalidFederatedData("a PSI point has 32 bytes", details={"length": len(point)})
        try:
            return self._key.exchange(X25519PublicKey.from_public_bytes(point))
        except ValueError:
            # A low-order point gives the all-zero output: refused, it would match anything.
            raise InvalidFederatedData("a PSI point of low order was refused") from None

    def blind_all(self, points: Iterable[bytes]) -> list[bytes]:
        return [self.blind(point) for point in points]

    def blind_ids(self, identifiers: Iterable[str]) -> list[bytes]:
        return [self.blind(hash_to_point(identifier)) for identifier in identifiers]


@dataclass(frozen=True)
class OwnerPsiAnswer:
    """The owner's message: the bank's points blinded again (same order) and its own points."""

    double_blinded: list[bytes]
    owner_blinded: list[bytes]


def owner_answer(
    key: PsiKey, bank_blinded: Sequence[bytes], owner_ids: Sequence[str]
) -> tuple[OwnerPsiAnswer, list[str]]:
    """The owner's answer and the order of its own ids in it (shuffled, kept by the owner)."""
    order = list(owner_ids)
    secrets.SystemRandom().shuffle(order)
    answer = OwnerPsiAnswer(key.blind_all(bank_blinded), key.blind_ids(order))
    return answer, order


def bank_intersection(
    key: PsiKey, bank_ids: Sequence[str], answer: OwnerPsiAnswer
) -> tuple[list[str], list[int]]:
    """The shared ids (in the bank's order) and their positions in the owner's list."""
    if len(answer.double_blinded) != len(bank_ids):
        raise InvalidFederatedData(
            "the owner answered a different number of points than the bank sent",
            details={"sent": len(bank_ids), "answered": len(answer.double_blinded)},
        )
    position = {point: i for i, point in enumerate(key.blind_all(answer.owner_blinded))}
    shared: list[str] = []
    positions: list[int] = []
    for identifier, point in zip(bank_ids, answer.double_blinded, strict=True):
        found = position.get(point)
        if found is not None:
            shared.append(identifier)
            positions.append(found)
    return shared, positions
