"""The monitoring run reads each chunk of customers by index probes on the customer and the
line, and an extended alert's task by the alert (migration 0037), on SQLite and PostgreSQL:
a chunk's cost follows the chunk, not the book. Before, each chunk scanned every receipt
(its page of ids and the customers' exposure) and every application ever made (the lines'
owners and PDs at origination), and each extended alert every task ever made."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from book_support import AS_OF, build_book, record_origination, uscc
from sqlalchemy import Engine, event

from puhui.bootstrap import Platform
from puhui.domain.monitoring import TaskStatus
from puhui.services.monitoring.ports import AlertQuery, RunKind, RunStatus, TaskQuery
from puhui.services.monitoring.run import run_monitoring

SYSTEM = "system:monitoring"


def _captured(platform: Platform, run: Any) -> tuple[Any, list[tuple[str, Any]]]:
    engine = platform.database.engine
    statements: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        summary = run()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    return summary, statements


def _captured_run(platform: Platform, kind: RunKind) -> tuple[Any, list[tuple[str, Any]]]:
    book = build_book(platform, 5, dpd={0: 1, 1: 31, 3: 91})
    record_origination(book, uscc(1), account_manager="usr_am", pd="0.021")
    record_origination(book, uscc(3), account_manager="usr_am", pd="0.034")
    book.close_day(AS_OF)
    return _captured(
        platform,
        lambda: run_monitoring(book.setup(chunk_size=2), as_of=AS_OF, actor=SYSTEM, kind=kind),
    )


def _reads(statements: list[tuple[str, Any]], *marks: str) -> list[tuple[str, Any]]:
    return [(sql, p) for sql, p in statements if all(mark in sql for mark in marks)]


@pytest.mark.parametrize("kind", [RunKind.SCHEDULED, RunKind.EVENTS])
def test_each_chunk_is_read_by_the_customer_and_line_indexes(
    platform: Platform, kind: RunKind, query_plan: Callable[[Engine, str, Any], str]
) -> None:
    summary, statements = _captured_run(platform, kind)
    engine = platform.database.engine

    # What the run did: every watched customer once, in chunks of two.
    assert summary.status is RunStatus.COMPLETED
    watched = 5 if kind is RunKind.SCHEDULED else 3  # events: the three entering a bucket
    assert summary.customers == watched
    with platform.monitoring_uow() as uow:
        alerts = uow.monitoring.alerts(AlertQuery(limit=100))
        tasks = {
            a.alert.customer_id: uow.monitoring.task_of_alert(a.alert.alert_id) for a in alerts
        }
    assert set(tasks) == {uscc(0), uscc(1), uscc(3)}
    owners = {c: t.task.assignee for c, t in tasks.items() if t is not None}
    assert owners == {uscc(0): None, uscc(1): "usr_am", uscc(3): "usr_am"}

    # How: the pages after the first start at the last customer read, by the enterprise's
    # index (the receipts', and the lines' for the scheduled run); no whole-book sort.
    pages = _reads(statements, "customer_id", "enterprise_id >", "LIMIT")
    assert len(pages) >= 2, [sql for sql, _ in statements]
    for sql, parameters in pages:
        plan = query_plan(engine, sql, parameters)
        assert "ix_loans_enterprise_id" in plan, plan
        if kind is RunKind.SCHEDULED:
            assert "ix_credit_lines_enterprise_id" in plan, plan
    # Each chunk's exposure by the receipts' index on the customer.
    exposures = _reads(statements, "max(loans.days_past_due)", "FROM loans")
    assert len(exposures) >= 2
    for sql, parameters in exposures:
        assert "ix_loans_enterprise_id" in query_plan(engine, sql, parameters)
    # The lines' owners and PDs at origination by the applications' index on the line.
    by_line = _reads(statements, "FROM origination_applications", "credit_line_id IN")
    assert any("account_manager_id" in sql for sql, _ in by_line)
    assert any("origination_decisions" in sql for sql, _ in by_line)
    for sql, parameters in by_line:
        plan = query_plan(engine, sql, parameters)
        assert "ix_origination_applications_credit_line_id" in plan, plan


def test_an_extended_alert_reads_its_task_by_the_alert(
    platform: Platform, query_plan: Callable[[Engine, str, Any], str]
) -> None:
    book = build_book(platform, 2, dpd={0: 5})
    book.close_day(AS_OF)
    book.close_day(date(2026, 4, 1))
    run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM)
    book.set_dpd(uscc(0), 35)
    later, statements = _captured(
        platform, lambda: run_monitoring(book.setup(), as_of=date(2026, 4, 1), actor=SYSTEM)
    )
    assert (later.alerts_created, later.alerts_extended) == (0, 1)
    with platform.monitoring_uow() as uow:
        (alert,) = uow.monitoring.alerts(AlertQuery(limit=100))
        task = uow.monitoring.task_of_alert(alert.alert.alert_id)
    assert task is not None
    assert task.task.severity.value == "high"  # the extension hastened the alert's task
    reads = _reads(statements, "FROM monitoring_tasks", "monitoring_tasks.alert_id =")
    assert reads
    for sql, parameters in reads:
        plan = query_plan(platform.database.engine, sql, parameters)
        assert "ix_monitoring_tasks_alert" in plan, plan


def test_a_customers_tasks_are_listed_by_the_customer(
    platform: Platform, query_plan: Callable[[Engine, str, Any], str]
) -> None:
    """The task list's customer filter (API ``customer=``), with or without a status and a
    cursor, reads the customer's tasks by its index, not every task (of that status)."""
    book = build_book(platform, 4, dpd={0: 5, 1: 12, 2: 40})
    book.close_day(AS_OF)
    run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM)
    queries = [
        TaskQuery(customer_id=uscc(1)),
        TaskQuery(customer_id=uscc(1), status=TaskStatus.OPEN),
        TaskQuery(customer_id=uscc(1), status=TaskStatus.OPEN, after="task_0"),
    ]
    found, statements = _captured(platform, lambda: [_listed(platform, query) for query in queries])
    assert all(len(tasks) == 1 for tasks in found)
    assert {t.task.customer_id for tasks in found for t in tasks} == {uscc(1)}
    reads = _reads(statements, "FROM monitoring_tasks", "monitoring_tasks.customer_id =")
    assert len(reads) == 3
    for sql, parameters in reads:
        plan = query_plan(platform.database.engine, sql, parameters)
        assert "ix_monitoring_tasks_customer" in plan, plan


def _listed(platform: Platform, query: TaskQuery) -> list[Any]:
    with platform.monitoring_uow() as uow:
        return list(uow.monitoring.tasks(query))
