"""The approver's queue shows each waiting change with its loan as it stands now: what is
outstanding, what is past due and for how many days, the penalties and the category end of
day stored, read from the loan itself (the API's ``loan_today``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import text

from puhui.adapters.db.loan_changes.unit_of_work import LoanChangesUnitOfWork
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.domain.ids import LoanId
from puhui.domain.lending.loan_changes import ChangePolicy
from puhui.domain.money import format_yuan
from puhui.services.loan_changes.changes import (
    approve_change,
    pending_queue,
    request_extension,
    request_restructuring,
)
from puhui.web.schemas.loan_changes import pending_out

from .conftest import START, close_days

Factory = Callable[[], LoanChangesUnitOfWork]
ASKED_ON = date(2026, 3, 11)  # the loan disbursed on START has missed its 2 Feb and 2 Mar dues


def _balances(platform: Platform, loan_id: str) -> dict[str, int]:
    columns = (
        "outstanding_principal_fen, overdue_principal_fen, overdue_interest_fen, "
        "penalty_accrued_fen + compound_accrued_fen + penalty_billed_fen + compound_billed_fen "
        "AS penalty_fen, days_past_due"
    )
    with platform.database.engine.connect() as connection:
        row = connection.execute(
            text(f"SELECT {columns} FROM loans WHERE loan_id = :l"), {"l": loan_id}
        ).one()
    return {k: int(v) for k, v in row._mapping.items()}


def test_each_waiting_change_comes_with_its_loan_as_it_stands_now(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    in_arrears = disburse()
    current = disburse(principal_fen=50_000_00, on=ASKED_ON - timedelta(days=20))
    close_days(changes_platform, clock, START, ASKED_ON - timedelta(days=1))
    policy = ChangePolicy()
    restructuring = request_restructuring(
        uow_factory,
        loan_id=in_arrears,
        new_term_months=18,
        on=ASKED_ON,
        reason="orders lost; two instalments unpaid",
        idempotency_key="re-1",
        actor="manager",
        clock=clock,
        policy=policy,
    )
    extension = request_extension(
        uow_factory,
        loan_id=current,
        extension_months=3,
        on=ASKED_ON,
        reason="harvest comes late",
        in_difficulty=False,
        idempotency_key="ex-1",
        actor="manager",
        clock=clock,
        policy=policy,
    )

    late, good = pending_queue(uow_factory, limit=10, offset=0)

    assert (late.change.change_id, good.change.change_id) == (
        restructuring.change_id,
        extension.change_id,
    )
    owed = _balances(changes_platform, in_arrears)
    assert late.loan is not None
    assert owed["days_past_due"] == 36  # really in arrears, by end of day
    assert late.loan.days_past_due == 36
    assert late.loan.outstanding_principal_fen == owed["outstanding_principal_fen"]
    assert late.loan.past_due_principal_fen == owed["overdue_principal_fen"] > 0
    assert late.loan.past_due_interest_fen == owed["overdue_interest_fen"] > 0
    assert late.loan.past_due_fen == owed["overdue_principal_fen"] + owed["overdue_interest_fen"]
    assert late.loan.penalty_fen == owed["penalty_fen"] > 0
    assert (late.loan.category, late.loan.status) == ("special-mention", "active")
    assert good.loan is not None
    assert (good.loan.outstanding_principal_fen, good.loan.past_due_fen) == (50_000_00, 0)
    assert (good.loan.days_past_due, good.loan.penalty_fen, good.loan.category) == (0, 0, "pass")

    shown = pending_out(late).model_dump(mode="json")
    assert shown["change_id"] == restructuring.change_id
    assert shown["loan_today"] == {
        "outstanding_principal": format_yuan(owed["outstanding_principal_fen"]),
        "past_due_principal": format_yuan(owed["overdue_principal_fen"]),
        "past_due_interest": format_yuan(owed["overdue_interest_fen"]),
        "penalty": format_yuan(owed["penalty_fen"]),
        "days_past_due": 36,
        "category": "special-mention",
        "status": "active",
    }

    # Approved, a change leaves the queue; the other stays with its loan.
    approve_change(
        uow_factory,
        restructuring.change_id,
        on=ASKED_ON,
        idempotency_key="ok-1",
        actor="approver",
        clock=clock,
        policy=policy,
    )
    [left] = pending_queue(uow_factory, limit=10, offset=0)
    assert left.change.change_id == extension.change_id
    assert left.loan is not None
    assert left.loan.loan_id == current
    assert pending_queue(uow_factory, limit=10, offset=1) == []
