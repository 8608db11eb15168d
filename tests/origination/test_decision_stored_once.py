"""A decision is stored once: a second record for the application is refused, the first stays."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from flow_scenarios import apply_and_consent
from origination_wiring import Wired

from puhui.domain.errors import Conflict
from puhui.domain.origination.decision_record import DecisionEvidence
from puhui.services.origination import use_cases as uc


def test_a_second_record_of_a_decision_is_refused_and_the_first_stays(db: Wired) -> None:
    db.assessor.evidence = DecisionEvidence(
        as_of=date(2026, 3, 2),
        licence_type="bank",
        strategy_name="mse-default",
        strategy_version=1,
        strategy_hash="0" * 64,
        model_name="market-pd",
        model_version="v1",
        arm="champion",
        inputs={"requested_amount_fen": 30_000_000},
        features={"f": 1.0},
        feature_source="store",
    )
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
