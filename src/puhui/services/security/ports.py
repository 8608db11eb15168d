"""What the security services need from storage: users, API keys, one-time codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from puhui.services.ports import UnitOfWork
from puhui.services.security.permissions import Permission, Role


@dataclass(frozen=True, slots=True)
class User:
    """A login. Applicants have a phone (verified by one-time code) and no password."""

    user_id: str
    username: str
    role: Role
    created_at: datetime
    password_hash: str | None = None
    partner_id: str | None = None
    phone: str | None = None
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    key_id: str
    partner_id: str
    secret_hash: str
    scopes: frozenset[Permission]
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """A request to give a privileged role (a new account or an existing user): four eyes.

    One admin asks; another approves or rejects. A new account's password is chosen at
    approval and shown once to the approving admin, so the requester never knows it.
    """

    grant_id: str
    role: Role
    requested_by: str
    requested_at: datetime
    username: str
    user_id: str | None = None
    """The user to elevate; None when the grant creates the account."""
    status: str = "pending"
    """pending, approved or rejected."""
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    """Why it was rejected or withdrawn, when the admin said."""


@dataclass(frozen=True, slots=True)
class OtpRecord:
    otp_id: str
    phone: str
    code_hash: str
    issued_at: datetime
    expires_at: datetime
    attempts: int = 0
    used_at: datetime | None = None


class UserRepository(Protocol):
    def add(self, user: User) -> None: ...

    def get(self, user_id: str) -> User | None: ...

    def by_username(self, username: str) -> User | None: ...

    def applicant_by_phone(self, phone: str) -> User | None: ...

    def update(self, user: User) -> None:
        """Store the user's role, password hash and disabled flag."""
        ...

    def count_enabled(self, role: Role) -> int: ...

    def add_grant(self, grant: RoleGrant) -> None: ...

    def grant(self, grant_id: str) -> RoleGrant | None: ...

    def decide_grant(self, grant: RoleGrant) -> None:
        """Store a pending grant's decision (approved or rejected, by whom and when)."""
        ...

    def pending_grants(self) -> list[RoleGrant]: ...

    def decided_grants(self, *, limit: int) -> list[RoleGrant]:
        """Approved, rejected or withdrawn grants, the latest decided first."""
        ...

    def staff(self, *, role: Role | None, limit: int, offset: int) -> list[User]:
        """Staff and partner users (never applicants) by username, a page at a time."""
        ...


class ApiKeyRepository(Protocol):
    def add(self, record: ApiKeyRecord) -> None: ...

    def get(self, key_id: str) -> ApiKeyRecord | None: ...

    def update(self, record: ApiKeyRecord) -> None:
        """Store a key's secret hash and revocation (rotation and revocation)."""
        ...

    def listing(self, *, limit: int, offset: int) -> list[ApiKeyRecord]:
        """Keys newest first, revoked ones too, a page at a time."""
        ...


class OtpRepository(Protocol):
    def add(self, record: OtpRecord) -> None: ...

    def latest_for(self, phone: str) -> OtpRecord | None:
        """The live (unused) code of a phone, if any."""
        ...

    def update(self, record: OtpRecord) -> None: ...


@dataclass(frozen=True, slots=True)
class Revocations:
    """What makes a signed, unexpired access token invalid anyway."""

    token_ids: frozenset[str] = frozenset()
    """Revoked tokens (``jti``), e.g. by logging out."""
    users_since: Mapping[str, datetime] = field(default_factory=dict)
    """Per user, the moment before which every token issued to them is void."""


class SessionRepository(Protocol):
    def revoke_token(
        self, token_id: str, *, user_id: str, revoked_at: datetime, expires_at: datetime
    ) -> None: ...

    def revoke_user(self, user_id: str, *, at: datetime) -> None:
        """Every token of the user issued before ``at`` is void."""
        ...

    def current(self, now: datetime) -> Revocations:
        """Revocations of tokens that have not expired yet, and the users' cut-offs."""
        ...


class SecurityUnitOfWork(UnitOfWork, Protocol):
    @property
    def users(self) -> UserRepository: ...

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def api_keys(self) -> ApiKeyRepository: ...

    @property
    def otps(self) -> OtpRepository: ...


class OtpSender(Protocol):
    """Delivers a one-time code to a phone (an SMS gateway in production)."""

    def send(self, phone: str, code: str) -> None: ...
