"""A restructuring re-ages a loan in arrears: its overdue principal is re-amortised, its billed
interest and penalties fall due with the first new instalment, nothing is posted, and the
2023 rules still keep a non-performing loan from being upgraded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from puhui.adapters.db.loan_changes.unit_of_work import LoanChangesUnitOfWork
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.domain.errors import PuhuiError
from puhui.domain.ids import LoanId
from puhui.domain.lending.loan_changes import ChangePolicy
from puhui.domain.money import format_yuan
from puhui.services.loan_changes.changes import (
    approve_change,
    change_result,
    changes_of_loan,
    request_extension,
    request_restructuring,
)
from puhui.services.loan_changes.classification import classify_loan
from puhui.services.servicing.term_loans import accelerate_term_loan
from puhui.web.schemas.loan_changes import change_out, record_out

from .conftest import START
from .conftest import close_days as _close

Factory = Callable[[], LoanChangesUnitOfWork]
CHANGE_ON = date(2026, 3, 11)  # the 2 Feb and 2 Mar instalments unpaid
RUNNING_DUE = date(2026, 4, 2)
COLUMNS = (
    "outstanding_principal_fen, billed_principal_fen, overdue_principal_fen, "
    "interest_billed_fen, overdue_interest_fen, penalty_billed_fen, compound_billed_fen, "
    "penalty_accrued_fen, compound_accrued_fen, billed_due_on, overdue_since, days_past_due, "
    "category, current_period, called_in_on"
)


def _loan(platform: Platform, loan_id: str) -> dict[str, Any]:
    with platform.database.engine.connect() as connection:
        row = connection.execute(
            text(f"SELECT {COLUMNS} FROM loans WHERE loan_id = :l"), {"l": loan_id}
        ).one()
    loan = dict(row._mapping)
    for name in ("billed_due_on", "overdue_since", "called_in_on"):
        loan[name] = None if loan[name] is None else str(loan[name])[:10]
    return loan


def _journal(platform: Platform) -> tuple[int, int]:
    with platform.database.engine.connect() as connection:
        entries = connection.execute(text("SELECT count(*) FROM journal_entries")).scalar_one()
        lines = connection.execute(text("SELECT count(*) FROM journal_lines")).scalar_one()
    return int(entries), int(lines)


def _schedule_from(uow_factory: Factory, loan_id: str, period: int) -> list[tuple[date, int]]:
    with uow_factory() as uow:
        return [
            (i.due_date, i.principal_fen)
            for i in uow.instalments.schedule(loan_id)
            if i.period >= period
        ]


def _restructure(
    uow_factory: Factory, clock: FixedClock, loan_id: str, months: int, on: date = CHANGE_ON
) -> None:
    change = request_restructuring(
        uow_factory,
        loan_id=loan_id,
        new_term_months=months,
        on=on,
        reason="orders lost; two instalments unpaid",
        idempotency_key=f"re-{loan_id}",
        actor="manager",
        clock=clock,
        policy=ChangePolicy(),
    )
    approve_change(
        uow_factory,
        change.change_id,
        on=on,
        idempotency_key=f"ok-{loan_id}",
        actor="approver",
        clock=clock,
        policy=ChangePolicy(),
    )


def _extension_refused(uow_factory: Factory, clock: FixedClock, loan_id: str, on: date) -> str:
    """The code with which a three-month extension for a debtor not in difficulty is refused."""
    with pytest.raises(PuhuiError) as refused:
        request_extension(
            uow_factory,
            loan_id=loan_id,
            extension_months=3,
            on=on,
            reason="asks for time",
            in_difficulty=False,
            idempotency_key=f"ext-{loan_id}",
            actor="manager",
            clock=clock,
            policy=ChangePolicy(),
        )
    return refused.value.code


def test_a_restructuring_brings_the_arrears_into_the_new_schedule(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse()
    _close(changes_platform, clock, START, CHANGE_ON - timedelta(days=1))
    before = _loan(changes_platform, loan_id)
    # Really in arrears: two instalments' principal and interest overdue, penalties running.
    assert before["overdue_since"] == "2026-02-03"
    assert before["days_past_due"] == 36
    assert before["category"] == "special-mention"
    assert before["overdue_principal_fen"] > 0
    assert before["overdue_interest_fen"] > 0
    assert before["penalty_accrued_fen"] + before["penalty_billed_fen"] > 0
    journal = _journal(changes_platform)

    _restructure(uow_factory, clock, loan_id, 18)

    after = _loan(changes_platform, loan_id)
    assert _journal(changes_platform) == journal  # nothing posted: amounts keep their accounts
    assert after["outstanding_principal_fen"] == before["outstanding_principal_fen"]
    assert (after["billed_principal_fen"], after["overdue_principal_fen"]) == (0, 0)
    assert after["overdue_interest_fen"] == 0
    assert (after["overdue_since"], after["days_past_due"]) == (None, 0)
    # Billed interest and penalties stay owed, due with the running instalment.
    for owed in ("interest_billed_fen", "penalty_billed_fen", "compound_billed_fen"):
        assert after[owed] == before[owed], owed
    assert after["billed_due_on"] == RUNNING_DUE.isoformat()
    # All the principal, the overdue included, is re-amortised over the 18 new periods.
    schedule = _schedule_from(uow_factory, loan_id, after["current_period"])
    assert schedule[0] == (RUNNING_DUE, 0)
    assert len(schedule) == 19
    assert sum(principal for _, principal in schedule) == before["outstanding_principal_fen"]
    [change] = changes_of_loan(uow_factory, loan_id)
    expected = {
        "principal": format_yuan(before["overdue_principal_fen"]),
        "interest": format_yuan(before["interest_billed_fen"]),
        "penalty": format_yuan(
            sum(
                before[f"{k}_{s}_fen"]
                for k in ("penalty", "compound")
                for s in ("billed", "accrued")
            )
        ),
        "overdue_since": "2026-02-03",
        "days_past_due": 36,
    }
    # The change record keeps it; the API shows it on the change and on the approval's answer.
    assert change.arrears is not None
    assert change.arrears.principal_fen == before["overdue_principal_fen"]
    assert record_out(change).model_dump(mode="json")["arrears_brought_forward"] == expected
    approved = change_out(change_result(change)).model_dump(mode="json")
    assert approved["arrears_brought_forward"] == expected

    # End of day: not past due, no new penalty, and still 关注 (the restructuring floor).
    _close(changes_platform, clock, CHANGE_ON, RUNNING_DUE)
    current = _loan(changes_platform, loan_id)
    assert (current["overdue_since"], current["days_past_due"]) == (None, 0)
    assert current["category"] == "special-mention"
    assert current["compound_accrued_fen"] == 0
    # Unpaid on its date, the first new instalment is overdue with the interest brought in.
    _close(changes_platform, clock, RUNNING_DUE + timedelta(days=1), RUNNING_DUE + timedelta(1))
    late = _loan(changes_platform, loan_id)
    assert late["overdue_since"] == (RUNNING_DUE + timedelta(days=1)).isoformat()
    assert late["days_past_due"] == 1
    assert late["overdue_interest_fen"] > before["interest_billed_fen"]


def test_a_non_performing_loan_stays_non_performing_and_a_current_one_brings_nothing(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    in_arrears, current = disburse(), disburse()
    _close(changes_platform, clock, START, CHANGE_ON - timedelta(days=1))
    with changes_platform.database.engine.begin() as connection:  # classified 次级 before
        connection.execute(
            text("UPDATE loans SET category = 'substandard' WHERE loan_id = :l"),
            {"l": in_arrears},
        )
        # The other loan paid up: nothing billed or overdue.
        connection.execute(
            text(
                "UPDATE loans SET billed_principal_fen = 0, overdue_principal_fen = 0,"
                " outstanding_principal_fen = outstanding_principal_fen - billed_principal_fen,"
                " interest_billed_fen = 0, overdue_interest_fen = 0, penalty_billed_fen = 0,"
                " compound_billed_fen = 0, penalty_accrued_fen = 0, compound_accrued_fen = 0,"
                " penalty_accum_fen_days = 0, compound_accum_fen_days = 0,"
                " billed_due_on = NULL, overdue_since = NULL, days_past_due = 0,"
                " category = 'pass' WHERE loan_id = :l"
            ),
            {"l": current},
        )
    _restructure(uow_factory, clock, in_arrears, 18)
    change = request_extension(
        uow_factory,
        loan_id=current,
        extension_months=6,
        on=CHANGE_ON,
        reason="a long order cycle",
        in_difficulty=True,
        idempotency_key="ext-current",
        actor="manager",
        clock=clock,
        policy=ChangePolicy(),
    )
    approve_change(
        uow_factory,
        change.change_id,
        on=CHANGE_ON,
        idempotency_key="ok-ext-current",
        actor="approver",
        clock=clock,
        policy=ChangePolicy(),
    )
    _close(changes_platform, clock, CHANGE_ON, CHANGE_ON + timedelta(days=1))
    assert _loan(changes_platform, in_arrears)["days_past_due"] == 0
    assert _loan(changes_platform, in_arrears)["category"] == "substandard"
    restructured = changes_of_loan(uow_factory, in_arrears)[0].arrears
    assert restructured is not None
    assert restructured.days_past_due == 36
    [extension] = changes_of_loan(uow_factory, current)
    assert extension.arrears is None  # nothing was in arrears
    assert record_out(extension).arrears_brought_forward is None


def test_a_loan_past_its_last_instalment_is_restructured_from_the_change_date(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse(term_months=3)  # due 2 Feb, 2 Mar, 2 Apr: none paid
    on = date(2026, 4, 21)
    _close(changes_platform, clock, START, on - timedelta(days=1))
    before = _loan(changes_platform, loan_id)
    assert before["overdue_principal_fen"] == before["outstanding_principal_fen"] > 0
    assert before["days_past_due"] == 77
    journal = _journal(changes_platform)
    # An extension for a debtor not in difficulty needs a running instalment (and no arrears).
    assert _extension_refused(uow_factory, clock, loan_id, on) == "loan_not_changeable"
    _restructure(uow_factory, clock, loan_id, 12, on=on)
    after = _loan(changes_platform, loan_id)
    assert _journal(changes_platform) == journal
    assert (after["overdue_principal_fen"], after["days_past_due"]) == (0, 0)
    first_due = date(2026, 5, 21)
    assert after["billed_due_on"] == first_due.isoformat()
    schedule = _schedule_from(uow_factory, loan_id, after["current_period"])
    assert [d for d, _ in schedule] == [
        date(2026 + (4 + k) // 12, (4 + k) % 12 + 1, 21) for k in range(12)
    ]
    assert sum(p for _, p in schedule) == before["outstanding_principal_fen"]
    # Interest runs again from the change date, and nothing is overdue until the first date.
    _close(changes_platform, clock, on, first_due)
    running = _loan(changes_platform, loan_id)
    assert (running["overdue_since"], running["days_past_due"]) == (None, 0)
    with changes_platform.database.engine.connect() as connection:
        maturity = connection.execute(
            text("SELECT maturity_date FROM loans WHERE loan_id = :l"), {"l": loan_id}
        ).scalar_one()
    assert str(maturity)[:10] == "2027-04-21"
    _close(changes_platform, clock, first_due + timedelta(days=1), first_due + timedelta(days=1))
    late = _loan(changes_platform, loan_id)
    assert late["days_past_due"] == 1
    assert late["overdue_interest_fen"] > before["interest_billed_fen"]  # the first period's too


def test_a_loan_called_in_early_is_restructured_from_the_change_date_and_not_extended(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse(term_months=12)
    recalled = date(2026, 2, 20)  # the 2 Feb instalment unpaid
    _close(changes_platform, clock, START, recalled - timedelta(days=1))
    called = accelerate_term_loan(
        changes_platform.servicing_uow, loan_id, on=recalled, actor="risk", reason="task"
    )
    assert called is not None
    on = date(2026, 3, 5)
    _close(changes_platform, clock, recalled, on - timedelta(days=1))
    before = _loan(changes_platform, loan_id)
    assert before["overdue_principal_fen"] == before["outstanding_principal_fen"] == 120_000_00
    assert before["called_in_on"] == "2026-02-20"
    assert classify_loan(uow_factory, loan_id, on).called_in_on == recalled
    assert _extension_refused(uow_factory, clock, loan_id, on) == "loan_not_changeable"
    _restructure(uow_factory, clock, loan_id, 6, on=on)
    after = _loan(changes_platform, loan_id)
    assert (after["overdue_principal_fen"], after["days_past_due"]) == (0, 0)
    assert after["called_in_on"] is None  # the agreed schedule replaces the recall
    assert classify_loan(uow_factory, loan_id, on).called_in_on is None
    schedule = _schedule_from(uow_factory, loan_id, after["current_period"])
    assert schedule[0][0] == date(2026, 4, 5)
    assert len(schedule) == 6
    assert sum(p for _, p in schedule) == 120_000_00
