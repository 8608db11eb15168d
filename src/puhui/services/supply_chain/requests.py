"""Idempotent requests of supply-chain finance: a key replays its first result; the same key
with another request is 409 ``idempotency_conflict``. Keys are the caller's own."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, TypeVar

from puhui.domain.errors import IdempotencyConflict
from puhui.services.security.permissions import Principal
from puhui.services.servicing.idempotency import check_key
from puhui.services.servicing.ports import StoredRequest
from puhui.services.supply_chain import codec
from puhui.services.supply_chain.ports import SupplyChainUnitOfWork

View = TypeVar("View")


def scoped_key(principal: Principal, key: str) -> str:
    """Two users choosing the same key do not collide."""
    return f"scf:{principal.user_id}:{check_key(key)}"


def digest(operation: str, request: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {"operation": operation, **request}, sort_keys=True, default=str, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def replay(
    uow: SupplyChainUnitOfWork, key: str, operation: str, request_digest: str, cls: type[View]
) -> View | None:
    """The stored first result of ``key``, None if new; another request's key is 409."""
    stored = uow.requests.get(key)
    if stored is None:
        return None
    if stored.operation != operation or stored.request_digest != request_digest:
        raise IdempotencyConflict(
            "the idempotency key was already used for a different request",
            details={"operation": stored.operation},
        )
    return codec.loads(cls, stored.result_json)


def remember(
    uow: SupplyChainUnitOfWork, key: str, operation: str, request_digest: str, result: object
) -> None:
    uow.requests.add(
        StoredRequest(
            idempotency_key=key,
            operation=operation,
            request_digest=request_digest,
            result_json=codec.dumps(result),
        )
    )
