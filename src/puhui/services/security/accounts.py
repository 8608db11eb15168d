"""Security use cases: staff users and login, applicant one-time codes, partner API keys."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from puhui.domain.audit import AuditEvent
from puhui.domain.clock import Clock
from puhui.domain.errors import Conflict, InvalidInput, NotFound
from puhui.domain.identity import validate_mobile
from puhui.domain.ids import new_id
from puhui.domain.origination.errors import Forbidden, FourEyesViolation, Unauthenticated
from puhui.services import audit
from puhui.services.ports import AuditQuery
from puhui.services.security import otp
from puhui.services.security.network import Network
from puhui.services.security.passwords import PasswordHasher
from puhui.services.security.permissions import (
    PARTNER_SCOPES,
    PRIVILEGED_ROLES,
    SYSTEM,
    Permission,
    Principal,
    Role,
    require,
)
from puhui.services.security.ports import (
    ApiKeyRecord,
    OtpRecord,
    OtpSender,
    Revocations,
    RoleGrant,
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
from puhui.services.security.tokens import AccessToken, TokenCodec

logger = logging.getLogger(__name__)

API_KEY_PREFIX = "pk"


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


def create_user(
    security: Security,
    *,
    actor: Principal,
    username: str,
    password: str,
    role: Role,
    partner_id: str | None = None,
) -> User:
    """An admin creates a staff or partner user (applicants sign in with one-time codes)."""
    require(actor, Permission.USER_MANAGE)
    if role in PRIVILEGED_ROLES and actor != SYSTEM:
        raise FourEyesViolation(
            f"an {role.value} account needs a second admin: request a role grant",
            details={"role": role.value},
        )
    name = _username(username)
    if role is Role.APPLICANT:
        raise InvalidInput("applicants sign in with a one-time code", details={"field": "role"})
    if role is Role.PARTNER and not partner_id:
        raise InvalidInput("a partner user names its partner", details={"field": "partner_id"})
    password_hash = security.hasher.hash(password)
    with security.uow_factory() as uow:
        if uow.users.by_username(name) is not None:
            raise Conflict("the username is taken", details={"field": "username"})
        user = User(
            user_id=new_id("usr"),
            username=name,
            role=role,
            created_at=security.clock.now(),
            password_hash=password_hash,
            partner_id=partner_id if role is Role.PARTNER else None,
        )
        uow.users.add(user)
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="user.created",
            entity="user",
            entity_id=user.user_id,
            payload={"username": name, "role": role.value},
        )
        uow.commit()
    return user


def login(security: Security, *, username: str, password: str, client: str) -> AccessToken:
    """OAuth2 password flow.

    No account is ever locked: failures slow down the next attempts on that account from
    that address only (progressive delays), and each address has a cap across accounts.
    """
    name = username.strip().lower()
    delay_key = f"user:{name}|client:{client}"
    security.login_delays.check(delay_key)
    security.login_client_limiter.hit(client)
    with security.uow_factory() as uow:
        user = uow.users.by_username(name)
    stored = user.password_hash if user is not None and not user.disabled else None
    if not security.hasher.verify(stored, password) or user is None:
        logger.info("failed login for username %s", name)
        security.login_delays.fail(delay_key)
        raise Unauthenticated("wrong username or password")
    security.login_delays.reset(delay_key)
    return security.tokens.issue(_principal_of(user))


def request_code(security: Security, *, phone: str, client: str) -> None:
    """Send a one-time code to an applicant's phone. Limited per phone and per client."""
    number = validate_mobile(phone)
    security.otp_send_limiter.hit(f"phone:{number}")
    security.otp_client_send_limiter.hit(f"client:{client}")
    code = otp.new_code()
    now = security.clock.now()
    record = OtpRecord(
        otp_id=new_id("otp"),
        phone=number,
        code_hash=otp.code_hash(security.config.otp_key, number, code),
        issued_at=now,
        expires_at=now + security.config.otp_lifetime,
    )
    with security.uow_factory() as uow:
        previous = uow.otps.latest_for(number)
        if previous is not None:
            # A new code supersedes the old one: only one code is ever live per phone.
            uow.otps.update(replace(previous, used_at=now))
        uow.otps.add(record)
        uow.commit()
    security.otp_sender.send(number, code)


