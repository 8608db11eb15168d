"""End of day classifies restructured loans by the 2023 rules; the endpoint's service agrees."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import text

from puhui.adapters.db.loan_changes.unit_of_work import LoanChangesUnitOfWork
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.domain.ids import LoanId
from puhui.domain.lending.loan_changes import ChangePolicy
from puhui.services.loan_changes.changes import (
    approve_change,
    request_extension,
    request_restructuring,
)
from puhui.services.loan_changes.classification import classify_loan

from .conftest import START
from .conftest import close_days as _close

Factory = Callable[[], LoanChangesUnitOfWork]
ON = date(2026, 1, 5)


def _change(
    uow_factory: Factory, clock: FixedClock, loan_id: str, *, restructure: bool, key: str
) -> None:
    if restructure:
        change = request_restructuring(
            uow_factory,
            loan_id=loan_id,
            new_term_months=18,
            on=ON,
            reason="orders lost",
            idempotency_key=key,
            actor="manager",
            clock=clock,
            policy=ChangePolicy(),
        )
    else:
        change = request_extension(
            uow_factory,
            loan_id=loan_id,
            extension_months=6,
            on=ON,
            reason="longer sales cycle",
            in_difficulty=False,
            idempotency_key=key,
            actor="manager",
            clock=clock,
            policy=ChangePolicy(),
        )
    approve_change(
        uow_factory,
        change.change_id,
        on=ON,
        idempotency_key=f"ok-{key}",
        actor="approver",
        clock=clock,
        policy=ChangePolicy(),
    )


def test_restructured_loan_is_special_mention_and_extended_loan_stays_pass(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    restructured, extended, plain = disburse(), disburse(), disburse()
    _close(changes_platform, clock, START, ON - timedelta(days=1))
    _change(uow_factory, clock, restructured, restructure=True, key="r")
    _change(uow_factory, clock, extended, restructure=False, key="e")
    _close(changes_platform, clock, ON, ON + timedelta(days=2))
    with changes_platform.database.engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT loan_id, category FROM loans")).all())
        history = connection.execute(
            text("SELECT loan_id, from_category, to_category, changed_on FROM category_history")
        ).all()
    assert stored == {
        restructured: "special-mention",
        extended: "pass",
        plain: "pass",
    }
    assert [(*h[:3], str(h[3])[:10]) for h in history] == [
        (restructured, "pass", "special-mention", ON.isoformat())
    ]
    service = classify_loan(uow_factory, restructured, ON + timedelta(days=2))
    assert service.category == "special-mention"
    assert service.in_observation is True
    assert service.observation_ends_on == date(2027, 2, 2)
    assert service.reasons == ("restructured",)
    assert classify_loan(uow_factory, extended, ON).category == "pass"


def test_non_performing_restructured_loan_is_not_upgraded_when_it_cures(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse()
    _close(changes_platform, clock, START, ON - timedelta(days=1))
    _change(uow_factory, clock, loan_id, restructure=True, key="r")
    engine = changes_platform.database.engine
    with engine.begin() as connection:  # the loan had been classified 次级 before
        connection.execute(
            text("UPDATE loans SET category = 'substandard' WHERE loan_id = :l"), {"l": loan_id}
        )
    _close(changes_platform, clock, ON, ON)
    with engine.connect() as connection:
        category = connection.execute(
            text("SELECT category FROM loans WHERE loan_id = :l"), {"l": loan_id}
        ).scalar_one()
    assert category == "substandard"  # DPD 0 alone would give 正常
    result = classify_loan(uow_factory, loan_id, ON)
    assert result.category == "substandard"
    assert result.dpd_floor == "pass"
    assert "no_upgrade_in_observation" in result.reasons


def _observation_end(platform: Platform, loan_id: str) -> date | None:
    with platform.database.engine.connect() as connection:
        value = connection.execute(
            text("SELECT observation_ends_on FROM loan_changes WHERE loan_id = :l"), {"l": loan_id}
        ).scalar_one()
    return None if value is None else date.fromisoformat(str(value)[:10])


def test_a_missed_payment_restarts_the_observation_period_in_end_of_day(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse()
    _close(changes_platform, clock, START, ON - timedelta(days=1))
    _change(uow_factory, clock, loan_id, restructure=True, key="r")
    # From the first repayment date after the change (2026-02-02), one year.
    assert _observation_end(changes_platform, loan_id) == date(2027, 2, 2)

    # Nothing is paid on 2026-02-02: the period starts again on the next repayment date.
    _close(changes_platform, clock, ON, date(2026, 2, 3))
    assert _observation_end(changes_platform, loan_id) == date(2027, 3, 2)
    service = classify_loan(uow_factory, loan_id, date(2026, 2, 3))
    assert service.observation_ends_on == date(2027, 3, 2)  # the batch and the service agree
    with changes_platform.database.engine.connect() as connection:
        category = connection.execute(
            text("SELECT category FROM loans WHERE loan_id = :l"), {"l": loan_id}
        ).scalar_one()
    assert category == "special-mention"

    # Still the same missed payment on the following days: the end does not move again.
    _close(changes_platform, clock, date(2026, 2, 4), date(2026, 2, 6))
    assert _observation_end(changes_platform, loan_id) == date(2027, 3, 2)


def test_a_restructured_loan_paying_on_time_keeps_its_observation_end(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    restructured, late_but_not_restructured = disburse(), disburse()
    _close(changes_platform, clock, START, ON - timedelta(days=1))
    _change(uow_factory, clock, restructured, restructure=True, key="r")
    _change(uow_factory, clock, late_but_not_restructured, restructure=False, key="e")
    _close(changes_platform, clock, ON, ON + timedelta(days=3))  # before any repayment date
    assert _observation_end(changes_platform, restructured) == date(2027, 2, 2)
    assert _observation_end(changes_platform, late_but_not_restructured) is None
