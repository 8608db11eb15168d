"""Bodies of user administration, role grants, API keys and the audit search."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from puhui.services.security.permissions import Role
from puhui.web.schemas.common import Strict


class UserStatusOut(BaseModel):
    user_id: str
    username: str
    role: str
    disabled: bool


class RoleGrantCreate(Strict):
    """Either a new account (``username``) or an existing staff user to elevate (``user_id``)."""

    role: Role
    username: str | None = Field(default=None, min_length=1, max_length=64)
    user_id: str | None = Field(default=None, min_length=1, max_length=64)


class RoleGrantRejection(Strict):
    """Why the grant is rejected (1 to 500 characters): kept on the grant and read back."""

    reason: str | None = Field(default=None, min_length=1, max_length=500)


class RoleGrantOut(BaseModel):
    grant_id: str
    role: str
    username: str
    user_id: str | None
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None = Field(description="why it was rejected, when the admin said")


class ApprovedGrantOut(BaseModel):
    grant: RoleGrantOut
    user: UserStatusOut
    password: str = Field(description="the account's new password, shown once: hand it to the user")


class ApiKeyStatusOut(BaseModel):
    key_id: str
    partner_id: str
    scopes: list[str]
    revoked_at: datetime | None


class AuditEventOut(BaseModel):
    seq: int
    occurred_at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    payload_digest: str = Field(description="the trail keeps a digest of the payload only")
