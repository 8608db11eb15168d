"""The dashboards' read services: who may read, the latest date by default, clear refusals;
and the end of day's last step builds the date's aggregates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from small_book import bucket_of, make_book, write_book
from sqlalchemy import Engine

from puhui.adapters.db.reporting import SqlReportingStore
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.domain.clock import FixedClock
from puhui.domain.errors import InvalidDate
from puhui.domain.origination.errors import Forbidden
from puhui.pipelines.eod import run_end_of_day
from puhui.services.reporting import dashboards
from puhui.services.reporting.model import GroupBy
from puhui.services.security.permissions import Principal, Role

BOOK_DAY = date(2026, 2, 27)
RISK = Principal(user_id="u1", role=Role.RISK_OFFICER)


@pytest.mark.parametrize("role", [Role.APPLICANT, Role.PARTNER, Role.APPROVER, Role.ADMIN])
def test_roles_without_the_reporting_permission_are_refused(
    store: SqlReportingStore, role: Role
) -> None:
    with pytest.raises(Forbidden):
        dashboards.portfolio_report(store, actor=Principal(user_id="x", role=role))


@pytest.mark.parametrize(
    "role", [Role.RISK_OFFICER, Role.OPERATIONS, Role.SUPERVISOR, Role.AUDITOR]
)
def test_dashboard_readers_get_a_clear_not_built_answer_before_the_first_night(
    store: SqlReportingStore, role: Role
) -> None:
    with pytest.raises(dashboards.ReportNotBuilt) as raised:
        dashboards.vintage_report(store, actor=Principal(user_id="x", role=role))
    assert raised.value.code == "report_not_built"


def test_the_end_of_day_builds_the_dates_aggregates_as_its_last_step(
    engine: Engine, store: SqlReportingStore, clock: FixedClock
) -> None:
    book = make_book(BOOK_DAY)
    write_book(engine, book)
    closed = BOOK_DAY + timedelta(days=1)
    report = run_end_of_day(SqlEndOfDayStore(engine, clock=clock), closed)
    assert list(report.rows_by_step)[-1] == "report"
    snapshot = dashboards.portfolio_report(store, actor=RISK)
    assert snapshot.as_of == closed
    active = [loan for loan in book.loans if loan["status"] == "active"]
    assert snapshot.total.loans_active == len(active)
    assert snapshot.total.outstanding_principal_fen == sum(
        loan["outstanding_principal_fen"] for loan in active
    )
    # One more day past due for every loan already overdue.
    expected: dict[str, int] = {}
    for loan in active:
        dpd = loan["days_past_due"] + (1 if loan["days_past_due"] else 0)
        expected[bucket_of(dpd)] = expected.get(bucket_of(dpd), 0) + 1
    assert {b.name: b.loans for b in snapshot.dpd_buckets if b.loans} == expected
    series = dashboards.portfolio_series(store, actor=RISK, months=3)
    assert [p.as_of for p in series] == [closed]
    origination = dashboards.origination_report(store, actor=RISK, by=GroupBy.BRANCH)
    assert (origination.first_day, origination.last_day) == (closed - timedelta(days=29), closed)
    assert [g.group for g in origination.groups] == [None]  # no branch recorded anywhere


def test_an_origination_range_must_run_forwards_and_stay_within_a_year(
    store: SqlReportingStore,
) -> None:
    with pytest.raises(InvalidDate):
        dashboards.origination_report(
            store, actor=RISK, first_day=date(2026, 3, 2), last_day=date(2026, 3, 1)
        )
    with pytest.raises(InvalidDate):
        dashboards.origination_report(
            store, actor=RISK, first_day=date(2025, 1, 1), last_day=date(2026, 3, 1)
        )
