"""A customer's open cases (a monitoring task's hand-over to collections) are read by the
index on the customer, on SQLite and PostgreSQL, not by walking every open case of the book
through the queue's status index."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from collection_book import Book
from sqlalchemy import Engine, event, update

from puhui.adapters.db.collections.tables import collection_cases
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.domain.monitoring.collection import DpdBucket
from puhui.services.collections import cases
from puhui.services.collections.ports import CaseStatus, QueueFilter

A = "91350100M000100Y43"
B = "91350100M000200Y11"


def _open_cases(book: Book, clock: FixedClock) -> None:
    """Close the days through 22 January and open the overdue receipts' cases."""
    book.close_through(date(2026, 1, 22))
    cases.refresh(book.units, as_of=date(2026, 1, 22), actor="system", clock=clock)


def _change(platform: Platform, receipt_id: str, **values: object) -> None:
    with platform.database.engine.begin() as connection:
        connection.execute(
            update(collection_cases)
            .where(collection_cases.c.receipt_id == receipt_id)
            .values(**values)
        )


def test_a_hand_over_reads_the_customers_cases_by_the_customer(
    platform: Platform, book: Book, clock: FixedClock, query_plan: Callable[[Engine, str, Any], str]
) -> None:
    first = book.draw(A, 100_000_00)
    second = book.draw(A, 50_000_00)
    book.draw(B, 80_000_00)
    _open_cases(book, clock)
    # One of A's cases is resolved: it is not handed over.
    _change(platform, second, status=CaseStatus.RESOLVED.value)
    engine = platform.database.engine
    statements: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM collection_cases" in statement and "collection_cases.customer_id =" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        handed = cases.hand_over(
            book.units, A, assignee="desk-2", actor="supervisor-1", reason="r", clock=clock
        )
    finally:
        event.remove(engine, "before_cursor_execute", capture)

    # What: A's open case only (not its resolved one, not B's).
    assert [(c.receipt_id, c.assignee) for c in handed] == [(first, "desk-2")]
    # How: by the customer's index, not the queue's (status first) index.
    assert len(statements) == 1
    plan = query_plan(engine, *statements[0])
    assert "ix_collection_cases_customer_id" in plan, plan


def test_a_customers_page_of_a_queue_is_read_by_the_customer(
    platform: Platform, book: Book, clock: FixedClock, query_plan: Callable[[Engine, str, Any], str]
) -> None:
    """The queue's customer filter (API ``customer_id=``): the customer's open cases of the
    bucket, in the queue's order, with the assignee filters and the cursor, read by the
    customer's index and not by walking the bucket's open cases."""
    small = book.draw(A, 20_000_00)
    large = book.draw(A, 90_000_00)
    middle = book.draw(A, 50_000_00)
    resolved = book.draw(A, 70_000_00)
    book.draw(B, 80_000_00)
    _open_cases(book, clock)
    _change(platform, resolved, status=CaseStatus.RESOLVED.value)
    _change(platform, middle, assignee="desk-1")
    engine = platform.database.engine
    statements: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM collection_cases" in statement:
            statements.append((statement, parameters))

    def receipts(**filters: Any) -> tuple[list[str], str | None]:
        page = cases.queue_page(
            book.units, QueueFilter(bucket=DpdBucket.REMINDER, customer_id=A, **filters)
        )
        return [c.receipt_id for c in page.cases], page.next_cursor

    event.listen(engine, "before_cursor_execute", capture)
    try:
        # What: A's open reminder cases, same days past due, so the largest first.
        assert receipts() == ([large, middle, small], None)
        assert receipts(assignee="desk-1") == ([middle], None)
        assert receipts(unassigned=True) == ([large, small], None)
        assert (
            cases.queue_page(
                book.units, QueueFilter(bucket=DpdBucket.COLLECTION, customer_id=A)
            ).cases
            == []
        )
        first, cursor = receipts(limit=2)
        assert (first, cursor is not None) == ([large, middle], True)
        assert cursor is not None
        assert receipts(limit=2, after=cases.decode_cursor(cursor)) == ([small], None)
    finally:
        event.remove(engine, "before_cursor_execute", capture)

    # How: each page by the customer's index.
    assert len(statements) == 6
    for statement in statements:
        assert "collection_cases.customer_id =" in statement[0]
        plan = query_plan(engine, *statement)
        assert "ix_collection_cases_customer_id" in plan, plan
