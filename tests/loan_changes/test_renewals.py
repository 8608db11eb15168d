"""Renewal without principal repayment (无还本续贷) on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from puhui.adapters.db.loan_changes.unit_of_work import LoanChangesUnitOfWork
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.bootstrap import Platform, Settings, build_platform
from puhui.domain.clock import FixedClock
from puhui.domain.errors import PuhuiError
from puhui.domain.ids import LoanId, ProductId
from puhui.domain.lending.loan_changes import RenewalRules
from puhui.pipelines.eod import run_end_of_day
from puhui.services.loan_changes.changes import changes_of_loan
from puhui.services.loan_changes.renewals import RenewalResult, renew_loan
from puhui.services.servicing.products import create_product
from puhui.services.servicing.receipts import quote_payoff, repay
from puhui.services.servicing.term_loans import disburse_term_loan

from .conftest import ENTERPRISE, START, term_product

Factory = Callable[[], LoanChangesUnitOfWork]
MATURITY = date(2026, 2, 2)  # a one-month loan disbursed on START
IN_WINDOW = date(2026, 1, 20)


def _renew(
    uow_factory: Factory,
    clock: FixedClock,
    loan_id: str,
    *,
    on: date = IN_WINDOW,
    alerts: int = 0,
    key: str = "renew-1",
    term_months: int = 12,
) -> RenewalResult:
    return renew_loan(
        uow_factory,
        loan_id=loan_id,
        on=on,
        term_months=term_months,
        reason="good standing, seasonal stock",
        idempotency_key=key,
        actor="manager",
        clock=clock,
        rules=RenewalRules(),
        open_alerts=lambda enterprise: alerts,
    )


def _money_state(engine: Engine) -> tuple[object, ...]:
    with engine.connect() as connection:
        principal = connection.execute(
            text("SELECT COALESCE(SUM(outstanding_principal_fen), 0) FROM loans")
        ).scalar_one()
        lines = connection.execute(
            text("SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM journal_lines")
        ).one()
    return (principal, tuple(lines))


def _rows(engine: Engine) -> tuple[object, ...]:
    with engine.connect() as connection:
        return tuple(
            tuple(map(tuple, connection.execute(text(f"SELECT * FROM {t}")).all()))
            for t in ("loans", "loan_instalments", "loan_changes", "journal_entries")
        )


def test_renewal_moves_the_principal_to_a_new_linked_loan_without_money_flow(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    engine = changes_platform.database.engine
    old = disburse(principal_fen=50_000_00, term_months=1)
    before = _money_state(engine)
    result = _renew(uow_factory, clock, old)
    assert result.decision == "approved"
    assert result.principal_fen == 50_000_00
    assert result.starts_on == "2026-02-02"
    assert result.maturity_date == "2027-02-02"
    assert _money_state(engine) == before  # no principal created, destroyed or posted
    assert result.new_loan_id is not None
    with uow_factory() as uow:
        old_loan = uow.loans.get(old)
        new_loan = uow.loans.get(result.new_loan_id)
        old_schedule = uow.instalments.schedule(old)
        new_schedule = uow.instalments.schedule(result.new_loan_id)
    assert old_loan is not None
    assert new_loan is not None
    assert old_loan.outstanding_principal_fen == 0
    assert [(i.principal_fen, i.interest_fen > 0) for i in old_schedule] == [(0, True)]
    assert new_loan.outstanding_principal_fen == 50_000_00
    assert new_loan.disbursed_on == MATURITY
    assert sum(i.principal_fen for i in new_schedule) == 50_000_00
    (change,) = changes_of_loan(uow_factory, result.new_loan_id)
    assert (change.kind.value, change.loan_id, change.new_loan_id) == (
        "renewal",
        old,
        result.new_loan_id,
    )
    assert change.in_difficulty is False


def test_end_of_day_bills_only_interest_on_the_old_loan_and_starts_the_new_one(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    old = disburse(principal_fen=50_000_00, term_months=1)
    result = _renew(uow_factory, clock, old)
    assert result.new_loan_id is not None
    store = SqlEndOfDayStore(changes_platform.database.engine, clock=clock)

    def close_through(first: date, last: date) -> None:
        day = first
        while day <= last:
            run_end_of_day(store, day)
            day += timedelta(days=1)

    close_through(START, MATURITY - timedelta(days=1))  # the last instalment is billed
    with uow_factory() as uow:
        billed = uow.loans.get(old)
    assert billed is not None
    assert billed.billed_principal_fen == 0
    assert billed.interest_billed_fen > 0
    # The borrower pays the old loan's last interest on its due date, no principal.
    owed = quote_payoff(uow_factory, old, on=MATURITY)
    assert owed == billed.interest_billed_fen
    repay(
        uow_factory,
        old,
        amount_fen=owed,
        on=MATURITY,
        idempotency_key="pay-last-interest",
        actor="ops",
    )
    close_through(MATURITY, MATURITY + timedelta(days=1))
    with uow_factory() as uow:
        old_loan = uow.loans.get(old)
        new_loan = uow.loans.get(result.new_loan_id)
    assert old_loan is not None
    assert new_loan is not None
    assert old_loan.status.value == "closed"
    assert old_loan.overdue_principal_fen == 0
    assert old_loan.days_past_due == 0
    assert new_loan.accrued_through == MATURITY + timedelta(days=1)
    assert new_loan.interest_accrued_fen > 0
    assert new_loan.category.value == "pass"


def test_renewal_of_a_loan_in_arrears_is_refused_and_nothing_changes(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    engine = changes_platform.database.engine
    old = disburse(principal_fen=50_000_00, term_months=1)
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE loans SET days_past_due = 2, overdue_since = :d WHERE loan_id = :l"),
            {"d": date(2026, 1, 18), "l": old},
        )
    before = _rows(engine)
    with pytest.raises(PuhuiError) as refused:
        _renew(uow_factory, clock, old)
    assert refused.value.code == "loan_in_arrears"
    assert _rows(engine) == before


@pytest.mark.parametrize("on", [date(2026, 1, 2), MATURITY, date(2026, 2, 10)])
def test_renewal_outside_the_window_is_refused(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
    on: date,
) -> None:
    old = disburse(principal_fen=50_000_00, term_months=1)
    before = _rows(changes_platform.database.engine)
    with pytest.raises(PuhuiError) as refused:
        _renew(uow_factory, clock, old, on=on)
    assert refused.value.code == "outside_renewal_window"
    assert _rows(changes_platform.database.engine) == before


def test_open_monitoring_alerts_decline_the_renewal(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    old = disburse(principal_fen=50_000_00, term_months=1)
    before = _rows(changes_platform.database.engine)
    result = _renew(uow_factory, clock, old, alerts=2)
    assert (result.decision, result.reasons, result.new_loan_id) == (
        "declined",
        "monitoring_alerts_open",
        None,
    )
    assert _rows(changes_platform.database.engine) == before
    again = _renew(uow_factory, clock, old, alerts=2)
    assert (again.decision, again.replayed) == ("declined", True)


def test_renewed_loan_cannot_be_renewed_twice(
    uow_factory: Factory, clock: FixedClock, disburse: Callable[..., LoanId]
) -> None:
    old = disburse(principal_fen=50_000_00, term_months=1)
    _renew(uow_factory, clock, old)
    with pytest.raises(PuhuiError) as refused:
        _renew(uow_factory, clock, old, key="renew-2")
    assert refused.value.code == "loan_not_changeable"
    assert refused.value.details["reason"] == "nothing_left"


# --- property: a renewal never creates or destroys principal ------------------------------


@pytest.fixture
def sqlite_changes(
    sqlite_url: str, clock: FixedClock
) -> Iterator[tuple[Engine, Factory, ProductId]]:
    built = build_platform(
        Settings(database_url=sqlite_url, environment="test", _env_file=None),  # type: ignore[call-arg]
        clock=clock,
    )
    built.database.upgrade("heads")

    def factory() -> LoanChangesUnitOfWork:
        return LoanChangesUnitOfWork(built.database.engine, clock=clock, audit_key=built.audit_key)

    try:
        yield built.database.engine, factory, create_product(factory, term_product(), actor="ops")
    finally:
        built.close()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    principal_fen=st.integers(min_value=100_00, max_value=10_000_000_00),
    new_term=st.integers(min_value=1, max_value=60),
    rate_bp=st.integers(min_value=300, max_value=1800),
)
def test_renewal_never_creates_or_destroys_principal(
    sqlite_changes: tuple[Engine, Factory, ProductId],
    clock: FixedClock,
    principal_fen: int,
    new_term: int,
    rate_bp: int,
) -> None:
    engine, factory, product_id = sqlite_changes
    n = next(_COUNTER)
    old = disburse_term_loan(
        factory,
        enterprise_id=ENTERPRISE,
        product_id=product_id,
        principal_fen=principal_fen,
        annual_rate=Decimal(rate_bp) / 10_000,
        term_months=1,
        on=START,
        idempotency_key=f"prop-loan-{n}",
        actor="ops",
    )
    before = _money_state(engine)
    result = _renew(factory, clock, old.loan_id, key=f"prop-renew-{n}", term_months=new_term)
    assert result.principal_fen == principal_fen
    assert _money_state(engine) == before
    assert result.new_loan_id is not None
    with factory() as uow:
        schedule = uow.instalments.schedule(result.new_loan_id)
        moved = uow.loans.get(result.new_loan_id)
    assert sum(i.principal_fen for i in schedule) == principal_fen
    assert moved is not None
    assert moved.outstanding_principal_fen == principal_fen


_COUNTER = itertools.count(1)


def test_a_loan_whose_last_instalment_is_billed_is_not_renewed_and_says_why(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    loan_id = disburse(principal_fen=50_000_00, term_months=1)
    store = SqlEndOfDayStore(changes_platform.database.engine, clock=clock)
    day = START
    while day < MATURITY:  # the night before maturity bills the only instalment
        run_end_of_day(store, day)
        day += timedelta(days=1)
    before = _money_state(changes_platform.database.engine)
    with pytest.raises(PuhuiError) as refused:
        _renew(uow_factory, clock, loan_id, on=MATURITY - timedelta(days=1))
    assert refused.value.code == "loan_not_changeable"
    assert refused.value.details["reason"] == "not_last_instalment"
    assert _money_state(changes_platform.database.engine) == before
