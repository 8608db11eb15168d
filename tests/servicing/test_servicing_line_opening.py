"""Opening a line with an idempotency key: the line and its request log commit together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.errors import IdempotencyConflict
from puhui.domain.ids import CreditLineId, ProductId
from puhui.services.servicing.lines import open_credit_line
from puhui.services.servicing.ports import StoredRequest

UowFactory = Callable[[], ServicingUnitOfWork]
ENTERPRISE = "91350100M000100Y43"
OPENED_ON = date(2026, 1, 5)


def _open(
    uow_factory: Callable[[], Any], product_id: ProductId, *, key: str, limit_fen: int = 500_000_00
) -> CreditLineId:
    return open_credit_line(
        uow_factory,
        enterprise_id=ENTERPRISE,
        product_id=product_id,
        limit_fen=limit_fen,
        annual_rate=Decimal("0.0435"),
        opened_on=OPENED_ON,
        expiry_date=date(2027, 1, 4),
        actor="system:origination",
        idempotency_key=key,
    )


def _counts(uow_factory: UowFactory) -> tuple[int, int]:
    with uow_factory() as uow:
        counts = uow.table_counts()
    return counts["credit_lines"], counts["service_requests"]


class _RequestLogDies:
    """The requests repository of one transaction, dying as the log is written."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def get(self, key: str) -> StoredRequest | None:
        stored: StoredRequest | None = self._inner.get(key)
        return stored

    def add(self, request: StoredRequest) -> None:
        raise RuntimeError("killed between the line and its request log")


class _DyingUnitOfWork:
    """A servicing unit of work whose request log cannot be written."""

    def __init__(self, inner: ServicingUnitOfWork) -> None:
        self._inner = inner
        self.requests: _RequestLogDies | None = None

    def __enter__(self) -> _DyingUnitOfWork:
        self._inner.__enter__()
        self.requests = _RequestLogDies(self._inner.requests)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._inner.__exit__(*exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_crash_between_the_line_and_its_request_log_leaves_neither(
    uow_factory: UowFactory, product_id: ProductId
) -> None:
    with pytest.raises(RuntimeError, match="request log"):
        _open(lambda: _DyingUnitOfWork(uow_factory()), product_id, key="open-app-1")
    assert _counts(uow_factory) == (0, 0)
    line_id = _open(uow_factory, product_id, key="open-app-1")
    assert _counts(uow_factory) == (1, 1)
    with uow_factory() as uow:
        line = uow.lines.get(line_id)
    assert line is not None
    assert line.limit_fen == 500_000_00


def test_the_same_key_answers_with_the_line_it_opened_first(
    uow_factory: UowFactory, product_id: ProductId
) -> None:
    first = _open(uow_factory, product_id, key="open-app-1")
    assert _open(uow_factory, product_id, key="open-app-1") == first
    assert _counts(uow_factory) == (1, 1)


def test_the_key_of_one_line_cannot_open_another(
    uow_factory: UowFactory, product_id: ProductId
) -> None:
    _open(uow_factory, product_id, key="open-app-1")
    with pytest.raises(IdempotencyConflict):
        _open(uow_factory, product_id, key="open-app-1", limit_fen=600_000_00)
    second = _open(uow_factory, product_id, key="open-app-2", limit_fen=600_000_00)
    assert _counts(uow_factory) == (2, 2)
    with uow_factory() as uow:
        line = uow.lines.get(second)
    assert line is not None
    assert line.limit_fen == 600_000_00
