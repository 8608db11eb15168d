"""Audit appends: numbers come at once, savepoints and rollbacks leave no event behind."""

from __future__ import annotations

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.unit_of_work import SqlUnitOfWork
from puhui.domain.audit import AuditRecord
from puhui.domain.clock import FixedClock
from puhui.services.audit import verify_audit_chain

KEY = b"k" * 32


class LazyUnitOfWork(SqlUnitOfWork):
    """Commits without beginning again (as origination's does), so others may write between."""

    def commit(self) -> None:
        self.connection.commit()


def record(n: int) -> AuditRecord:
    return AuditRecord(
        actor="test", action="thing.done", entity="thing", entity_id=str(n), payload={}
    )


def test_appends_after_commit_and_savepoint_rollback_keep_the_chain_whole(
    database_url: str, clock: FixedClock
) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    try:
        with LazyUnitOfWork(engine, clock=clock, audit_key=KEY) as uow:
            first = uow.audit.append(record(1)).seq
            second = uow.audit.append(record(2)).seq
            uow.commit()
            # Another writer between two transactions of this unit of work.
            with LazyUnitOfWork(engine, clock=clock, audit_key=KEY) as other:
                third = other.audit.append(record(3)).seq
                other.commit()
            fourth = uow.audit.append(record(4)).seq
            savepoint = uow.connection.begin_nested()
            undone = uow.audit.append(record(5)).seq
            savepoint.rollback()
            sixth = uow.audit.append(record(6)).seq
            uow.commit()
        # Numbers increase; a number a rolled-back savepoint took may stay unused.
        assert 0 < first < second < third < fourth < undone
        assert fourth < sixth
        report = verify_audit_chain(
            lambda: SqlUnitOfWork(engine, clock=clock, audit_key=KEY), key=KEY
        )
        assert report.ok
        assert report.events_checked == 5
        assert report.pending == 0
        with SqlUnitOfWork(engine, clock=clock, audit_key=KEY) as uow:
            assert [e.entity_id for e in uow.audit.events()] == ["1", "2", "3", "4", "6"]
    finally:
        engine.dispose()


def test_events_appended_together_chain_in_order_and_vanish_with_their_savepoint(
    database_url: str, clock: FixedClock
) -> None:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    try:
        with SqlUnitOfWork(engine, clock=clock, audit_key=KEY) as uow:
            first = uow.audit.append(record(1)).seq
            together = uow.audit.append_all([record(2), record(3), record(4)])
            savepoint = uow.connection.begin_nested()
            uow.audit.append_all([record(5), record(6)])
            savepoint.rollback()
            last = uow.audit.append_all([record(7)])
            uow.commit()
        seqs = [e.seq for e in together]
        assert first < seqs[0] < seqs[1] < seqs[2] < last[0].seq
        assert [e.entity_id for e in together] == ["2", "3", "4"]
        report = verify_audit_chain(
            lambda: SqlUnitOfWork(engine, clock=clock, audit_key=KEY), key=KEY
        )
        assert (report.ok, report.events_checked, report.pending) == (True, 5, 0)
        with SqlUnitOfWork(engine, clock=clock, audit_key=KEY) as uow:
            assert [e.entity_id for e in uow.audit.events()] == ["1", "2", "3", "4", "7"]
    finally:
        engine.dispose()
