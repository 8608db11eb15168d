"""A strategy version sent back to draft keeps who sent it back, when and what its author
should change (migration 0049), on SQLite and PostgreSQL: the reason survives the next
submission, a bad reason sends nothing back, and a downgrade and upgrade lose no version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import inspect

from puhui.adapters.db import migrate
from puhui.adapters.db.strategies import StrategyUnitOfWork
from puhui.bootstrap import Platform
from puhui.domain.audit import payload_digest
from puhui.domain.clock import FixedClock
from puhui.services import strategies as lifecycle
from puhui.services.ports import AuditQuery
from puhui.services.strategies import ReturnReasonInvalid, StrategyStatus

Factory = Callable[[], StrategyUnitOfWork]
NAME = "mse-online-credit"


@pytest.fixture
def uow(platform: Platform) -> Factory:
    engine = platform.database.engine
    return lambda: StrategyUnitOfWork(engine, clock=platform.clock, audit_key=platform.audit_key)


def _submitted(uow: Factory, clock: FixedClock, text: str) -> None:
    lifecycle.create_draft(uow, text=text, actor="maker", clock=clock)
    lifecycle.submit(uow, NAME, 1, actor="maker", clock=clock)


def test_the_version_keeps_why_it_was_sent_back_after_it_is_submitted_again(
    uow: Factory, clock: FixedClock, shipped_text: str, platform: Platform
) -> None:
    _submitted(uow, clock, shipped_text)
    sent_back_at = clock.now()
    back = lifecycle.reject(
        uow, NAME, 1, actor="checker", clock=clock, reason="  cut-off too strict for 小微  "
    )
    assert back.status is StrategyStatus.DRAFT
    assert (back.submitted_by, back.returned_by, back.returned_at) == (
        None,
        "checker",
        sent_back_at,
    )
    assert back.return_reason == "cut-off too strict for 小微"
    with uow() as work:
        stored = work.strategies.get(NAME, 1)
        event = next(iter(work.audit.search(AuditQuery(entity_id=f"{NAME}@1"))))
    assert stored == back
    assert (event.action, event.actor) == ("strategy.rejected", "checker")
    assert event.payload_digest == payload_digest(
        {
            "name": NAME,
            "version": 1,
            "content_hash": back.content_hash,
            "kind": "strategy",
            "from": "submitted",
            "to": "draft",
            "reason": "cut-off too strict for 小微",
        }
    )

    clock.advance(timedelta(hours=2))
    again = lifecycle.submit(uow, NAME, 1, actor="maker", clock=clock)
    # Its next approver sees what was asked last time.
    assert (again.returned_by, again.return_reason) == ("checker", "cut-off too strict for 小微")
    without = lifecycle.reject(uow, NAME, 1, actor="checker2", clock=clock)
    assert (without.returned_by, without.returned_at) == ("checker2", clock.now())
    assert without.return_reason is None  # the command line may send back without a reason


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_blank_or_long_reason_sends_nothing_back(
    uow: Factory, clock: FixedClock, shipped_text: str, reason: str
) -> None:
    _submitted(uow, clock, shipped_text)
    with uow() as work:
        before = work.strategies.get(NAME, 1)
    with pytest.raises(ReturnReasonInvalid) as refused:
        lifecycle.reject(uow, NAME, 1, actor="checker", clock=clock, reason=reason)
    assert refused.value.code == "return_reason_invalid"
    assert refused.value.details == {"field": "reason"}
    with uow() as work:
        assert work.strategies.get(NAME, 1) == before


def test_a_round_trip_of_migration_0049_keeps_every_version(
    uow: Factory, clock: FixedClock, shipped_text: str, platform: Platform
) -> None:
    _submitted(uow, clock, shipped_text)
    lifecycle.reject(uow, NAME, 1, actor="checker", clock=clock, reason="add a reason code")
    engine = platform.database.engine
    migrate.downgrade(engine, "0048")
    columns = {c["name"] for c in inspect(engine).get_columns("strategy_versions")}
    assert not columns & {"returned_by", "returned_at", "return_reason"}
    migrate.upgrade(engine, "0049")
    with uow() as work:
        (item,) = work.strategies.list(NAME)
    assert (item.status, item.returned_by, item.return_reason) == (StrategyStatus.DRAFT, None, None)
    lifecycle.submit(uow, NAME, 1, actor="maker", clock=clock)
    assert lifecycle.approve(uow, NAME, 1, actor="checker", clock=clock).approved_by == "checker"
