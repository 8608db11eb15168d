"""Migration 0040 drops the unique constraint on an audit event's hash, on SQLite (a table
rebuild) and PostgreSQL: the trail written before keeps every row and still verifies, new
events chain on after it, and the downgrade brings the constraint back."""

from __future__ import annotations

from sqlalchemy import Engine, inspect, text

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.unit_of_work import SqlUnitOfWork
from puhui.domain.audit import AuditRecord
from puhui.domain.clock import FixedClock
from puhui.services.audit import verify_audit_chain

KEY = b"k" * 32
CONSTRAINT = "uq_audit_events_hash"


def _record(n: int) -> AuditRecord:
    return AuditRecord(
        actor="test", action="thing.done", entity="thing", entity_id=str(n), payload={"n": n}
    )


def _append(engine: Engine, clock: FixedClock, numbers: range) -> None:
    with SqlUnitOfWork(engine, clock=clock, audit_key=KEY) as uow:
        for n in numbers:
            uow.audit.append(_record(n))
        uow.commit()


def _unique_constraints(engine: Engine) -> set[str | None]:
    return {u["name"] for u in inspect(engine).get_unique_constraints("audit_events")}


def _trail(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT seq, entity_id, prev_hash, hash, event_mac FROM audit_events ORDER BY seq")
        ).all()
    return [tuple(row) for row in rows]


def test_the_trail_survives_the_upgrade_and_the_constraint_returns_with_the_downgrade(
    database_url: str, clock: FixedClock
) -> None:
    engine = make_engine(database_url)

    def verify() -> tuple[bool, int]:
        report = verify_audit_chain(
            lambda: SqlUnitOfWork(engine, clock=clock, audit_key=KEY), key=KEY
        )
        return report.ok, report.events_checked

    try:
        migrate.upgrade(engine, "0039")
        assert CONSTRAINT in _unique_constraints(engine)
        _append(engine, clock, range(1, 4))
        assert verify() == (True, 3)
        before = _trail(engine)

        migrate.upgrade(engine, "0040")
        assert CONSTRAINT not in _unique_constraints(engine)
        assert _trail(engine) == before
        _append(engine, clock, range(4, 6))
        assert verify() == (True, 5)

        migrate.downgrade(engine, "0039")
        assert CONSTRAINT in _unique_constraints(engine)
        assert verify() == (True, 5)
        assert _trail(engine)[:3] == before
    finally:
        engine.dispose()
