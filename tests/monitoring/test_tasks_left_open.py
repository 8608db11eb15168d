"""The demo's staff work the month's tasks by the demo's rule, and from its last month leave a
few open for the console (``PostLoanCycle.work_tasks``), on SQLite and PostgreSQL: the first
tasks of medium or low severity stay open with their alerts, no more than asked, and a high
one is always worked. The demo's report says how many wait."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from book_support import AS_OF, build_book, record_origination, uscc

from puhui.bootstrap import Platform
from puhui.cli.demo_report import post_loan_lines, post_loan_section
from puhui.decision.triggers import CompiledTriggers
from puhui.domain.monitoring import AlertStatus, Severity, TaskOutcome, TaskStatus
from puhui.domain.monitoring.alerts import Hit
from puhui.pipelines.post_loan import PostLoanCycle, PostLoanParts, PostLoanReport
from puhui.services.monitoring.ports import (
    AlertQuery,
    EvidencedHit,
    MonitoredCustomer,
    TaskQuery,
)
from puhui.services.monitoring.run import run_monitoring
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.records import LineStatus

MANAGER = Principal(user_id="usr_manager", role=Role.ACCOUNT_MANAGER)
SUPERVISOR = Principal(user_id="usr_lead", role=Role.SUPERVISOR)
SEVERITIES = [
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.MEDIUM,
]
"""One signal for each customer of the book, in this order."""
MANAGED = 1
"""The customer whose task goes to its account manager; the others' wait in the branch queue."""


class _Signals:
    """One signal per customer, of the severity ``SEVERITIES`` gives it (a data source's
    stand-in: the run, the alerts and the tasks are the platform's own)."""

    def check_data(self, as_of: date) -> None:
        return None

    def signals(
        self, customers: Sequence[MonitoredCustomer], as_of: date, triggers: CompiledTriggers
    ) -> list[EvidencedHit]:
        hits = []
        for customer in customers:
            severity = SEVERITIES[int(customer.customer_id[-5:-1])]
            code = f"TEST_{severity.value.upper()}"
            hits.append(EvidencedHit(Hit(customer.customer_id, code, severity, code, code), {}))
        return hits


def test_the_first_medium_or_low_tasks_are_left_open_and_the_rest_worked(
    platform: Platform,
) -> None:
    book = build_book(platform, len(SEVERITIES))
    record_origination(book, uscc(MANAGED), account_manager=MANAGER.user_id, pd="0.01")
    book.close_day(AS_OF)
    setup = book.setup(_Signals())
    summary = run_monitoring(setup, as_of=AS_OF, actor="system:monitoring")
    assert summary.tasks_created == len(SEVERITIES)
    parts = PostLoanParts(
        run=setup,
        tasks=book.access(),
        collections=None,  # type: ignore[arg-type]  # not used to work tasks
        concentration=None,  # type: ignore[arg-type]
        manager=MANAGER,
        supervisor=SUPERVISOR,
    )
    outcomes, frozen, left = PostLoanCycle(parts).work_tasks(leave=3)

    assert left == 3
    # The high one, the manager's own medium one (queue tasks are left first), the last one.
    assert outcomes == {"freeze": 1, "contacted": 2}
    assert frozen == 1
    with platform.monitoring_uow() as uow:
        tasks = sorted(uow.monitoring.tasks(TaskQuery()), key=lambda s: s.task.task_id)
        alerts = {a.alert.alert_id: a.alert for a in uow.monitoring.alerts(AlertQuery())}
    still_open = [s.task.task_id for s in tasks if s.task.status is TaskStatus.OPEN]
    # The first three tasks of medium or low severity in the branch queue, in task order.
    queued = [
        s.task.task_id
        for s in tasks
        if s.task.severity is not Severity.HIGH and s.task.customer_id != uscc(MANAGED)
    ]
    assert still_open == queued[:3]
    (managed,) = [s.task for s in tasks if s.task.customer_id == uscc(MANAGED)]
    assert (managed.holder, managed.outcome) == (MANAGER.user_id, TaskOutcome.CONTACTED)
    for stored in tasks:
        alert = alerts[stored.task.alert_id]
        if stored.task.task_id in still_open:
            assert (stored.task.holder, alert.status) == (None, AlertStatus.OPEN)
        else:
            assert stored.task.status is TaskStatus.COMPLETED
            assert alert.status is AlertStatus.CLOSED
    worked = {s.task.severity: s.task.outcome for s in tasks if s.task.task_id not in still_open}
    assert worked == {Severity.HIGH: TaskOutcome.FREEZE, Severity.MEDIUM: TaskOutcome.CONTACTED}

    # Worked again (the next month), the same tasks are left and nothing else is open.
    again = PostLoanCycle(parts).work_tasks(leave=3)
    assert again == ({}, 0, 3)
    # Without leaving any, every task is worked.
    assert PostLoanCycle(parts).work_tasks() == ({"contacted": 1, "monitor": 2}, 0, 0)
    with platform.monitoring_uow() as uow:
        assert {s.task.status for s in uow.monitoring.tasks(TaskQuery())} == {TaskStatus.COMPLETED}
    # The high one froze its customer's line (the first customer's).
    with platform.servicing_uow() as uow:
        line = uow.lines.get(book.lines[uscc(0)])
    assert line is not None
    assert line.status is LineStatus.FROZEN


def _report(left_open: int) -> PostLoanReport:
    return PostLoanReport(
        months=[],
        alerts=12,
        alerts_by_severity={"high": 2, "medium": 6, "low": 4},
        top_codes=[("SALES_DROP", 6)],
        tasks_by_outcome={"contacted": 6, "monitor": 4 - left_open, "freeze": 2},
        left_open=left_open,
        lines_frozen=2,
        cases_by_bucket={},
        breaches=[],
        booked=100,
        defaulted=3,
        alerted_before_default=2,
        median_lead_months=2.0,
        alerted=12,
        alerted_defaulted=2,
        booked_defaulted=3,
    )


def test_the_demo_report_says_how_many_tasks_wait_in_the_console() -> None:
    line = "tasks left open for the console: 4, with their alerts (a manager claims one"
    assert any(line in text for text in post_loan_lines(_report(4)))
    assert any(line in note for note in post_loan_section(_report(4)).notes)
    assert not any("left open" in text for text in post_loan_lines(_report(0)))
    assert not any("left open" in note for note in post_loan_section(_report(0)).notes)
