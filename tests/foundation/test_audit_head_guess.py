"""SQLite: the audit head is moved from where this process last left it, checked in the
write lock; a wrong guess (another process wrote, a rollback) falls back to reading it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.tables import audit_events, audit_head
from puhui.adapters.db.unit_of_work import SqlUnitOfWork
from puhui.domain.audit import AuditRecord
from puhui.domain.clock import FixedClock
from puhui.services.audit import verify_audit_chain

KEY = b"g" * 32


def record(n: int) -> AuditRecord:
    return AuditRecord(
        actor="test", action="thing.done", entity="thing", entity_id=str(n), payload={"n": n}
    )


@pytest.fixture
def url(sqlite_url: str) -> str:
    migrate.upgrade(make_engine(sqlite_url))
    return sqlite_url


@pytest.fixture
def engines(url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one file: two server processes of one database."""
    first, second = make_engine(url), make_engine(url)
    try:
        yield first, second
    finally:
        first.dispose()
        second.dispose()


def append(engine: Engine, clock: FixedClock, *records: AuditRecord, commit: bool = True) -> None:
    with SqlUnitOfWork(engine, clock=clock, audit_key=KEY) as uow:
        if len(records) == 1:
            uow.audit.append(records[0])
        else:
            uow.audit.append_all(records)
        if commit:
            uow.commit()


def whole_chain(engine: Engine, clock: FixedClock) -> list[int]:
    """The events' numbers, after checking the chain verifies with nothing pending."""
    report = verify_audit_chain(lambda: SqlUnitOfWork(engine, clock=clock, audit_key=KEY), key=KEY)
    assert report.ok, report.first_break
    assert report.pending == 0
    with engine.connect() as connection:
        seqs = list(connection.execute(select(audit_events.c.seq).order_by("seq")).scalars())
        head = connection.execute(select(audit_head.c.seq)).scalar_one()
    assert head == seqs[-1]
    return seqs


def statements_of(engine: Engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split(maxsplit=1)[0].upper())

    return seen


def test_two_processes_writing_in_turn_keep_one_chain(
    engines: tuple[Engine, Engine], clock: FixedClock
) -> None:
    first, second = engines
    for n in range(12):
        # Each engine's guess is stale whenever the other wrote last; twice in a row is not.
        append(first if n % 3 else second, clock, record(n))
    append(second, clock, record(100), record(101), record(102))
    append(first, clock, record(103), record(104))
    assert whole_chain(first, clock) == list(range(1, 18))


def test_a_rolled_back_append_leaves_a_guess_that_is_not_trusted(
    engines: tuple[Engine, Engine], clock: FixedClock
) -> None:
    first, _ = engines
    append(first, clock, record(1))
    append(first, clock, record(2), commit=False)  # guessed head 2, rolled back
    append(first, clock, record(3))
    append(first, clock, record(4), record(5), commit=False)
    append(first, clock, record(6))
    assert whole_chain(first, clock) == [1, 2, 3]


def test_a_savepoint_rolled_back_under_a_committed_transaction(
    engines: tuple[Engine, Engine], clock: FixedClock
) -> None:
    first, _ = engines
    append(first, clock, record(1))
    with SqlUnitOfWork(first, clock=clock, audit_key=KEY) as uow:
        uow.audit.append(record(2))
        savepoint = uow.connection.begin_nested()
        uow.audit.append(record(3))
        savepoint.rollback()
        uow.audit.append(record(4))
        uow.commit()
    append(first, clock, record(5))
    seqs = whole_chain(first, clock)
    assert seqs == [1, 2, 3, 4]
    with first.connect() as connection:
        ids = list(connection.execute(select(audit_events.c.entity_id).order_by("seq")).scalars())
    assert ids == ["1", "2", "4", "5"]


def test_a_good_guess_saves_the_read_of_the_head(
    engines: tuple[Engine, Engine], clock: FixedClock
) -> None:
    first, second = engines
    append(first, clock, record(1))
    seen = statements_of(first)
    append(first, clock, record(2))
    assert seen == ["UPDATE", "INSERT"]  # the guess held: no SELECT of the head
    append(second, clock, record(3))
    seen.clear()
    append(first, clock, record(4))
    assert seen == ["UPDATE", "SELECT", "UPDATE", "INSERT"]  # stale: read, then move
    assert whole_chain(first, clock) == [1, 2, 3, 4]
