"""The audit log's cached chain head never outlives its transaction or savepoint."""

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
    migrate.upgrade(engine, "0001")
    try:
        with LazyUnitOfWork(engine, clock=clock, audit_key=KEY) as uow:
            assert uow.audit.append(record(1)).seq == 1
            assert uow.audit.append(record(2)).seq == 2
            uow.commit()
            # Another writer between two transactions of this unit of work.
            with LazyUnitOfWork(engine, clock=clock, audit_key=KEY) as other:
                assert other.audit.append(record(3)).seq == 3
                other.commit()
            assert uow.audit.append(record(4)).seq == 4
            savepoint = uow.connection.begin_nested()
            assert uow.audit.append(record(5)).seq == 5
            savepoint.rollback()
            assert uow.audit.append(record(6)).seq == 5
            uow.commit()
        report = verify_audit_chain(
            lambda: SqlUnitOfWork(engine, clock=clock, audit_key=KEY), key=KEY
        )
        assert report.ok
        assert report.events_checked == 5
    finally:
        engine.dispose()
