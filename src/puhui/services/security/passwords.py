"""Password hashing with Argon2id (memory-hard), parameters per OWASP's minimum."""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from puhui.domain.errors import InvalidInput

MIN_PASSWORD_LENGTH = 10


class PasswordHasher:
    """Argon2id; the defaults (19 MiB, 2 passes) follow OWASP's password storage sheet."""

    def __init__(self, *, time_cost: int = 2, memory_cost_kib: int = 19_456) -> None:
        self._argon = _Argon2(time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=1)
        # Verifying against a throwaway hash when the user is unknown keeps the response time
        # the same, so that login does not reveal which usernames exist.
        self._decoy = self._argon.hash("decoy-password-for-unknown-users")

    def hash(self, password: str) -> str:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise InvalidInput(
                f"a password has at least {MIN_PASSWORD_LENGTH} characters",
                details={"field": "password"},
            )
        return self._argon.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._argon.verify(stored_hash or self._decoy, password) and (
                stored_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