def verify_code(security: Security, *, phone: str, code: str) -> AccessToken:
    """Exchange a valid one-time code for an applicant token; the first login creates the user."""
    number = validate_mobile(phone)
    security.otp_verify_limiter.hit(f"phone:{number}")
    now = security.clock.now()
    with security.uow_factory() as uow:
        record = uow.otps.latest_for(number)
        usable = (
            record is not None
            and record.used_at is None
            and now < record.expires_at
            and record.attempts < otp.MAX_OTP_ATTEMPTS
        )
        if record is None or not usable:
            raise Unauthenticated("no valid one-time code for this phone; request a new one")
        if not otp.codes_match(security.config.otp_key, number, code.strip(), record.code_hash):
            uow.otps.update(replace(record, attempts=record.attempts + 1))
            uow.commit()
            raise Unauthenticated("the one-time code is wrong")
        uow.otps.update(replace(record, used_at=now, attempts=record.attempts + 1))
        user = ensure_applicant(uow, phone=number, at_clock=security.clock)
        uow.commit()
    if user.disabled:
        raise Unauthenticated("this account is disabled")
    security.otp_verify_limiter.reset(f"phone:{number}")
    return security.tokens.issue(_principal_of(user))


def ensure_applicant(uow: SecurityUnitOfWork, *, phone: str, at_clock: Clock) -> User:
    """The applicant user of a phone number, created on first use (inside the caller's tx)."""
    user = uow.users.applicant_by_phone(phone)
    if user is None:
        user_id = new_id("usr")
        user = User(
            user_id=user_id,
            username=f"applicant:{user_id}",
            role=Role.APPLICANT,
            created_at=at_clock.now(),
            phone=phone,
        )
        uow.users.add(user)
    return user


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    key_id: str
    partner_id: str
    scopes: frozenset[Permission]
    api_key: str
    """Shown once: only its hash is stored."""


def _secret_hash(secret: str) -> str:
    # API secrets are 256 random bits, so a fast hash is as strong as a slow one here.
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_key(
    security: Security, *, actor: Principal, partner_id: str, scopes: Iterable[Permission]
) -> IssuedApiKey:
    require(actor, Permission.API_KEY_MANAGE)
    wanted = frozenset(scopes)
    if not wanted or not wanted <= PARTNER_SCOPES:
        raise InvalidInput(
            "API key scopes are a non-empty subset of the partner permissions",
            details={"allowed": sorted(p.value for p in PARTNER_SCOPES)},
        )
    if not partner_id.strip():
        raise InvalidInput("an API key names its partner", details={"field": "partner_id"})
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    record = ApiKeyRecord(
        key_id=key_id,
        partner_id=partner_id,
        secret_hash=_secret_hash(secret),
        scopes=wanted,
        created_at=security.clock.now(),
    )
    with security.uow_factory() as uow:
        uow.api_keys.add(record)
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="api_key.issued",
            entity="api_key",
            entity_id=key_id,
            payload={"partner_id": partner_id, "scopes": sorted(p.value for p in wanted)},
        )
        uow.commit()
    return IssuedApiKey(key_id, partner_id, wanted, f"{API_KEY_PREFIX}_{key_id}_{secret}")


def authenticate_api_key(security: Security, api_key: str) -> Principal:
    prefix, _, rest = api_key.strip().partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != API_KEY_PREFIX or not key_id or not secret:
        raise Unauthenticated("the API key is malformed")
    with security.uow_factory() as uow:
        record = uow.api_keys.get(key_id)
    if (
        record is None
        or record.revoked_at is not None
        or not hmac.compare_digest(record.secret_hash, _secret_hash(secret))
    ):
        raise Unauthenticated("the API key is not valid")
    return Principal(
        user_id=f"apikey:{record.key_id}",
        role=Role.PARTNER,
        partner_id=record.partner_id,
        scopes=record.scopes,
    )


