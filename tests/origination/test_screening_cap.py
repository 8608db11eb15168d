"""The anti-fraud counts stop at one past the highest threshold: a network address shared by
thousands of applications (a branch's office, a carrier's NAT) costs the screening no more
than a household's, and every rule decides as it would on the whole count."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flow_scenarios import ALL_SCOPES, new
from origination_fakes import OWNER_ID
from origination_wiring import AUDIT_KEY, DATA_KEY, Wired
from sqlalchemy import Engine

from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.origination.repositories import SqlApplicationRepository
from puhui.adapters.db.origination.unit_of_work import OriginationUnits
from puhui.domain.clock import FixedClock
from puhui.domain.identity import uscc_check_char
from puhui.domain.origination import fraud
from puhui.services.origination import use_cases as uc
from puhui.services.origination.ports import ScreeningCounts

IP = "198.51.100.23"
SHARED_PHONE = "13700000000"
MADE = 6


def _uscc(n: int) -> str:
    first17 = f"91330100M{n:08d}"
    return first17 + uscc_check_char(first17)


def _apply_from_one_address(w: Wired) -> list[str]:
    """``MADE`` enterprises apply from one IP address with one phone: their applications."""
    owner = w.applicant(SHARED_PHONE)
    made = []
    for n in range(MADE):
        request = replace(new(uscc=_uscc(n), phone=SHARED_PHONE), ip_address=IP)
        made.append(uc.create_application(w.origination, actor=owner, request=request))
        w.clock.advance(timedelta(minutes=5))
    return [application.application_id for application in made]


def _counts(engine: Engine, clock: FixedClock, up_to: int | None) -> ScreeningCounts:
    units = OriginationUnits(engine, clock=clock, audit_key=AUDIT_KEY, cipher=FieldCipher(DATA_KEY))
    with units.reader() as uow:
        return uow.applications.screening_counts(
            velocity={"ip_address": IP, "phone": SHARED_PHONE},
            phone=SHARED_PHONE,
            id_number=OWNER_ID,
            since=clock.now() - timedelta(days=30),
            up_to=up_to,
        )


def test_the_cap_is_one_past_the_highest_count_threshold() -> None:
    assert fraud.FraudPolicy().count_cap == 11  # the IP address's 10, plus one
    assert fraud.FraudPolicy(max_enterprises_per_identifier=40).count_cap == 41
    assert fraud.FraudPolicy(max_applications_per_phone=25).count_cap == 26


def test_counts_stop_at_the_cap_on_each_database(
    db: Wired, engine: Engine, clock: FixedClock
) -> None:
    _apply_from_one_address(db)
    whole = _counts(engine, clock, None)
    assert whole.applications_by == {"ip_address": MADE, "phone": MADE}
    assert whole.enterprises_sharing_phone == MADE
    assert whole.enterprises_sharing_id_number == MADE

    capped = _counts(engine, clock, 4)
    assert capped.applications_by == {"ip_address": 4, "phone": 4}
    assert (capped.enterprises_sharing_phone, capped.enterprises_sharing_id_number) == (4, 4)
    # A cap above the count changes nothing.
    assert _counts(engine, clock, MADE + 1) == whole
    with pytest.raises(ValueError, match="up_to must be at least 1"):
        _counts(engine, clock, 0)


@pytest.mark.parametrize("threshold", range(1, MADE + 2))
def test_every_rule_decides_on_capped_counts_as_on_whole_ones(
    db: Wired, engine: Engine, clock: FixedClock, threshold: int
) -> None:
    _apply_from_one_address(db)
    policy = fraud.FraudPolicy(
        max_applications_per_phone=threshold,
        max_applications_per_device=threshold,
        max_applications_per_ip=threshold,
        max_applications_per_address=threshold,
        max_enterprises_per_identifier=threshold,
    )
    decided = []
    for counts in (_counts(engine, clock, None), _counts(engine, clock, policy.count_cap)):
        facts = fraud.FraudFacts(
            as_of=clock.today(),
            legal_representative_matches=None,
            on_internal_blacklist=False,
            on_executed_person_list=False,
            applications_by_phone=counts.applications_by["phone"],
            applications_by_device=0,
            applications_by_ip=counts.applications_by["ip_address"],
            applications_by_address=0,
            enterprises_sharing_phone=counts.enterprises_sharing_phone,
            enterprises_sharing_id_number=counts.enterprises_sharing_id_number,
            registered_on=None,
            requested_amount_fen=None,
        )
        decided.append(fraud.screen(facts, policy))
    assert decided[0] == decided[1]
    assert bool(decided[0]) == (threshold < MADE)


def test_the_assessment_counts_up_to_its_policys_cap(
    db: Wired, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int | None] = []
    counted = SqlApplicationRepository.screening_counts

    def spy(self: SqlApplicationRepository, **kwargs: Any) -> ScreeningCounts:
        asked.append(kwargs.get("up_to"))
        return counted(self, **kwargs)

    monkeypatch.setattr(SqlApplicationRepository, "screening_counts", spy)
    db.origination.fraud_policy = fraud.FraudPolicy(max_applications_per_ip=3)
    last = _apply_from_one_address(db)[-1]
    owner = db.applicant(SHARED_PHONE)
    uc.give_consent(
        db.origination, actor=owner, application_id=last, scopes=ALL_SCOPES, purpose="credit"
    )
    view = uc.assess_application(db.origination, actor=owner, application_id=last)
    assert asked == [fraud.FraudPolicy(max_applications_per_ip=3).count_cap]
    reasons = view.application.assessment.reasons  # type: ignore[union-attr]
    assert "AF06_VELOCITY_IP" in reasons
    assert "AF08_SHARED_IDENTIFIER" in reasons
