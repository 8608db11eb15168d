"""Idempotent money requests: a key replays its first result; reused for another request, 409."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any, Self, TypeVar

from puhui.domain.errors import IdempotencyConflict, InvalidInput
from puhui.services.servicing.ports import RequestLog, ServicingUnitOfWork, StoredRequest

MAX_KEY_LENGTH = 120
Result = TypeVar("Result", bound="ResultBase")


def check_key(idempotency_key: str) -> str:
    key = idempotency_key.strip() if isinstance(idempotency_key, str) else ""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            f"an idempotency key of 1 to {MAX_KEY_LENGTH} printable characters is required"
        )
    return key


def request_digest(operation: str, request: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {"operation": operation, **request}, sort_keys=True, default=str, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def earlier_request(
    requests: RequestLog, key: str, operation: str, digest: str
) -> StoredRequest | None:
    """The request first made under ``key``, None if the key is new; a key used for another
    request (another operation or body) is 409 ``idempotency_conflict``. Every service's
    idempotency goes through here, whatever it stores as the answer."""
    stored = requests.get(key)
    if stored is None:
        return None
    if stored.operation != operation or stored.request_digest != digest:
        raise IdempotencyConflict(
            f"idempotency key {key!r} was already used for a different request",
            details={"idempotency_key": key, "operation": stored.operation},
        )
    return stored


def find_replay(
    uow: ServicingUnitOfWork, key: str, operation: str, digest: str, result_type: type[Result]
) -> Result | None:
    """The stored result of ``key`` (marked replayed), None if new; a different request → 409."""
    stored = earlier_request(uow.requests, key, operation, digest)
    if stored is None:
        return None
    return result_type.from_json(stored.result_json, replayed=True)


def remember(
    uow: ServicingUnitOfWork,
    key: str,
    operation: str,
    digest: str,
    result: ResultBase,
    *,
    undo_json: str | None = None,
) -> None:
    uow.requests.add(
        StoredRequest(
            idempotency_key=key,
            operation=operation,
            request_digest=digest,
            result_json=result.to_json(),
            undo_json=undo_json,
        )
    )


class ResultBase:
    """Results of money requests: flat dataclasses of str/int/bool that round-trip as JSON."""

    replayed: bool

    def to_json(self) -> str:
        data = asdict(self)  # type: ignore[call-overload]
        data.pop("replayed", None)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, replayed: bool = False) -> Self:
        data = json.loads(text)
        names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        values = {k: v for k, v in data.items() if k in names}
        values["replayed"] = replayed
        return cls(**values)
