"""Extension and restructuring on SQLite and PostgreSQL: four eyes, policy, one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from puhui.adapters.db.loan_changes.unit_of_work import LoanChangesUnitOfWork
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.domain.errors import PuhuiError
from puhui.domain.ids import LoanId
from puhui.domain.lending.loan_changes import ChangePolicy
from puhui.services.loan_changes.changes import (
    approve_change,
    changes_of_loan,
    pending_changes,
    reject_change,
    request_extension,
    request_restructuring,
)

Factory = Callable[[], LoanChangesUnitOfWork]
POLICY = ChangePolicy()
CHANGE_ON = date(2026, 1, 20)


def _extend(
    uow_factory: Factory,
    clock: FixedClock,
    loan_id: str,
    months: int,
    *,
    key: str = "ext-1",
    in_difficulty: bool = False,
) -> str:
    return request_extension(
        uow_factory,
        loan_id=loan_id,
        extension_months=months,
        on=CHANGE_ON,
        reason="seasonal cash flow",
        in_difficulty=in_difficulty,
        idempotency_key=key,
        actor="manager",
        clock=clock,
        policy=POLICY,
    ).change_id


def _approve(
    uow_factory: Factory, clock: FixedClock, change_id: str, *, actor: str = "approver"
) -> None:
    approve_change(
        uow_factory,
        change_id,
        on=CHANGE_ON,
        idempotency_key=f"approve-{change_id}-{actor}",
        actor=actor,
        clock=clock,
        policy=POLICY,
    )


def _state(platform: Platform, loan_id: str) -> tuple[object, ...]:
    with platform.database.engine.connect() as connection:
        loan = connection.execute(
            text(
                "SELECT maturity_date, period_principal_fen, version FROM loans WHERE loan_id = :l"
            ),
            {"l": loan_id},
        ).one()
        rows = connection.execute(
            text(
                "SELECT period, due_date, principal_fen, interest_fen FROM loan_instalments"
                " WHERE loan_id = :l ORDER BY period"
            ),
            {"l": loan_id},
        ).all()
        changes = connection.execute(text("SELECT change_id, status FROM loan_changes")).all()
    return (tuple(loan), tuple(map(tuple, rows)), tuple(map(tuple, changes)))


def _schedule(uow_factory: Factory, loan_id: str) -> list[tuple[int, date, int, int]]:
    with uow_factory() as uow:
        return [
            (i.period, i.due_date, i.principal_fen, i.interest_fen)
            for i in uow.instalments.schedule(loan_id)
        ]


def _audit_actions(platform: Platform) -> list[str]:
    with platform.database.engine.connect() as connection:
        return [
            r[0]
            for r in connection.execute(
                text(
                    "SELECT action FROM audit_events WHERE action LIKE 'loan_change.%' ORDER BY seq"
                )
            )
        ]


def test_approved_extension_replaces_the_remaining_schedule(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse()
    change_id = _extend(uow_factory, clock, loan_id, 6)
    assert [c.change_id for c in pending_changes(uow_factory)] == [change_id]
    _approve(uow_factory, clock, change_id)

    schedule = _schedule(uow_factory, loan_id)
    assert len(schedule) == 1 + 11 + 6  # the running period, then 11 + 6 new ones
    assert schedule[0] == (1, date(2026, 2, 2), 0, schedule[0][3])
    assert schedule[0][3] > 0  # the running period's interest is kept
    assert sum(p for _, _, p, _ in schedule) == 120_000_00  # no principal created or lost
    assert schedule[-1][1] == date(2027, 7, 2)
    assert [p for p, *_ in schedule] == list(range(1, 19))
    (change,) = changes_of_loan(uow_factory, loan_id)
    assert change.status == "approved"
    assert change.approved_by == "approver"
    assert change.maturity_before == date(2027, 1, 2)
    assert change.maturity_after == date(2027, 7, 2)
    assert change.observation_ends_on is None  # not a restructuring
    with uow_factory() as uow:
        loan = uow.loans.get(loan_id)
    assert loan is not None
    assert loan.maturity_date == date(2027, 7, 2)
    assert loan.period_principal_fen == 0
    assert _audit_actions(changes_platform) == [
        "loan_change.extension_requested",
        "loan_change.extension_approved",
    ]


def test_requester_cannot_approve_and_nothing_changes(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse()
    change_id = _extend(uow_factory, clock, loan_id, 3)
    before = _state(changes_platform, loan_id)
    with pytest.raises(PuhuiError) as refused:
        _approve(uow_factory, clock, change_id, actor="manager")
    assert refused.value.code == "four_eyes_violation"
    assert _state(changes_platform, loan_id) == before


def test_extension_beyond_policy_is_refused_and_nothing_recorded(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse(term_months=24)
    before = _state(changes_platform, loan_id)
    with pytest.raises(PuhuiError) as refused:
        _extend(uow_factory, clock, loan_id, 13)  # a 24-month loan: at most 12
    assert refused.value.code == "extension_beyond_policy"
    assert _state(changes_platform, loan_id) == before
    assert _audit_actions(changes_platform) == []


def test_extension_of_a_loan_in_arrears_is_refused(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse()
    with changes_platform.database.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE loans SET days_past_due = 3, overdue_since = :d, "
                "overdue_principal_fen = 100 WHERE loan_id = :l"
            ),
            {"d": date(2026, 1, 17), "l": loan_id},
        )
    before = _state(changes_platform, loan_id)
    with pytest.raises(PuhuiError) as refused:
        _extend(uow_factory, clock, loan_id, 3)
    assert refused.value.code == "loan_in_arrears"
    assert _state(changes_platform, loan_id) == before
    # For a debtor in difficulty it is a restructuring and may go ahead.
    _extend(uow_factory, clock, loan_id, 3, key="ext-2", in_difficulty=True)


def test_request_is_idempotent_and_a_reused_key_for_another_request_conflicts(
    uow_factory: Factory, clock: FixedClock, disburse: Callable[..., LoanId]
) -> None:
    loan_id = disburse()
    first = _extend(uow_factory, clock, loan_id, 6)
    assert _extend(uow_factory, clock, loan_id, 6) == first
    with pytest.raises(PuhuiError) as refused:
        _extend(uow_factory, clock, loan_id, 5)
    assert refused.value.code == "idempotency_conflict"
    assert len(changes_of_loan(uow_factory, loan_id)) == 1


def test_approving_twice_is_refused(
    uow_factory: Factory, clock: FixedClock, disburse: Callable[..., LoanId]
) -> None:
    loan_id = disburse()
    change_id = _extend(uow_factory, clock, loan_id, 6)
    _approve(uow_factory, clock, change_id)
    with pytest.raises(PuhuiError) as refused:
        _approve(uow_factory, clock, change_id, actor="other approver")
    assert refused.value.code == "change_not_pending"


def test_restructuring_sets_an_observation_period_and_counts_against_policy(
    uow_factory: Factory, clock: FixedClock, disburse: Callable[..., LoanId]
) -> None:
    loan_id = disburse()
    for n in (1, 2):
        change = request_restructuring(
            uow_factory,
            loan_id=loan_id,
            new_term_months=24,
            on=CHANGE_ON,
            reason="sales fell by half",
            idempotency_key=f"re-{n}",
            actor="manager",
            clock=clock,
            policy=POLICY,
        )
        _approve(uow_factory, clock, change.change_id)
    second, first = sorted(
        changes_of_loan(uow_factory, loan_id), key=lambda c: not c.second_in_observation
    )
    # first repayment date after 20 Jan is 2 Feb 2026; one year beats two periods
    assert first.observation_ends_on == date(2027, 2, 2)
    assert first.second_in_observation is False
    assert second.second_in_observation is True
    schedule = _schedule(uow_factory, loan_id)
    assert len(schedule) == 25
    assert sum(p for _, _, p, _ in schedule) == 120_000_00
    with pytest.raises(PuhuiError) as refused:
        _extend(uow_factory, clock, loan_id, 1, key="ext-3", in_difficulty=True)
    assert refused.value.code == "too_many_changes"


def test_one_change_at_a_time_and_a_rejected_one_frees_the_loan(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse()
    first = _extend(uow_factory, clock, loan_id, 2)
    with pytest.raises(PuhuiError) as refused:
        _extend(uow_factory, clock, loan_id, 3, key="ext-2")
    assert refused.value.code == "change_already_pending"
    before = _schedule(uow_factory, loan_id)
    rejected = reject_change(
        uow_factory,
        first,
        reason="not needed after all",
        idempotency_key="rej",
        actor="approver",
        clock=clock,
    )
    assert rejected.status == "rejected"
    assert _schedule(uow_factory, loan_id) == before
    with pytest.raises(PuhuiError) as late:
        _approve(uow_factory, clock, first)
    assert late.value.code == "change_not_pending"
    second = _extend(uow_factory, clock, loan_id, 3, key="ext-3")
    _approve(uow_factory, clock, second)
    assert sorted(c.status for c in changes_of_loan(uow_factory, loan_id)) == [
        "approved",
        "rejected",
    ]
    assert "loan_change.extension_rejected" in _audit_actions(changes_platform)


def _restructure_at(
    uow_factory: Factory, clock: FixedClock, loan_id: str, rate: Decimal | None, key: str
) -> str:
    return request_restructuring(
        uow_factory,
        loan_id=loan_id,
        new_term_months=24,
        on=CHANGE_ON,
        reason="sales fell by half",
        idempotency_key=key,
        actor="manager",
        clock=clock,
        policy=POLICY,
        new_annual_rate=rate,
    ).change_id


def test_a_restructuring_may_lower_the_rate_from_the_next_period(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    kept, lowered = disburse(), disburse()
    _approve(uow_factory, clock, _restructure_at(uow_factory, clock, kept, None, "re-kept"))
    change_id = _restructure_at(uow_factory, clock, lowered, Decimal("0.03"), "re-low")
    (pending,) = [c for c in changes_of_loan(uow_factory, lowered) if c.change_id == change_id]
    assert pending.new_annual_rate == Decimal("0.03")
    _approve(uow_factory, clock, change_id)
    with uow_factory() as uow:
        loan = uow.loans.get(lowered)
        unchanged = uow.loans.get(kept)
    assert loan is not None
    assert unchanged is not None
    assert (loan.annual_rate, loan.rate_e8) == (Decimal("0.03"), 3_000_000)
    assert unchanged.annual_rate == Decimal("0.0435")
    low, same = _schedule(uow_factory, lowered), _schedule(uow_factory, kept)
    # The running period keeps the interest it is accruing; every later one is priced lower.
    assert low[0] == same[0]
    assert all(a[3] < b[3] for a, b in zip(low[1:], same[1:], strict=True))
    assert sum(p for _, _, p, _ in low) == sum(p for _, _, p, _ in same) == 120_000_00
    assert "loan_change.restructuring_requested" in _audit_actions(changes_platform)


@pytest.mark.parametrize(
    ("rate", "code"), [(Decimal("0.25"), "rate_out_of_range"), (Decimal("0.031234567"), None)]
)
def test_a_rate_outside_the_product_or_too_precise_is_refused_and_nothing_is_stored(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
    rate: Decimal,
    code: str | None,
) -> None:
    loan_id = disburse()
    before = _state(changes_platform, loan_id)
    with pytest.raises(PuhuiError) as refused:
        _restructure_at(uow_factory, clock, loan_id, rate, "re-bad")
    assert refused.value.code == (code or "invalid_rate")
    assert _state(changes_platform, loan_id) == before
