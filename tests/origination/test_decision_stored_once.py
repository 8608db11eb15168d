"""A decision is stored once: a second record for the application is refused, the first stays."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flow_scenarios import apply_and_consent
from origination_fakes import EVIDENCE
from origination_wiring import Wired

from puhui.domain.errors import Conflict
from puhui.services.origination import use_cases as uc


def test_a_second_record_of_a_decision_is_refused_and_the_first_stays(db: Wired) -> None:
    db.assessor.evidence = EVIDENCE
    owner, app_id = apply_and_consent(db)
    uc.assess_application(db.origination, actor=owner, application_id=app_id)
    with db.origination.uow_factory() as uow:
        stored = uow.decisions.get(app_id)
    assert stored is not None
    assert stored.evidence.model_version == "v1"
    other = replace(stored, evidence=replace(stored.evidence, model_version="v2"))
    with db.origination.uow_factory() as uow, pytest.raises(Conflict, match="stored already"):
        uow.decisions.add(other)
    with db.origination.uow_factory() as uow:
        assert uow.decisions.get(app_id) == stored
