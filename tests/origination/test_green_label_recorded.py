"""The green label and category the decision read are recorded on the application
(migration 0032, docs/green.md) and read back from storage; none read, none recorded."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flow_scenarios import ALL_SCOPES, new
from origination_fakes import EVIDENCE as BASE
from origination_fakes import PHONE
from origination_wiring import Wired

from puhui.domain.errors import InvalidInput
from puhui.services.origination import use_cases as uc

EVIDENCE = replace(BASE, inputs={"green_label": "green", "green_category": "clean_energy"})


def _assessed(db: Wired) -> uc.ApplicationView:
    owner = db.applicant(PHONE)
    made = uc.create_application(db.origination, actor=owner, request=new())
    uc.give_consent(
        db.origination,
        actor=owner,
        application_id=made.application_id,
        scopes=ALL_SCOPES,
        purpose="credit assessment",
    )
    uc.assess_application(db.origination, actor=owner, application_id=made.application_id)
    return uc.get_application(db.origination, actor=owner, application_id=made.application_id)


def test_the_label_the_decision_read_is_stored_with_the_application(db: Wired) -> None:
    db.assessor.evidence = EVIDENCE
    view = _assessed(db)
    assert view.application.green_label == "green"
    assert view.application.green_category == "clean_energy"


def test_a_decision_without_green_inputs_records_none(db: Wired) -> None:
    db.assessor.evidence = replace(EVIDENCE, inputs={"score": 655})
    view = _assessed(db)
    assert view.application.green_label is None
    assert view.application.green_category is None


def test_an_unknown_label_is_refused_by_the_application(db: Wired) -> None:
    db.assessor.evidence = replace(EVIDENCE, inputs={"green_label": "sort_of_green"})
    with pytest.raises(InvalidInput, match="a green label is one of"):
        _assessed(db)
