"""The security services' collaborators and settings, built once by the composition root."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from puhui.domain.clock import Clock
from puhui.services.security.network import Network
from puhui.services.security.passwords import PasswordHasher
from puhui.services.security.permissions import (
    Principal,
)
from puhui.services.security.ports import (
    OtpSender,
    Revocations,
    SecurityUnitOfWork,
    User,
)
from puhui.services.security.rate_limit import (
    DelayPolicy,
    MemoryWindowCounter,
    ProgressiveDelay,
    RateLimit,
    RateLimiter,
    WindowCounter,
)
from puhui.services.security.tokens import TokenCodec


@dataclass(frozen=True, slots=True)
class SecurityConfig:
    """Settings of the security services (the lead maps them from ``Settings``)."""

    jwt_secret: bytes
    otp_key: bytes
    token_lifetime: timedelta = timedelta(minutes=15)
    otp_lifetime: timedelta = timedelta(minutes=5)
    login_delay: DelayPolicy = field(
        default_factory=lambda: DelayPolicy(
            free_failures=5,
            base_delay=timedelta(seconds=30),
            max_delay=timedelta(minutes=15),
            forget_after=timedelta(hours=24),
        )
    )
    """Failed logins per (account, client address) before each next attempt waits longer."""
    login_client_limit: RateLimit = field(
        default_factory=lambda: RateLimit(50, timedelta(minutes=15))
    )
    """Login attempts per client address across accounts (password spraying)."""
    otp_send_limit: RateLimit = field(default_factory=lambda: RateLimit(3, timedelta(minutes=10)))
    """Codes sent per phone."""
    otp_client_send_limit: RateLimit = field(
        default_factory=lambda: RateLimit(600, timedelta(minutes=10))
    )
    """Codes sent per client address: wide, as a carrier NAT puts thousands behind one."""
    otp_verify_limit: RateLimit = field(
        default_factory=lambda: RateLimit(10, timedelta(minutes=10))
    )
    jwt_previous_secrets: tuple[bytes, ...] = ()
    """Retired signing keys whose tokens still verify (until removed from the settings)."""
    trusted_proxies: tuple[Network, ...] = ()
    """Peers whose ``X-Forwarded-For`` names the client; by default nobody's."""
    revocation_refresh: timedelta = timedelta(seconds=5)
    """How stale this process's copy of the revocations may be: a token revoked by another
    process is refused here within this time; in the revoking process at once."""


class Security:
    """The collaborators security use cases share; one per process."""

    def __init__(
        self,
        *,
        uow_factory: Callable[[], SecurityUnitOfWork],
        clock: Clock,
        config: SecurityConfig,
        otp_sender: OtpSender,
        hasher: PasswordHasher | None = None,
        counter: WindowCounter | None = None,
        reader_factory: Callable[[], SecurityUnitOfWork] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.reader_factory = reader_factory or uow_factory
        self.clock = clock
        self.config = config
        self.otp_sender = otp_sender
        self.hasher = hasher or PasswordHasher()
        self.tokens = TokenCodec(
            config.jwt_secret,
            clock=clock,
            lifetime=config.token_lifetime,
            previous_secrets=config.jwt_previous_secrets,
        )
        counter = counter or MemoryWindowCounter()

        def limiter(limit: RateLimit, name: str, kind: str) -> RateLimiter:
            return RateLimiter(limit, clock=clock, name=name, kind=kind, counter=counter)

        # Per (account, address): a guesser elsewhere cannot lock the owner out.
        self.login_delays = ProgressiveDelay(
            config.login_delay, clock=clock, name="login-delay", counter=counter, kind="login"
        )
        # Per address the allowance is wider: a branch's staff share one NAT address.
        self.login_client_limiter = limiter(config.login_client_limit, "login-client", "login")
        self.otp_send_limiter = limiter(config.otp_send_limit, "code-send", "code")
        self.otp_client_send_limiter = limiter(
            config.otp_client_send_limit, "code-send-client", "code"
        )
        self.otp_verify_limiter = limiter(config.otp_verify_limit, "code-verify", "code")
        self._revocations = Revocations()
        self._revocations_read_at: datetime | None = None
        self._revocations_lock = threading.Lock()

    def revocations(self) -> Revocations:
        """This process's copy of the revocations, read again when older than the refresh."""
        now = self.clock.now()
        read_at = self._revocations_read_at
        if read_at is None or not timedelta(0) <= now - read_at < self.config.revocation_refresh:
            with self._revocations_lock, self.reader_factory() as uow:
                self._revocations = uow.sessions.current(now)
                self._revocations_read_at = now
        return self._revocations

    def forget_revocations(self) -> None:
        """Read the revocations again on the next request (after this process revoked)."""
        self._revocations_read_at = None


def principal_from(user: User) -> Principal:
    return Principal(user_id=user.user_id, role=user.role, partner_id=user.partner_id)