def authenticate_token(security: Security, token: str) -> Principal:
    """The principal of a valid bearer token: signed by us, unexpired and not revoked."""
    claims = security.tokens.decode(token)
    revoked = security.revocations()
    if claims.token_id in revoked.token_ids:
        raise Unauthenticated("the access token has been revoked; sign in again")
    cutoff = revoked.users_since.get(claims.principal.user_id)
    if cutoff is not None and claims.issued_at <= cutoff.timestamp():
        raise Unauthenticated("the access token has been revoked; sign in again")
    return claims.principal


def logout(security: Security, token: str) -> None:
    """Revoke the presented token (its holder signs out); other sessions stay valid."""
    claims = security.tokens.decode(token)
    now = security.clock.now()
    with security.uow_factory() as uow:
        uow.sessions.revoke_token(
            claims.token_id,
            user_id=claims.principal.user_id,
            revoked_at=now,
            expires_at=datetime.fromtimestamp(claims.expires_at, UTC),
        )
        audit.record(
            uow,
            actor=claims.principal.audit_name(),
            action="token.revoked",
            entity="user",
            entity_id=claims.principal.user_id,
            payload={"token_id": claims.token_id},
        )
        uow.commit()
    security.forget_revocations()


def revoke_user_tokens(security: Security, *, actor: Principal, user_id: str) -> None:
    """Void every token the user holds now (a lost phone, a leaver, a suspected breach)."""
    require(actor, Permission.USER_MANAGE)
    now = security.clock.now()
    with security.uow_factory() as uow:
        if uow.users.get(user_id) is None:
            raise NotFound("no such user", details={"user_id": user_id})
        uow.sessions.revoke_user(user_id, at=now)
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="user.tokens_revoked",
            entity="user",
            entity_id=user_id,
            payload={"at": now.isoformat()},
        )
        uow.commit()
    security.forget_revocations()


def _username(username: str) -> str:
    name = username.strip().lower()
    if not name or len(name) > 64:
        raise InvalidInput("a username has 1 to 64 characters", details={"field": "username"})
    return name


def set_user_disabled(
    security: Security, *, actor: Principal, user_id: str, disabled: bool
) -> User:
    """Disable a user (their tokens die at once, they cannot sign in) or enable them again.

    Enabling does not revive tokens voided by the disabling: the user signs in again.
    """
    require(actor, Permission.USER_MANAGE)
    if disabled and actor.user_id == user_id:
        raise Conflict("an admin cannot disable their own account", details={"user_id": user_id})
    now = security.clock.now()
    with security.uow_factory() as uow:
        user = uow.users.get(user_id)
        if user is None:
            raise NotFound("no such user", details={"user_id": user_id})
        user = replace(user, disabled=disabled)
        uow.users.update(user)
        if disabled:
            uow.sessions.revoke_user(user_id, at=now)
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="user.disabled" if disabled else "user.enabled",
            entity="user",
            entity_id=user_id,
            payload={"at": now.isoformat()},
        )
        uow.commit()
    security.forget_revocations()
    return user


def request_role_grant(
    security: Security,
    *,
    actor: Principal,
    role: Role,
    username: str | None = None,
    user_id: str | None = None,
) -> RoleGrant:
    """An admin asks for a privileged account (``username``) or elevation (``user_id``).

    Nothing changes until another admin approves (``approve_role_grant``).
    """
    require(actor, Permission.USER_MANAGE)
    if role not in PRIVILEGED_ROLES:
        raise InvalidInput(
            "role grants are for approver and admin; create other users directly",
            details={"field": "role"},
        )
    if (username is None) == (user_id is None):
        raise InvalidInput("a grant names a new username or an existing user_id, not both")
    with security.uow_factory() as uow:
        if user_id is not None:
            user = uow.users.get(user_id)
            if user is None:
                raise NotFound("no such user", details={"user_id": user_id})
            if user.role in (Role.APPLICANT, Role.PARTNER):
                raise InvalidInput("only staff users are elevated", details={"field": "user_id"})
            if user.role is role:
                raise Conflict("the user has this role already", details={"role": role.value})
            name = user.username
        else:
            name = _username(username or "")
            if uow.users.by_username(name) is not None:
                raise Conflict("the username is taken", details={"field": "username"})
        grant = RoleGrant(
            grant_id=new_id("grt"),
            role=role,
            requested_by=actor.user_id,
            requested_at=security.clock.now(),
            username=name,
            user_id=user_id,
        )
        uow.users.add_grant(grant)
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="role_grant.requested",
            entity="role_grant",
            entity_id=grant.grant_id,
            payload={"role": role.value, "username": name, "user_id": user_id},
        )
        uow.commit()
    return grant


