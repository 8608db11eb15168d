"""Security administration: disabling users, role grants (four eyes), API keys, audit search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from puhui.services.ports import AuditQuery
from puhui.services.security import accounts
from puhui.services.security.ports import RoleGrant, User
from puhui.web.dependencies import CurrentPrincipal, Deps
from puhui.web.schemas import (
    ApiKeyOut,
    ApiKeyStatusOut,
    ApprovedGrantOut,
    AuditEventOut,
    ErrorBody,
    RoleGrantCreate,
    RoleGrantOut,
    RoleGrantRejection,
    UserStatusOut,
)
from puhui.web.schemas.common import IsoDateTime

ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
Id = Annotated[str, Path(min_length=1, max_length=64)]
Text = Annotated[str | None, Query(min_length=1, max_length=128)]
router = APIRouter(prefix="/api/v1", tags=["administration"], responses=ERRORS)  # type: ignore[arg-type]


def _user(user: User) -> UserStatusOut:
    return UserStatusOut(
        user_id=user.user_id, username=user.username, role=user.role.value, disabled=user.disabled
    )


def _grant(grant: RoleGrant) -> RoleGrantOut:
    return RoleGrantOut(
        grant_id=grant.grant_id,
        role=grant.role.value,
        username=grant.username,
        user_id=grant.user_id,
        status=grant.status,
        requested_by=grant.requested_by,
        requested_at=grant.requested_at,
        decided_by=grant.decided_by,
        decided_at=grant.decided_at,
        decision_reason=grant.decision_reason,
    )


@router.post("/users/{user_id}/disable", response_model=UserStatusOut)
def disable_user(deps: Deps, principal: CurrentPrincipal, user_id: Id) -> UserStatusOut:
    """Disable a user (admin): they cannot sign in and their tokens die at once."""
    return _user(
        accounts.set_user_disabled(deps.security, actor=principal, user_id=user_id, disabled=True)
    )


@router.post("/users/{user_id}/enable", response_model=UserStatusOut)
def enable_user(deps: Deps, principal: CurrentPrincipal, user_id: Id) -> UserStatusOut:
    """Enable a disabled user again (admin); they sign in anew."""
    return _user(
        accounts.set_user_disabled(deps.security, actor=principal, user_id=user_id, disabled=False)
    )


@router.post("/role-grants", response_model=RoleGrantOut, status_code=status.HTTP_202_ACCEPTED)
def request_role_grant(
    deps: Deps, principal: CurrentPrincipal, body: RoleGrantCreate
) -> RoleGrantOut:
    """Ask for an approver or admin account, or an elevation: pending until a second admin
    approves it."""
    grant = accounts.request_role_grant(
        deps.security,
        actor=principal,
        role=body.role,
        username=body.username,
        user_id=body.user_id,
    )
    return _grant(grant)


@router.get("/role-grants", response_model=list[RoleGrantOut])
def pending_role_grants(deps: Deps, principal: CurrentPrincipal) -> list[RoleGrantOut]:
    """Role grants waiting for a second admin."""
    return [_grant(g) for g in accounts.pending_role_grants(deps.security, actor=principal)]


@router.get("/role-grants/decided", response_model=list[RoleGrantOut])
def decided_role_grants(
    deps: Deps,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=accounts.MAX_DECIDED_GRANTS)] = 20,
) -> list[RoleGrantOut]:
    """The latest decided role grants: who approved or rejected each, when, and why."""
    decided = accounts.decided_role_grants(deps.security, actor=principal, limit=limit)
    return [_grant(g) for g in decided]


@router.post("/role-grants/{grant_id}/approval", response_model=ApprovedGrantOut)
def approve_role_grant(deps: Deps, principal: CurrentPrincipal, grant_id: Id) -> ApprovedGrantOut:
    """A second admin (not the requester, not the grantee) approves; the account gets a new
    password, shown once in this response."""
    approved = accounts.approve_role_grant(deps.security, actor=principal, grant_id=grant_id)
    return ApprovedGrantOut(
        grant=_grant(approved.grant), user=_user(approved.user), password=approved.password
    )


@router.post("/role-grants/{grant_id}/rejection", response_model=RoleGrantOut)
def reject_role_grant(
    deps: Deps, principal: CurrentPrincipal, grant_id: Id, body: RoleGrantRejection | None = None
) -> RoleGrantOut:
    """Reject (or, by its requester, withdraw) a pending role grant; ``reason`` (optional here)
    is kept on the grant (``decision_reason``) and in the audit payload."""
    rejected = accounts.reject_role_grant(
        deps.security,
        actor=principal,
        grant_id=grant_id,
        reason=body.reason if body is not None else None,
    )
    return _grant(rejected)


@router.post("/api-keys/{key_id}/revocation", response_model=ApiKeyStatusOut)
def revoke_api_key(deps: Deps, principal: CurrentPrincipal, key_id: Id) -> ApiKeyStatusOut:
    """The key stops working at once."""
    record = accounts.revoke_api_key(deps.security, actor=principal, key_id=key_id)
    return ApiKeyStatusOut(
        key_id=record.key_id,
        partner_id=record.partner_id,
        scopes=sorted(p.value for p in record.scopes),
        revoked_at=record.revoked_at,
    )


@router.post("/api-keys/{key_id}/rotation", response_model=ApiKeyOut)
def rotate_api_key(deps: Deps, principal: CurrentPrincipal, key_id: Id) -> ApiKeyOut:
    """A new secret for the same key id, partner and scopes; the old secret dies at once."""
    issued = accounts.rotate_api_key(deps.security, actor=principal, key_id=key_id)
    return ApiKeyOut(
        key_id=issued.key_id,
        partner_id=issued.partner_id,
        scopes=sorted(p.value for p in issued.scopes),
        api_key=issued.api_key,
    )


@router.get("/audit/events", response_model=list[AuditEventOut])
def search_audit(  # noqa: PLR0917 - one parameter per filter, as FastAPI declares them
    deps: Deps,
    principal: CurrentPrincipal,
    actor: Text = None,
    entity: Text = None,
    entity_id: Text = None,
    action: Text = None,
    since: Annotated[IsoDateTime | None, Query(alias="from")] = None,
    until: Annotated[IsoDateTime | None, Query(alias="to")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[AuditEventOut]:
    """Search the audit trail (auditors and admins): newest first; times carry their zone."""
    query = AuditQuery(
        actor=actor,
        action_prefix=action,
        entity=entity,
        entity_id=entity_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    events = accounts.search_audit_events(deps.security, actor=principal, query=query)
    return [
        AuditEventOut(
            seq=e.seq,
            occurred_at=e.occurred_at,
            actor=e.actor,
            action=e.action,
            entity=e.entity,
            entity_id=e.entity_id,
            payload_digest=e.payload_digest,
        )
        for e in events
    ]
