"""Idempotent requests of supply-chain finance: a key replays its first result; the same key
with another request is 409 ``idempotency_conflict`` (``servicing.idempotency``). Keys are
the caller's own, scoped to the user."""

from __future__ import annotations

from typing import TypeVar

from puhui.services.security.permissions import Principal
from puhui.services.servicing.idempotency import check_key, earlier_request
from puhui.services.servicing.idempotency import request_digest as digest
from puhui.services.servicing.ports import StoredRequest
from puhui.services.supply_chain import codec
from puhui.services.supply_chain.ports import SupplyChainUnitOfWork

__all__ = ["digest", "remember", "remember_if_new", "replay", "scoped_key"]

View = TypeVar("View")


def scoped_key(principal: Principal, key: str) -> str:
    """Two users choosing the same key do not collide."""
    return f"scf:{principal.user_id}:{check_key(key)}"


def replay(
    uow: SupplyChainUnitOfWork, key: str, operation: str, request_digest: str, cls: type[View]
) -> View | None:
    """The stored first result of ``key``, None if new; another request's key is 409."""
    stored = earlier_request(uow.requests, key, operation, request_digest)
    return None if stored is None else codec.loads(cls, stored.result_json)


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


def remember_if_new(
    uow: SupplyChainUnitOfWork, key: str, operation: str, request_digest: str, result: object
) -> bool:
    """Record the first result of ``key`` unless the key is taken already: True if recorded."""
    return uow.requests.add_if_new(
        StoredRequest(
            idempotency_key=key,
            operation=operation,
            request_digest=request_digest,
            result_json=codec.dumps(result),
        )
    )