@dataclass(frozen=True, slots=True)
class ApprovedGrant:
    grant: RoleGrant
    user: User
    password: str
    """The account's new password, shown once to the approving admin to hand over."""


def approve_role_grant(security: Security, *, actor: Principal, grant_id: str) -> ApprovedGrant:
    """A second admin approves: the account is created or elevated with a fresh password.

    Four eyes: the approver is neither the requester nor the user being elevated. The
    password is new so that the requesting admin does not know it; the user's existing
    tokens (which carry the old role) die.
    """
    require(actor, Permission.USER_MANAGE)
    password = secrets.token_urlsafe(18)
    password_hash = security.hasher.hash(password)
    now = security.clock.now()
    with security.uow_factory() as uow:
        grant = _pending_grant(uow, grant_id)
        if actor.user_id in (grant.requested_by, grant.user_id):
            raise FourEyesViolation(
                "a role grant is approved by an admin other than its requester and grantee",
                details={"grant_id": grant_id},
            )
        if grant.user_id is None:
            if uow.users.by_username(grant.username) is not None:
                raise Conflict("the username is taken", details={"field": "username"})
            user = User(
                user_id=new_id("usr"),
                username=grant.username,
                role=grant.role,
                created_at=now,
                password_hash=password_hash,
            )
            uow.users.add(user)
        else:
            existing = uow.users.get(grant.user_id)
            if existing is None:
                raise NotFound("no such user", details={"user_id": grant.user_id})
            user = replace(existing, role=grant.role, password_hash=password_hash)
            uow.users.update(user)
            uow.sessions.revoke_user(user.user_id, at=now)
        decided = replace(grant, status="approved", decided_by=actor.user_id, decided_at=now)
        uow.users.decide_grant(decided)
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="role_grant.approved",
            entity="role_grant",
            entity_id=grant_id,
            payload={
                "role": grant.role.value,
                "user_id": user.user_id,
                "requested_by": grant.requested_by,
            },
        )
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="user.created" if grant.user_id is None else "user.role_changed",
            entity="user",
            entity_id=user.user_id,
            payload={"username": user.username, "role": user.role.value, "grant_id": grant_id},
        )
        uow.commit()
    security.forget_revocations()
    return ApprovedGrant(decided, user, password)


def reject_role_grant(security: Security, *, actor: Principal, grant_id: str) -> RoleGrant:
    """Any admin (the requester too, withdrawing it) rejects a pending grant."""
    require(actor, Permission.USER_MANAGE)
    now = security.clock.now()
    with security.uow_factory() as uow:
        grant = _pending_grant(uow, grant_id)
        decided = replace(grant, status="rejected", decided_by=actor.user_id, decided_at=now)
        uow.users.decide_grant(decided)
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="role_grant.rejected",
            entity="role_grant",
            entity_id=grant_id,
            payload={"role": grant.role.value, "requested_by": grant.requested_by},
        )
        uow.commit()
    return decided


def pending_role_grants(security: Security, *, actor: Principal) -> list[RoleGrant]:
    require(actor, Permission.USER_MANAGE)
    with security.uow_factory() as uow:
        return uow.users.pending_grants()


def _pending_grant(uow: SecurityUnitOfWork, grant_id: str) -> RoleGrant:
    grant = uow.users.grant(grant_id)
    if grant is None:
        raise NotFound("no such role grant", details={"grant_id": grant_id})
    if grant.status != "pending":
        raise Conflict(
            f"the role grant is {grant.status} already", details={"status": grant.status}
        )
    return grant


