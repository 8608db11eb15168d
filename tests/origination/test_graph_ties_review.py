"""Applications since the snapshot, after the review of issue #15: read from the bank's
midnight, limited per identifier (fakes, SQLite and PostgreSQL alike)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flow_scenarios import S, _id_number, _uscc, new, staff
from origination_wiring import Wired
from test_graph_origination import _apply_from, _assess, _graph

from puhui.services.origination import use_cases as uc
from puhui.services.security.permissions import Role


def applications_early_on_the_first_beijing_time_are_tied(w: Wired, tmp_path: Path) -> None:
    # 01:00 on 1 March in Beijing: still 28 February in UTC. The February snapshot serves
    # and does not hold these applications: the check must read them.
    w.clock.advance(datetime(2026, 2, 28, 17, 0, tzinfo=UTC) - w.clock.now())
    w.origination.graph = _graph(tmp_path)
    _apply_from(w, 1, "dev-agent")
    _apply_from(w, 2, "dev-agent")
    view = _assess(w, 3, _apply_from(w, 3, "dev-agent"))
    assessment = view.application.assessment
    assert assessment is not None
    assert view.application.status is S.REFERRED
    assert "AF11_PACKAGED_APPLICATION" in assessment.reasons


def a_busy_network_does_not_crowd_out_a_shared_phone(w: Wired, tmp_path: Path) -> None:
    manager = staff(w, "am", Role.ACCOUNT_MANAGER)
    shared_phone = "13900001111"
    phone_tie = new(uscc=_uscc(20), id_number=_id_number(20), phone=shared_phone)
    uc.create_application(w.origination, actor=manager, request=phone_tie)
    for n in range(21, 25):  # later applications through one network
        request = new(uscc=_uscc(n), id_number=_id_number(n), phone=f"1390000{n:04d}")
        uc.create_application(
            w.origination, actor=manager, request=replace(request, ip_address="10.0.0.1")
        )
    with w.origination.uow_factory() as uow:
        ties = uow.applications.identifier_ties(
            identifiers={"phone": shared_phone, "ip_address": "10.0.0.1"},
            since=datetime(2020, 1, 1, tzinfo=UTC),
            uscc=_uscc(30),
            limit=3,
        )
    assert sorted((t.kind, t.uscc) for t in ties if t.kind == "phone") == [("phone", _uscc(20))]
    assert len([t for t in ties if t.kind == "ip"]) == 3


SCENARIOS = [
    applications_early_on_the_first_beijing_time_are_tied,
    a_busy_network_does_not_crowd_out_a_shared_phone,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_on_fakes(scenario: object, fake: Wired, tmp_path: Path) -> None:
    scenario(fake, tmp_path)  # type: ignore[operator]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_on_databases(scenario: object, db: Wired, tmp_path: Path) -> None:
    scenario(db, tmp_path)  # type: ignore[operator]
