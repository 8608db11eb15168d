"""Reads take a snapshot beside the writer; the assessment runs outside any write transaction."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
from flow_scenarios import ALL_SCOPES, apply_and_consent
from origination_fakes import EVIDENCE
from origination_wiring import AUDIT_KEY, DATA_KEY, Wired, migrated_engine, wire
from sqlalchemy import Engine, event, func, select

from puhui.adapters.db import tables as audit_tables
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.origination import tables as t
from puhui.adapters.db.origination.unit_of_work import OriginationUnits, SqliteWriterLock
from puhui.domain.audit import AuditRecord
from puhui.domain.clock import FixedClock
from puhui.domain.origination.application import ApplicationStatus
from puhui.domain.origination.assessment import Assessment
from puhui.domain.origination.errors import ApplicationChanged
from puhui.services.origination import use_cases as uc
from puhui.services.origination.ports import AssessmentRequest


def units(engine: Engine, clock: FixedClock) -> OriginationUnits:
    return OriginationUnits(engine, clock=clock, audit_key=AUDIT_KEY, cipher=FieldCipher(DATA_KEY))


def test_a_reader_is_not_held_up_by_a_writer_in_the_middle_of_its_transaction(
    db: Wired, engine: Engine, clock: FixedClock
) -> None:
    _, application_id = apply_and_consent(db)
    u = units(engine, clock)
    seen: list[ApplicationStatus] = []

    def read() -> None:
        with u.reader() as uow:
            application = uow.applications.get(application_id)
            assert application is not None
            seen.append(application.status)

    with u.writer() as writer:
        # The writer holds the write lock (and, on SQLite, the process's writer queue).
        writer.audit.append(AuditRecord("test", "hold", "test", "1", {}))
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=10)
        finished_while_writer_held_lock = not reader.is_alive()
    reader.join()
    assert finished_while_writer_held_lock
    assert seen == [ApplicationStatus.CONSENTED]


def test_a_read_only_unit_of_work_refuses_to_commit_or_to_audit(
    engine: Engine, clock: FixedClock
) -> None:
    with units(engine, clock).reader() as uow:
        with pytest.raises(RuntimeError, match="read-only"):
            uow.audit.append(AuditRecord("test", "write", "test", "1", {}))
        with pytest.raises(RuntimeError, match="read-only"):
            uow.commit()
    with units(engine, clock).writer() as uow:
        assert uow.audit.count() == 0


@dataclass
class MeanwhileAssessor:
    """Does something else to the application while its decision is being computed."""

    inner: object
    meanwhile: object = None
    calls: list[str] = field(default_factory=list)

    def assess(self, request: AssessmentRequest) -> Assessment:
        self.calls.append(request.application_id)
        if len(self.calls) == 1 and callable(self.meanwhile):
            self.meanwhile()
        return self.inner.assess(request)  # type: ignore[attr-defined]


def _count(engine: Engine, table: object, *where: object) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore[arg-type]


def test_a_decision_made_by_another_request_meanwhile_stands_and_is_not_written_twice(
    db: Wired, engine: Engine
) -> None:
    owner, application_id = apply_and_consent(db)
    o = db.origination
    assessor = MeanwhileAssessor(db.assessor)

    def decide_concurrently() -> None:
        uc.assess_application(o, actor=owner, application_id=application_id)

    assessor.meanwhile = decide_concurrently
    o.assessor = assessor
    view = uc.assess_application(o, actor=owner, application_id=application_id)

    assert assessor.calls == [application_id, application_id]
    assert view.application.status is ApplicationStatus.OFFERED
    assert view.offer is not None
    assert _count(engine, t.offers) == 1
    offered = audit_tables.audit_events.c.action == "application.offered"
    assert _count(engine, audit_tables.audit_events, offered) == 1


def test_a_consent_revoked_during_the_assessment_leaves_nothing_recorded(
    db: Wired, engine: Engine
) -> None:
    owner, application_id = apply_and_consent(db)
    o = db.origination
    with o.reading() as uow:
        (consent,) = uow.consents.for_application(application_id)

    def revoke() -> None:
        uc.revoke_consent(
            o, actor=owner, application_id=application_id, consent_id=consent.consent_id
        )

    o.assessor = MeanwhileAssessor(db.assessor, revoke)
    with pytest.raises(ApplicationChanged, match="changed during its assessment"):
        uc.assess_application(o, actor=owner, application_id=application_id)

    view = uc.get_application(o, actor=owner, application_id=application_id)
    assert view.application.status is ApplicationStatus.CREATED
    assert view.application.assessment is None
    assert _count(engine, t.offers) == 0
    assert len(ALL_SCOPES) == len(consent.scopes)


def test_on_sqlite_the_decisions_writer_lock_is_held_for_writes_only(
    sqlite_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other writers wait while a decision holds SQLite's writer lock: nothing is read
    under it (the versioned update checks that the application did not move) and the
    outcome, its audit records, the stored decision and the offer are made before it."""
    engine = migrated_engine(sqlite_url)
    try:
        u = units(engine, clock)
        w = wire(u.writer, clock, reader_factory=u.reader)
        w.assessor.evidence = EVIDENCE  # so that the decision is stored too
        owner, application_id = apply_and_consent(w)
        held = {"now": False}
        under_lock: list[str] = []
        acquire, release = SqliteWriterLock.acquire, SqliteWriterLock.release

        def acquired(lock: SqliteWriterLock) -> None:
            acquire(lock)
            held["now"] = True

        def released(lock: SqliteWriterLock) -> None:
            held["now"] = False
            release(lock)

        def statement(_c: object, _cursor: object, sql: str, *_: object) -> None:
            if held["now"]:
                under_lock.append(sql.split(maxsplit=1)[0].upper())

        monkeypatch.setattr(SqliteWriterLock, "acquire", acquired)
        monkeypatch.setattr(SqliteWriterLock, "release", released)
        event.listen(engine, "before_cursor_execute", statement)
        view = uc.assess_application(w.origination, actor=owner, application_id=application_id)
        event.remove(engine, "before_cursor_execute", statement)

        assert view.application.status is ApplicationStatus.OFFERED
        # The application, the moved audit head, the events, the decision record, the offer.
        assert under_lock == ["UPDATE", "UPDATE", "INSERT", "INSERT", "INSERT"]
    finally:
        engine.dispose()