BOOTSTRAP_ADMINS = 2
"""Admins an operator may create without approval: there is nobody to ask before them."""


def bootstrap_admin(security: Security, *, username: str, password: str, operator: str) -> User:
    """The installation's first admins, from the operator's CLI (audited as the operator).

    Allowed only while fewer than ``BOOTSTRAP_ADMINS`` admins are enabled; after that every
    admin or approver needs a role grant approved by a second admin.
    """
    name = _username(username)
    password_hash = security.hasher.hash(password)
    with security.uow_factory() as uow:
        if uow.users.count_enabled(Role.ADMIN) >= BOOTSTRAP_ADMINS:
            raise FourEyesViolation(
                "the platform has its first admins: an admin account needs a role grant "
                "approved by a second admin",
                details={"role": Role.ADMIN.value},
            )
        if uow.users.by_username(name) is not None:
            raise Conflict("the username is taken", details={"field": "username"})
        user = User(
            user_id=new_id("usr"),
            username=name,
            role=Role.ADMIN,
            created_at=security.clock.now(),
            password_hash=password_hash,
        )
        uow.users.add(user)
        audit.record(
            uow,
            actor=f"operator:{operator}",
            action="user.created",
            entity="user",
            entity_id=user.user_id,
            payload={"username": name, "role": Role.ADMIN.value, "bootstrap": True},
        )
        uow.commit()
    return user


def user_by_username(security: Security, username: str) -> User:
    with security.uow_factory() as uow:
        user = uow.users.by_username(username.strip().lower())
    if user is None:
        raise NotFound("no such user", details={"username": username})
    return user


def principal_of(user: User) -> Principal:
    """The principal a stored user acts as (the CLI acts as a named admin)."""
    if user.disabled:
        raise Forbidden("the account is disabled", details={"user_id": user.user_id})
    return _principal_of(user)


def revoke_api_key(security: Security, *, actor: Principal, key_id: str) -> ApiKeyRecord:
    """The key stops working at once (every request reads it); revoking twice is harmless."""
    require(actor, Permission.API_KEY_MANAGE)
    now = security.clock.now()
    with security.uow_factory() as uow:
        record = uow.api_keys.get(key_id)
        if record is None:
            raise NotFound("no such API key", details={"key_id": key_id})
        if record.revoked_at is not None:
            return record
        record = replace(record, revoked_at=now)
        uow.api_keys.update(record)
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="api_key.revoked",
            entity="api_key",
            entity_id=key_id,
            payload={"partner_id": record.partner_id},
        )
        uow.commit()
    return record


def rotate_api_key(security: Security, *, actor: Principal, key_id: str) -> IssuedApiKey:
    """A new secret for the same key id, partner and scopes; the old secret dies at once."""
    require(actor, Permission.API_KEY_MANAGE)
    secret = secrets.token_urlsafe(32)
    with security.uow_factory() as uow:
        record = uow.api_keys.get(key_id)
        if record is None:
            raise NotFound("no such API key", details={"key_id": key_id})
        if record.revoked_at is not None:
            raise Conflict("a revoked API key is not rotated", details={"key_id": key_id})
        uow.api_keys.update(replace(record, secret_hash=_secret_hash(secret)))
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="api_key.rotated",
            entity="api_key",
            entity_id=key_id,
            payload={"partner_id": record.partner_id},
        )
        uow.commit()
    return IssuedApiKey(
        key_id, record.partner_id, record.scopes, f"{API_KEY_PREFIX}_{key_id}_{secret}"
    )


def search_audit_events(
    security: Security, *, actor: Principal, query: AuditQuery
) -> list[AuditEvent]:
    """Audit search for auditors and admins (read-only)."""
    require(actor, Permission.AUDIT_READ)
    return audit.search_audit(security.reader_factory, query)


def get_user(security: Security, user_id: str) -> User:
    with security.uow_factory() as uow:
        user = uow.users.get(user_id)
    if user is None:
        raise NotFound("no such user")
    return user


def _principal_of(user: User) -> Principal:
    return Principal(user_id=user.user_id, role=user.role, partner_id=user.partner_id)
