"""Staff users through their life: create, disable, enable, and role grants with four eyes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from puhui.domain.errors import Conflict, InvalidInput, NotFound
from puhui.domain.ids import new_id
from puhui.domain.origination.errors import Forbidden, FourEyesViolation
from puhui.services import audit
from puhui.services.security.context import Security, principal_from
from puhui.services.security.permissions import (
    PRIVILEGED_ROLES,
    SYSTEM,
    Permission,
    Principal,
    Role,
    require,
)
from puhui.services.security.ports import (
    RoleGrant,
    SecurityUnitOfWork,
    User,
)


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


MAX_GRANT_REASON = 500


class GrantReasonInvalid(InvalidInput):
    """Why a role grant is rejected: 1 to 500 characters, required of an admin other than the
    requester (a requester withdrawing their own request may leave it out)."""

    code = "grant_reason_invalid"


def _grant_reason(reason: str | None, *, required: bool) -> str | None:
    """The reason, trimmed; None when none is given and none is required. A reason given
    blank is refused, as one left out where it is required."""
    if reason is None and not required:
        return None
    text = (reason or "").strip()
    if not text:
        raise GrantReasonInvalid(
            "say why the role grant is rejected: the requester and the auditors read it",
            details={"field": "reason"},
        )
    if len(text) > MAX_GRANT_REASON or not all(c.isprintable() or c in "\n\t" for c in text):
        raise GrantReasonInvalid(
            f"a reason is 1 to {MAX_GRANT_REASON} printable characters",
            details={"field": "reason", "length": len(text)},
        )
    return text


def reject_role_grant(
    security: Security,
    *,
    actor: Principal,
    grant_id: str,
    reason: str | None = None,
    reason_required: bool = False,
) -> RoleGrant:
    """Any admin (the requester too, withdrawing it) rejects a pending grant, saying why.

    The reason is kept on the grant and in the audit payload; when given it must be 1 to 500
    characters. ``reason_required`` makes it mandatory for an admin other than the requester
    (the console asks for it); the API and the command line take it when given, as before.
    """
    require(actor, Permission.USER_MANAGE)
    now = security.clock.now()
    with security.uow_factory() as uow:
        grant = _pending_grant(uow, grant_id)
        text = _grant_reason(
            reason, required=reason_required and grant.requested_by != actor.user_id
        )
        decided = replace(
            grant,
            status="rejected",
            decided_by=actor.user_id,
            decided_at=now,
            decision_reason=text,
        )
        uow.users.decide_grant(decided)
        audit.record(
            uow,
            actor=actor.audit_name(),
            action="role_grant.rejected",
            entity="role_grant",
            entity_id=grant_id,
            payload={
                "role": grant.role.value,
                "requested_by": grant.requested_by,
                "reason": text,
            },
        )
        uow.commit()
    return decided


MAX_DECIDED_GRANTS = 50


def decided_role_grants(
    security: Security, *, actor: Principal, limit: int = 20
) -> list[RoleGrant]:
    """The latest decided grants (approved, rejected or withdrawn), with who decided and why."""
    require(actor, Permission.USER_MANAGE)
    if not 1 <= limit <= MAX_DECIDED_GRANTS:
        raise InvalidInput(
            f"a page holds 1 to {MAX_DECIDED_GRANTS} grants", details={"field": "limit"}
        )
    with security.uow_factory() as uow:
        return uow.users.decided_grants(limit=limit)


def pending_role_grants(security: Security, *, actor: Principal) -> list[RoleGrant]:
    require(actor, Permission.USER_MANAGE)
    with security.uow_factory() as uow:
        return uow.users.pending_grants()


MAX_USERS_PAGE = 200


def list_users(
    security: Security,
    *,
    actor: Principal,
    role: Role | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[User]:
    """Staff and partner users by username, a page at a time (admins): applicants are not
    listed, they are customers."""
    require(actor, Permission.USER_MANAGE)
    if not 1 <= limit <= MAX_USERS_PAGE or offset < 0:
        raise InvalidInput(f"a page holds 1 to {MAX_USERS_PAGE} users", details={"field": "limit"})
    with security.reader_factory() as uow:
        return uow.users.staff(role=role, limit=limit, offset=offset)


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
    return principal_from(user)


def get_user(security: Security, user_id: str) -> User:
    with security.uow_factory() as uow:
        user = uow.users.get(user_id)
    if user is None:
        raise NotFound("no such user")
    return user
