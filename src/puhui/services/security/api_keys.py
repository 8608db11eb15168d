"""Partner API keys: issue, authenticate, revoke and rotate (secrets shown once)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace

from puhui.domain.errors import Conflict, InvalidInput, NotFound
from puhui.domain.origination.errors import Unauthenticated
from puhui.services import audit
from puhui.services.security.context import Security
from puhui.services.security.permissions import (
    PARTNER_SCOPES,
    Permission,
    Principal,
    Role,
    require,
)
from puhui.services.security.ports import (
    ApiKeyRecord,
)

API_KEY_PREFIX = "pk"


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


MAX_KEYS_PAGE = 200


def list_api_keys(
    security: Security, *, actor: Principal, limit: int = 50, offset: int = 0
) -> list[ApiKeyRecord]:
    """Partner API keys newest first, revoked ones too (never their secrets: only hashes are
    stored)."""
    require(actor, Permission.API_KEY_MANAGE)
    if not 1 <= limit <= MAX_KEYS_PAGE or offset < 0:
        raise InvalidInput(f"a page holds 1 to {MAX_KEYS_PAGE} keys", details={"field": "limit"})
    with security.reader_factory() as uow:
        return uow.api_keys.listing(limit=limit, offset=offset)


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
