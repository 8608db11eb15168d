"""Sealing the audit chain after the writing transactions: order, gaps, tampering, upgrade."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, event, select, text

from puhui.adapters.db import migrate
from puhui.adapters.db.audit_repository import SqlAuditLog
from puhui.adapters.db.audit_sealer import seal_in_background, seal_pending
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.tables import audit_head
from puhui.adapters.db.unit_of_work import SqlUnitOfWork
from puhui.domain.audit import GENESIS_HASH, AuditRecord, next_event
from puhui.domain.clock import FixedClock
from puhui.services.audit import ChainReport, verify_audit_chain

KEY = b"k" * 32


def record(n: int) -> AuditRecord:
    return AuditRecord(
        actor="test", action="thing.done", entity="thing", entity_id=str(n), payload={"n": n}
    )


@pytest.fixture
def pg_engine(postgres_url: str) -> Iterator[Engine]:
    built = make_engine(postgres_url)
    migrate.upgrade(built)
    try:
        yield built
    finally:
        built.dispose()


def verify(engine: Engine, clock: FixedClock) -> ChainReport:
    return verify_audit_chain(lambda: SqlUnitOfWork(engine, clock=clock, audit_key=KEY), key=KEY)


def chain(engine: Engine, clock: FixedClock) -> list[tuple[str, bool]]:
    with SqlUnitOfWork(engine, clock=clock, audit_key=KEY) as uow:
        return [(e.entity_id, e.sealed) for e in uow.audit.events()]


def head_seq(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(audit_head.c.seq)).scalar_one())


@pytest.mark.postgres
def test_a_transaction_in_flight_is_never_overtaken(pg_engine: Engine, clock: FixedClock) -> None:
    slow = pg_engine.connect()
    slow.begin()
    early = SqlAuditLog(slow, clock=clock, key=KEY).append(record(1))
    with SqlUnitOfWork(pg_engine, clock=clock, audit_key=KEY) as uow:
        late = uow.audit.append(record(2))
        uow.commit()  # seals what is final after committing: nothing yet
    assert early.seq < late.seq
    report = verify(pg_engine, clock)
    assert (report.ok, report.events_checked, report.pending) == (True, 0, 1)
    assert chain(pg_engine, clock) == [("2", False)]
    slow.commit()
    slow.close()
    report = verify(pg_engine, clock)
    assert (report.ok, report.events_checked, report.pending) == (True, 2, 0)
    assert chain(pg_engine, clock) == [("1", True), ("2", True)]


@pytest.mark.postgres
def test_a_rolled_back_number_is_a_gap_the_chain_links_over(
    pg_engine: Engine, clock: FixedClock
) -> None:
    with SqlUnitOfWork(pg_engine, clock=clock, audit_key=KEY) as uow:
        uow.audit.append(record(1))
        uow.commit()
    with SqlUnitOfWork(pg_engine, clock=clock, audit_key=KEY) as uow:
        uow.audit.append(record(2))  # rolled back on exit
    with SqlUnitOfWork(pg_engine, clock=clock, audit_key=KEY) as uow:
        uow.audit.append(record(3))
        uow.commit()
    with SqlUnitOfWork(pg_engine, clock=clock, audit_key=KEY) as uow:
        assert [e.seq for e in uow.audit.events()] == [1, 3]
    report = verify(pg_engine, clock)
    assert (report.ok, report.events_checked, report.pending) == (True, 2, 0)


@pytest.mark.postgres
def test_an_edited_pending_event_is_never_sealed_and_is_reported(
    pg_engine: Engine, clock: FixedClock
) -> None:
    slow = pg_engine.connect()
    slow.begin()
    SqlAuditLog(slow, clock=clock, key=KEY).append(record(1))
    with SqlUnitOfWork(pg_engine, clock=clock, audit_key=KEY) as uow:
        uow.audit.append(record(2))
        uow.commit()
    with pg_engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE entity_id = '2'"))
    slow.commit()
    slow.close()
    report = verify(pg_engine, clock)
    assert report.first_break is not None
    assert report.first_break.seq == 2
    assert "MAC" in report.first_break.reason
    assert chain(pg_engine, clock) == [("1", True), ("2", False)]


def test_an_event_forged_without_the_key_is_never_sealed(engine: Engine, clock: FixedClock) -> None:
    with SqlUnitOfWork(engine, clock=clock, audit_key=KEY) as uow:
        uow.audit.append(record(1))
        uow.commit()
    with SqlUnitOfWork(engine, clock=clock, audit_key=b"x" * 32) as uow:  # another key
        uow.audit.append(record(2))
        uow.commit()
    report = verify(engine, clock)
    assert report.first_break is not None
    assert report.first_break.seq == 2


@pytest.mark.postgres
def test_a_server_seals_in_the_background(pg_engine: Engine, clock: FixedClock) -> None:
    assert seal_in_background(pg_engine, key=KEY, pause_seconds=0.01)
    assert not seal_in_background(pg_engine, key=KEY)
    with SqlUnitOfWork(pg_engine, clock=clock, audit_key=KEY) as uow:
        event = uow.audit.append(record(1))
        uow.commit()
    deadline = time.monotonic() + 10
    while head_seq(pg_engine) < event.seq and time.monotonic() < deadline:
        time.sleep(0.02)
    assert head_seq(pg_engine) == event.seq


def test_a_chain_from_before_sealing_upgrades_and_downgrades(
    database_url: str, clock: FixedClock
) -> None:
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine, "0014")
        prev = GENESIS_HASH
        with engine.begin() as connection:
            for n in (1, 2, 3):
                old = next_event(
                    record(n),
                    seq=n,
                    prev_hash=prev,
                    occurred_at=datetime(2026, 1, n, tzinfo=UTC),
                    key=KEY,
                )
                connection.execute(
                    text(
                        "INSERT INTO audit_events (seq, actor, action, entity, entity_id, "
                        "occurred_at, payload_digest, prev_hash, hash) VALUES (:seq, :actor, "
                        ":action, :entity, :entity_id, :occurred_at, :payload_digest, "
                        ":prev_hash, :hash)"
                    ),
                    {
                        "seq": old.seq,
                        "actor": old.actor,
                        "action": old.action,
                        "entity": old.entity,
                        "entity_id": old.entity_id,
                        "occurred_at": old.occurred_at,
                        "payload_digest": old.payload_digest,
                        "prev_hash": old.prev_hash,
                        "hash": old.hash,
                    },
                )
                prev = str(old.hash)
            connection.execute(
                text("UPDATE audit_head SET seq = 3, hash = :hash WHERE id = 1"), {"hash": prev}
            )
        migrate.upgrade(engine, "0017")
        with SqlUnitOfWork(engine, clock=clock, audit_key=KEY) as uow:
            assert uow.audit.append(record(4)).seq == 4
            uow.commit()
        report = verify(engine, clock)
        assert (report.ok, report.events_checked, report.pending) == (True, 4, 0)
        migrate.downgrade(engine, "0014")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT COUNT(*) FROM audit_events")).scalar_one() == 4
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_concurrent_writers_rollbacks_and_sealers_leave_one_whole_chain(
    pg_engine: Engine, clock: FixedClock
) -> None:
    assert seal_in_background(pg_engine, key=KEY, pause_seconds=0.001)
    committed: list[str] = []
    midway: list[ChainReport] = []

    def writer(worker: int) -> None:
        for n in range(12):
            with SqlUnitOfWork(pg_engine, clock=clock, audit_key=KEY) as uow:
                uow.audit.append(record(worker * 100 + n))
                if n % 3 == 1:
                    continue  # rolled back on exit: its number stays unused
                savepoint = uow.connection.begin_nested()
                uow.audit.append(record(-(worker * 100 + n)))
                savepoint.rollback()
                uow.commit()
                committed.append(str(worker * 100 + n))
            if n % 4 == 0:
                midway.append(verify(pg_engine, clock))  # a sealer racing the others

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(midway) == 16  # n = 0 and 8 of each writer (n = 4 is rolled back)
    assert all(report.ok for report in midway)
    report = verify(pg_engine, clock)
    assert (report.ok, report.events_checked, report.pending) == (True, len(committed), 0)
    assert sorted(e for e, _ in chain(pg_engine, clock)) == sorted(committed)


@pytest.mark.postgres
def test_a_batch_of_events_is_sealed_by_one_statement(pg_engine: Engine, clock: FixedClock) -> None:
    seals: list[tuple[str, bool]] = []

    @event.listens_for(pg_engine, "before_cursor_execute")
    def _count(
        _conn: object, _cursor: object, statement: str, _params: object, _ctx: object, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("UPDATE AUDIT_EVENTS"):
            seals.append((statement, many))

    with SqlUnitOfWork(pg_engine, clock=clock, audit_key=KEY) as uow:
        written = uow.audit.append_all([record(n) for n in range(30)])
        uow.commit()  # no background sealer: the commit seals
    assert [many for _, many in seals] == [False]
    assert head_seq(pg_engine) == written[-1].seq
    assert chain(pg_engine, clock) == [(str(n), True) for n in range(30)]
    report = verify(pg_engine, clock)
    assert (report.ok, report.events_checked, report.pending) == (True, 30, 0)


@pytest.mark.postgres
def test_the_numbers_of_a_batch_are_drawn_by_a_statement_planned_once(
    pg_engine: Engine, clock: FixedClock
) -> None:
    """The count is part of the statement, not a parameter: with ``generate_series(1, $1)``
    the server made a new (custom) plan at every execution of the prepared statement."""
    with SqlUnitOfWork(pg_engine, clock=clock, audit_key=KEY) as uow:
        drawn = [uow.audit.append_all([record(n), record(n + 100)]) for n in range(12)]
        plans = uow.connection.execute(
            text(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE '%nextval(''audit_event_ordinal'')%generate_series%'"
            )
        ).all()
        uow.commit()
    seqs = [event.seq for batch in drawn for event in batch]
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 24
    assert len(plans) == 1, "the batch's statement is prepared after a few executions"
    generic, custom = plans[0]
    assert (custom, generic >= 1) == (0, True)
    assert verify(pg_engine, clock).events_checked == 24


@pytest.mark.postgres
def test_sealing_a_batch_reads_the_events_through_the_primary_key(
    pg_engine: Engine, clock: FixedClock
) -> None:
    """Sealing finds its batch by number whatever the table's size: joined to the whole
    table instead, a seal would cost more as the trail grows."""
    for first in range(0, 5_000, 500):
        with SqlUnitOfWork(pg_engine, clock=clock, audit_key=KEY) as uow:
            uow.audit.append_all([record(n) for n in range(first, first + 500)])
            uow.commit()  # sealed at the commit
    with pg_engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(
            text("ANALYZE audit_events")
        )
    with pg_engine.connect() as connection, connection.begin():
        audit = SqlAuditLog(connection, clock=clock, key=KEY)
        audit.append_all([record(n) for n in range(5_000, 5_100)])
    sealed, scans = 0, []
    for _ in range(50):  # the fence may hold events back while another database writes
        with pg_engine.connect() as connection, connection.begin():
            sealed += seal_pending(connection, key=KEY)
            scans.append(
                connection.execute(
                    text(
                        "SELECT seq_scan FROM pg_stat_xact_user_tables "
                        "WHERE relname = 'audit_events'"
                    )
                ).scalar_one()
            )
        if head_seq(pg_engine) == 5_100:
            break
        time.sleep(0.1)
    assert sealed >= 100
    assert set(scans) == {0}
    report = verify(pg_engine, clock)
    assert (report.ok, report.events_checked, report.pending) == (True, 5_100, 0)
