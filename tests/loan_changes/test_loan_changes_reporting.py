"""The portfolio report flags renewed, extended and restructured loans: counts, outstanding
principal and non-performing loans per kind of change; a renewal itself downgrades nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import text

from puhui.adapters.db.loan_changes.unit_of_work import LoanChangesUnitOfWork
from puhui.adapters.db.reporting.store import SqlReportingStore
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.domain.ids import LoanId
from puhui.domain.lending.loan_changes import ChangePolicy, RenewalRules
from puhui.pipelines.eod import run_end_of_day
from puhui.services.loan_changes.changes import (
    approve_change,
    request_extension,
    request_restructuring,
)
from puhui.services.loan_changes.renewals import renew_loan
from puhui.services.reporting.model import LoanChangeFigure

from .conftest import START

Factory = Callable[[], LoanChangesUnitOfWork]
ON = date(2026, 1, 5)
RENEWED_ON = date(2026, 1, 20)
REPORTED_ON = date(2026, 2, 3)  # the day after the renewed loan's maturity


def _close(platform: Platform, clock: FixedClock, first: date, last: date) -> None:
    store = SqlEndOfDayStore(platform.database.engine, clock=clock)
    day = first
    while day <= last:
        run_end_of_day(store, day)
        day += timedelta(days=1)


def _approve(uow_factory: Factory, clock: FixedClock, change_id: str, key: str) -> None:
    approve_change(
        uow_factory,
        change_id,
        on=ON,
        idempotency_key=f"ok-{key}",
        actor="approver",
        clock=clock,
        policy=ChangePolicy(),
    )


def _outstanding(platform: Platform, loan_id: str) -> int:
    with platform.database.engine.connect() as connection:
        value = connection.execute(
            text("SELECT outstanding_principal_fen FROM loans WHERE loan_id = :l"),
            {"l": loan_id},
        ).scalar_one()
    return int(value)


def test_the_portfolio_report_counts_renewed_extended_and_restructured_loans(
    uow_factory: Factory,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
    changes_platform: Platform,
) -> None:
    renewed = disburse(principal_fen=50_000_00, term_months=1)
    restructured, extended, _plain = disburse(), disburse(), disburse()
    _close(changes_platform, clock, START, ON - timedelta(days=1))
    restructuring = request_restructuring(
        uow_factory,
        loan_id=restructured,
        new_term_months=18,
        on=ON,
        reason="orders lost",
        idempotency_key="r",
        actor="manager",
        clock=clock,
        policy=ChangePolicy(),
    )
    _approve(uow_factory, clock, restructuring.change_id, "r")
    extension = request_extension(
        uow_factory,
        loan_id=extended,
        extension_months=6,
        on=ON,
        reason="longer sales cycle",
        in_difficulty=False,
        idempotency_key="e",
        actor="manager",
        clock=clock,
        policy=ChangePolicy(),
    )
    _approve(uow_factory, clock, extension.change_id, "e")
    _close(changes_platform, clock, ON, RENEWED_ON - timedelta(days=1))
    renewal = renew_loan(
        uow_factory,
        loan_id=renewed,
        on=RENEWED_ON,
        term_months=12,
        reason="good standing",
        idempotency_key="n",
        actor="manager",
        clock=clock,
        rules=RenewalRules(),
        open_alerts=lambda enterprise: 0,
    )
    assert renewal.new_loan_id is not None
    _close(changes_platform, clock, RENEWED_ON, REPORTED_ON)

    store = SqlReportingStore(changes_platform.database.engine, clock=clock)
    report = store.portfolio(REPORTED_ON)
    assert report is not None
    assert report.loan_changes == (
        LoanChangeFigure("renewal", 1, 50_000_00, 0),
        LoanChangeFigure("extension", 1, _outstanding(changes_platform, extended), 0),
        LoanChangeFigure("restructuring", 1, _outstanding(changes_platform, restructured), 0),
    )
    with changes_platform.database.engine.connect() as connection:
        category = connection.execute(
            text("SELECT category FROM loans WHERE loan_id = :l"), {"l": renewal.new_loan_id}
        ).scalar_one()
    assert category == "pass"  # flagged in the report, not downgraded for the renewal

    # Before any change the report flags nothing (a figure per kind, all zero).
    before = store.portfolio(ON - timedelta(days=1))
    assert before is not None
    assert [(f.kind, f.loans, f.principal_fen) for f in before.loan_changes] == [
        ("renewal", 0, 0),
        ("extension", 0, 0),
        ("restructuring", 0, 0),
    ]
