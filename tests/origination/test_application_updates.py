"""An application's row is updated with the columns that changed and nothing else, on SQLite
and PostgreSQL: on SQLite every index with a column in the SET list is rewritten, same value
or not, and the table has thirteen such indexes. What is read back is the new state whole."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flow_scenarios import ALL_SCOPES, new
from origination_fakes import EVIDENCE, PHONE
from origination_wiring import Wired
from sqlalchemy import Engine, text

from puhui.domain.errors import Conflict
from puhui.domain.origination.application import ApplicationStatus
from puhui.domain.origination.assessment import Outcome
from puhui.services.origination import use_cases as uc

_SET = re.compile(r"UPDATE origination_applications SET (.*?) WHERE", re.DOTALL)


def _set_columns(captured: list[tuple[str, Any]]) -> list[set[str]]:
    """The columns each UPDATE of an application set, in the order they ran."""
    found = []
    for sql, _ in captured:
        match = _SET.search(sql)
        if match:
            found.append({part.split("=")[0].strip() for part in match.group(1).split(",")})
    return found


def test_consent_and_decision_write_only_what_they_change(
    db: Wired, engine: Engine, statements: Callable[[Engine], Any]
) -> None:
    db.assessor.evidence = EVIDENCE
    owner = db.applicant(PHONE)
    made = uc.create_application(db.origination, actor=owner, request=new())
    app_id = made.application_id
    db.clock.advance(timedelta(minutes=5))
    with statements(engine) as captured:
        uc.give_consent(
            db.origination, actor=owner, application_id=app_id, scopes=ALL_SCOPES, purpose="credit"
        )
        db.clock.advance(timedelta(minutes=5))
        view = uc.assess_application(db.origination, actor=owner, application_id=app_id)

    consent_set, decision_set = _set_columns(captured)
    assert consent_set == {"status", "updated_at", "version"}
    assert view.application.status is ApplicationStatus.OFFERED
    # The decision sets its assessment (and a green label, when it read one), never the
    # applicant's columns.
    assert {"status", "updated_at", "version", "assessment_json"} <= decision_set
    assert decision_set.isdisjoint(
        {"uscc", "application_no", "created_at", "applicant_user_id", "branch_code"}
    )

    with db.origination.uow_factory() as uow:
        stored = uow.applications.get(app_id)
    decided = view.application
    assert decided.assessment is not None
    # The evidence is kept in the decision's own table, not on the application's row.
    assert stored is not None
    assert stored == replace(decided, assessment=replace(decided.assessment, evidence=None))
    assert stored.created_at == made.created_at


def test_a_declined_application_frees_the_enterprise_for_a_new_one(
    db: Wired, engine: Engine, statements: Callable[[Engine], Any]
) -> None:
    """Closing writes ``open_uscc`` (NULL), the column behind "one open application per
    enterprise": left out, the enterprise could never apply again."""
    db.assessor.outcome = Outcome.DECLINE
    owner = db.applicant(PHONE)
    first = uc.create_application(db.origination, actor=owner, request=new())
    uc.give_consent(
        db.origination,
        actor=owner,
        application_id=first.application_id,
        scopes=ALL_SCOPES,
        purpose="credit",
    )
    with statements(engine) as captured:
        view = uc.assess_application(
            db.origination, actor=owner, application_id=first.application_id
        )
    assert view.application.status is ApplicationStatus.DECLINED
    assert "open_uscc" in _set_columns(captured)[0]
    with engine.connect() as connection:
        open_uscc = connection.execute(
            text("SELECT open_uscc FROM origination_applications WHERE application_id = :a"),
            {"a": first.application_id},
        ).scalar_one()
    assert open_uscc is None
    second = uc.create_application(db.origination, actor=owner, request=new())
    assert second.application_id != first.application_id


def test_an_update_over_a_stale_state_is_refused_and_changes_nothing(db: Wired) -> None:
    owner = db.applicant(PHONE)
    made = uc.create_application(db.origination, actor=owner, request=new())
    now = db.clock.now()
    consented = made.moved_to(ApplicationStatus.CONSENTED, at=now)
    with db.origination.uow_factory() as uow:
        uow.applications.update(consented, previous=made)
        uow.commit()
    # A second writer that read the application before the first one wrote.
    late = made.moved_to(ApplicationStatus.CONSENTED, at=now + timedelta(seconds=1))
    with db.origination.uow_factory() as uow, pytest.raises(Conflict, match="changed by another"):
        uow.applications.update(late, previous=made)
    with db.origination.uow_factory() as uow:
        assert uow.applications.get(made.application_id) == consented


def test_an_update_must_be_of_the_same_application_and_move_its_version(db: Wired) -> None:
    owner = db.applicant(PHONE)
    made = uc.create_application(db.origination, actor=owner, request=new())
    other = replace(made, application_id="app_other")
    moved = made.moved_to(ApplicationStatus.CONSENTED, at=db.clock.now())
    with db.origination.uow_factory() as uow:
        with pytest.raises(ValueError, match="same application"):
            uow.applications.update(moved, previous=other)
        with pytest.raises(ValueError, match="version forward"):
            uow.applications.update(replace(moved, version=made.version), previous=made)
    with db.origination.uow_factory() as uow:
        assert uow.applications.get(made.application_id) == made


def test_an_assessment_is_written_only_when_it_changes(
    db: Wired, engine: Engine, statements: Callable[[Engine], Any]
) -> None:
    owner = db.applicant(PHONE)
    made = uc.create_application(db.origination, actor=owner, request=new())
    uc.give_consent(
        db.origination,
        actor=owner,
        application_id=made.application_id,
        scopes=ALL_SCOPES,
        purpose="credit",
    )
    uc.assess_application(db.origination, actor=owner, application_id=made.application_id)
    with db.origination.uow_factory() as uow:
        decided = uow.applications.get(made.application_id)
    assert decided is not None
    assert decided.assessment is not None
    at = db.clock.now()
    passed_on = decided.moved_to(ApplicationStatus.ACCEPTED, at=at)  # the same assessment
    equal = replace(  # another object, the same value
        passed_on, assessment=replace(decided.assessment), version=passed_on.version + 1
    )
    revised = replace(
        equal,
        assessment=replace(decided.assessment, reasons=("manual_review",)),
        version=equal.version + 1,
    )
    with statements(engine) as captured, db.origination.uow_factory() as uow:
        uow.applications.update(passed_on, previous=decided)
        uow.applications.update(equal, previous=passed_on)
        uow.applications.update(revised, previous=equal)
        uow.commit()
    passed_on_set, equal_set, revised_set = _set_columns(captured)
    assert "assessment_json" not in passed_on_set
    assert "assessment_json" not in equal_set
    assert "assessment_json" in revised_set
    with db.origination.uow_factory() as uow:
        assert uow.applications.get(made.application_id) == revised
