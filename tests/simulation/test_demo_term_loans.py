"""The demo's term-loan stage on a small book, on SQLite and PostgreSQL: borrowers pay on their
due dates, a loan 30 days past due is restructured with four eyes and its arrears re-aged, a
borrower near maturity gets an extension (another is rejected, with its reason kept), and the
last month's request waits in the console."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.bootstrap import Platform
from puhui.bootstrap.demo_term_loans import (
    APPROVER,
    EXTENSION_REJECTED,
    DemoTermLoans,
    demo_term_loans,
)
from puhui.cli.demo_report import plain_lines
from puhui.cli.demo_term_loans import term_loans_section
from puhui.domain.clock import FixedClock
from puhui.domain.lending.account import LoanStatus
from puhui.pipelines.eod import run_end_of_day
from puhui.services.servicing.ledger import trial_balance

FIRST_DAY = date(2026, 1, 2)
LAST_DAY = date(2026, 6, 30)
TERM = 4  # due 1 Feb .. 1 May
CURED = "91330100MA00000011"  # stops paying in March, restructured 1 Apr, pays again
STUCK = "91330100MA00000012"  # stops paying in March, restructured 1 Apr, never pays again
LATE = "91330100MA00000013"  # stops paying in May: its restructuring waits for the console
EXTENDS = "91330100MA00000021"  # pays; asks for two more months on 1 Mar (two left)
TURNED_DOWN = "91330100MA00000023"  # pays; asks on 1 Mar too, and the approver rejects it
PAYS = "91330100MA00000022"  # pays to the end
EARLY = "91330100MA00000031"  # misses its first instalment, restructured 1 Apr, stuck


def _run(platform: Platform, clock: FixedClock, stage: DemoTermLoans) -> None:
    """The simulation's calendar: the month's hook on each first, end of day every day."""
    store = SqlEndOfDayStore(platform.database.engine, clock=clock)
    day = FIRST_DAY
    while day <= LAST_DAY:
        clock.advance(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC) - clock.now())
        if day.day == 1:
            stage.month_started(day)
        run_end_of_day(store, day)
        day += timedelta(days=1)


def test_the_term_loan_stage_pays_restructures_extends_and_leaves_the_last_request(
    book_platform: tuple[Platform, FixedClock],
) -> None:
    platform, clock = book_platform
    stage = demo_term_loans(
        platform,
        {
            CURED: date(2026, 3, 1),
            STUCK: date(2026, 3, 1),
            LATE: date(2026, 5, 1),
            EXTENDS: None,
            PAYS: None,
            TURNED_DOWN: None,
            EARLY: date(2026, 2, 1),
        },
    )
    stage.cured = lambda uscc: uscc == CURED
    stage.extends = lambda uscc, months_left: uscc in (EXTENDS, TURNED_DOWN) and months_left == 2
    stage.rejects = lambda uscc: uscc == TURNED_DOWN
    stage.results.term_months = TERM
    everyone = [EARLY, PAYS, EXTENDS, TURNED_DOWN, LATE, STUCK, CURED]
    stage.book(FIRST_DAY, LAST_DAY, everyone, size=7)
    loan_of = {uscc: loan_id for loan_id, uscc in stage.loans.items()}
    assert set(loan_of) == set(everyone)

    _run(platform, clock, stage)
    r = stage.finish()

    assert r.refused == {}
    assert (r.restructurings, r.extensions, r.rejected, r.pending) == (3, 1, 1, 1)
    # Each restructured loan had missed instalments: principal and interest.
    assert r.arrears_principal_fen > 0
    assert r.arrears_interest_fen > 0
    with platform.servicing_uow() as uow:
        loans = {uscc: uow.loans.get(loan_id) for uscc, loan_id in loan_of.items()}
    standing = {uscc: loan for uscc, loan in loans.items() if loan is not None}
    assert standing[PAYS].status is LoanStatus.CLOSED  # its four instalments paid on time
    assert standing[EXTENDS].status is LoanStatus.ACTIVE  # two more months: 1 May -> 1 Jul
    assert standing[EXTENDS].maturity_date == date(2026, 7, 1)
    assert standing[EXTENDS].days_past_due == 0
    assert standing[TURNED_DOWN].status is LoanStatus.CLOSED  # not extended: repaid on 1 May
    [turned_down] = stage.changes.of_loan(APPROVER, loan_of[TURNED_DOWN])
    assert (turned_down.status, turned_down.rejected_by) == ("rejected", APPROVER.audit_name())
    assert turned_down.rejection_reason == EXTENSION_REJECTED
    assert standing[CURED].days_past_due == 0  # re-aged, and paying again
    assert standing[STUCK].days_past_due > 0  # the new schedule's first instalment unpaid
    assert standing[LATE].days_past_due > 0
    assert standing[EARLY].days_past_due > 0
    assert r.closed == 2
    assert r.in_arrears == 3
    assert sum(r.categories.values()) == 5
    # The restructuring asked for on the last publication waits for an approver.
    [waiting] = stage.changes.pending(APPROVER, limit=10, offset=0)
    assert (waiting.loan_id, waiting.kind.value, waiting.status) == (
        loan_of[LATE],
        "restructuring",
        "requested",
    )
    # Money: every payment and disbursement was a balanced entry.
    assert trial_balance(platform.servicing_uow, as_of=LAST_DAY).total_fen == 0
    assert r.paid_fen > 0
    text = "\n".join(plain_lines(term_loans_section(r)))
    assert "restructurings approved:  3;" in text
    assert "waiting in the console:   1 changes for an approver" in text
    assert "extensions rejected:      1 (collections cover the maturity;" in text


def test_by_default_a_sixteenth_asks_two_months_before_maturity_and_another_in_the_last() -> None:
    stage = DemoTermLoans(units=None, changes=None, default_months={})  # type: ignore[arg-type]
    borrowers = [f"91330100MA{n:08d}" for n in range(1_600)]
    two_before = {u for u in borrowers if stage.extends(u, 2)}
    last = {u for u in borrowers if stage.extends(u, 1)}
    assert not two_before & last
    assert 60 < len(two_before) < 140
    assert 60 < len(last) < 140
    assert not [u for u in borrowers for left in (0, 3, 6, 12) if stage.extends(u, left)]
    assert 300 < sum(map(stage.rejects, borrowers)) < 500  # the approver rejects one in four
