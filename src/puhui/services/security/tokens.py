"""Short-lived access tokens (JWT, HS256) carrying the principal.

Signing keys rotate: each token names its key (``kid``, a fingerprint of the secret); the
verifier accepts the current key and the previous ones it was given, until they are removed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from puhui.domain.clock import Clock
from puhui.domain.errors import ConfigurationError
from puhui.domain.ids import new_id
from puhui.domain.origination.errors import Unauthenticated
from puhui.services.security.permissions import Principal, Role

ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
_VERIFIED_CACHE_SIZE = 10_000
MAX_TOKEN_SPAN_SECONDS = 24 * 60 * 60
"""No token we sign lives longer than a day: a wider expiry is absurd, whatever its signature."""
_LATEST_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z, the last instant datetime holds


def key_id(secret: bytes) -> str:
    """The public name of a signing secret: a fingerprint that does not reveal it."""
    return hashlib.sha256(b"puhui-jwt-kid:" + secret).hexdigest()[:16]


def _timestamp(value: Any) -> int:
    # bool is an int to Python, not a time; floats and strings are not what we sign.
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unauthenticated("the access token has malformed times")
    if not 0 < value <= _LATEST_TIMESTAMP:
        raise Unauthenticated("the access token has absurd times")
    return value


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a verified token says: who, and which token it is (for revocation)."""

    principal: Principal
    token_id: str
    issued_at: int
    expires_at: int


@dataclass(frozen=True, slots=True)
class AccessToken:
    access_token: str
    expires_in_seconds: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret


class TokenCodec:
    def __init__(
        self,
        secret: bytes,
        *,
        clock: Clock,
        lifetime: timedelta,
        issuer: str = "puhui",
        previous_secrets: Iterable[bytes] = (),
    ):
        previous = tuple(previous_secrets)
        for candidate in (secret, *previous):
            if len(candidate) < MIN_SECRET_BYTES:
                raise ConfigurationError(
                    f"every JWT secret needs at least {MIN_SECRET_BYTES} bytes"
                )
        if lifetime <= timedelta(0):
            raise ConfigurationError("token lifetime must be positive")
        if lifetime.total_seconds() > MAX_TOKEN_SPAN_SECONDS:
            raise ConfigurationError("a token lives one day at most")
        self._secret = secret
        self.key_id = key_id(secret)
        # The current key signs; it and the previous ones verify, found by the token's kid.
        self._keys = {key_id(k): k for k in previous} | {self.key_id: secret}
        self._clock = clock
        self._lifetime = lifetime
        self._issuer = issuer
        # Verified tokens → (principal, expiry): PyJWT re-parses and re-checks the key on
        # every decode, which cost more than the rest of authentication. Only tokens whose
        # signature verified get in; expiry is still checked on every use.
        self._verified: dict[str, TokenClaims] = {}

    def issue(self, principal: Principal) -> AccessToken:
        now = self._clock.now()
        claims = {
            "sub": principal.user_id,
            "role": principal.role.value,
            "pid": principal.partner_id,
            "iss": self._issuer,
            "iat": int(now.timestamp()),
            "exp": int((now + self._lifetime).timestamp()),
            "jti": new_id("tok"),
        }
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM, headers={"kid": self.key_id})
        return AccessToken(token, int(self._lifetime.total_seconds()))

    def decode(self, token: str) -> TokenClaims:
        """The claims of a token whose signature verifies and which has not expired."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            if len(self._verified) >= _VERIFIED_CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = claims
        if claims.expires_at <= int(self._clock.now().timestamp()):
            raise Unauthenticated("the access token has expired")
        return claims

    def _verify(self, token: str) -> TokenClaims:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise Unauthenticated("the access token is not valid") from None
        # A token without kid predates rotation: only the current key may have signed it.
        secret = self._secret if kid is None else self._keys.get(str(kid))
        if secret is None:
            raise Unauthenticated("the access token was signed by a retired key; sign in again")
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                # Expiry is checked against the platform clock in decode, not the machine's.
                options={
                    "verify_exp": False,
                    "verify_iat": False,
                    "require": ["exp", "sub", "iat", "jti"],
                },
            )
        except jwt.PyJWTError:
            raise Unauthenticated("the access token is not valid") from None
        return _claims(claims)


def _claims(claims: dict[str, Any]) -> TokenClaims:
    """Well-formed claims or 401: a signature proves who wrote them, not that they make sense."""
    try:
        role = Role(claims.get("role"))
    except ValueError:
        raise Unauthenticated("the access token names an unknown role") from None
    expires_at, issued_at = _timestamp(claims["exp"]), _timestamp(claims["iat"])
    if not issued_at < expires_at <= issued_at + MAX_TOKEN_SPAN_SECONDS:
        raise Unauthenticated("the access token has absurd times")
    subject, token_id, partner = claims["sub"], claims["jti"], claims.get("pid")
    if (
        not isinstance(subject, str)
        or not isinstance(token_id, str)
        or not 0 < len(subject) <= 128
        or not 0 < len(token_id) <= 128
        or (partner is not None and (not isinstance(partner, str) or len(partner) > 128))
    ):
        raise Unauthenticated("the access token has malformed claims")
    principal = Principal(user_id=subject, role=role, partner_id=partner)
    return TokenClaims(principal, token_id, issued_at, expires_at)
