"""A rejected loan change keeps who rejected it, when and why (migration 0048), on SQLite and
PostgreSQL: the service records it, a replay answers it again, the check keeps it off other
statuses, and a downgrade and upgrade lose no change."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from puhui.adapters.db import migrate
from puhui.adapters.db.loan_changes.unit_of_work import LoanChangesUnitOfWork
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.domain.errors import PuhuiError
from puhui.domain.ids import LoanId
from puhui.domain.lending.loan_changes import ChangePolicy
from puhui.services.loan_changes.changes import (
    changes_of_loan,
    reject_change,
    request_extension,
)

Factory = Callable[[], LoanChangesUnitOfWork]
_COLUMNS = {"rejected_by", "rejected_at", "rejection_reason"}


def _extend(uow_factory: Factory, clock: FixedClock, loan_id: str, key: str) -> str:
    return request_extension(
        uow_factory,
        loan_id=loan_id,
        extension_months=2,
        on=date(2026, 1, 20),
        reason="seasonal cash flow",
        in_difficulty=False,
        idempotency_key=key,
        actor="manager",
        clock=clock,
        policy=ChangePolicy(),
    ).change_id


def _reject(uow_factory: Factory, clock: FixedClock, change_id: str, reason: str) -> object:
    return reject_change(
        uow_factory,
        change_id,
        reason=reason,
        idempotency_key=f"reject-{change_id}",
        actor="approver",
        clock=clock,
    )


def test_the_rejection_is_kept_on_the_change_and_replayed(
    uow_factory: Factory, clock: FixedClock, disburse: Callable[..., LoanId]
) -> None:
    loan_id = disburse()
    change_id = _extend(uow_factory, clock, loan_id, "ext-1")
    result = reject_change(
        uow_factory,
        change_id,
        reason="  cash flow recovered  ",
        idempotency_key="rej-1",
        actor="approver",
        clock=clock,
    )
    assert (result.rejected_by, result.rejection_reason) == ("approver", "cash flow recovered")
    assert result.rejected_at == clock.now().isoformat()
    (stored,) = changes_of_loan(uow_factory, loan_id)
    assert stored.status == "rejected"
    assert (stored.rejected_by, stored.rejected_at, stored.rejection_reason) == (
        "approver",
        clock.now(),
        "cash flow recovered",
    )
    # The same key answers the first result again, the rejection included.
    again = reject_change(
        uow_factory,
        change_id,
        reason="cash flow recovered",
        idempotency_key="rej-1",
        actor="approver",
        clock=clock,
    )
    assert again.replayed is True
    assert (again.rejected_by, again.rejected_at) == (result.rejected_by, result.rejected_at)
    # A new key for a change no longer waiting is refused, and the first reason stays.
    with pytest.raises(PuhuiError) as refused:
        _reject(uow_factory, clock, change_id, "another reason")
    assert refused.value.code == "change_not_pending"
    assert changes_of_loan(uow_factory, loan_id)[0].rejection_reason == "cash flow recovered"


def test_a_blank_reason_rejects_nothing(
    uow_factory: Factory, clock: FixedClock, disburse: Callable[..., LoanId]
) -> None:
    loan_id = disburse()
    change_id = _extend(uow_factory, clock, loan_id, "ext-1")
    with pytest.raises(PuhuiError) as refused:
        _reject(uow_factory, clock, change_id, "   ")
    assert refused.value.code == "invalid_input"
    (stored,) = changes_of_loan(uow_factory, loan_id)
    assert (stored.status, stored.rejected_by, stored.rejection_reason) == ("requested", None, None)


def test_only_a_rejected_change_holds_a_rejection_and_a_round_trip_keeps_every_change(
    changes_platform: Platform,
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
) -> None:
    engine = changes_platform.database.engine
    loan_id = disburse()
    rejected = _extend(uow_factory, clock, loan_id, "ext-1")
    _reject(uow_factory, clock, rejected, "not needed")
    waiting = _extend(uow_factory, clock, loan_id, "ext-2")
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            text("UPDATE loan_changes SET rejected_by = 'someone' WHERE change_id = :c"),
            {"c": waiting},
        )

    migrate.downgrade(engine, "0047")
    assert not {c["name"] for c in inspect(engine).get_columns("loan_changes")} & _COLUMNS
    migrate.upgrade(engine, "0048")
    # Both changes are there; the reason given before the upgrade is not known to the row.
    by_id = {c.change_id: c for c in changes_of_loan(uow_factory, loan_id)}
    assert by_id[rejected].status == "rejected"
    assert by_id[rejected].rejected_by is None
    assert by_id[rejected].rejection_reason is None
    assert by_id[waiting].status == "requested"
    # The waiting one may still be rejected, and keeps its reason.
    _reject(uow_factory, clock, waiting, "asked twice")
    reasons = {c.change_id: c.rejection_reason for c in changes_of_loan(uow_factory, loan_id)}
    assert reasons == {rejected: None, waiting: "asked twice"}
