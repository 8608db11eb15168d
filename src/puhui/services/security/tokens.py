"""Short-lived access tokens (JWT, HS256) carrying the principal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import jwt

from puhui.domain.clock import Clock
from puhui.domain.errors import ConfigurationError
from puhui.domain.ids import new_id
from puhui.domain.origination.errors import Unauthenticated
from puhui.services.security.permissions import Principal, Role

ALGORITHM = "HS256"
MIN_SECRET_BYTES = 32
_VERIFIED_CACHE_SIZE = 10_000


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
    def __init__(self, secret: bytes, *, clock: Clock, lifetime: timedelta, issuer: str = "puhui"):
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigurationError(f"the JWT secret needs at least {MIN_SECRET_BYTES} bytes")
        if lifetime <= timedelta(0):
            raise ConfigurationError("token lifetime must be positive")
        self._secret = secret
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
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
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
            claims = jwt.decode(
                token,
                self._secret,
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
        try:
            role = Role(claims.get("role"))
            expires_at, issued_at = int(claims["exp"]), int(claims["iat"])
        except (ValueError, TypeError):
            raise Unauthenticated("the access token names an unknown role") from None
        principal = Principal(user_id=str(claims["sub"]), role=role, partner_id=claims.get("pid"))
        return TokenClaims(principal, str(claims["jti"]), issued_at, expires_at)
