"""The graph checked as applications arrive, through the services, on fakes and databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from flow_scenarios import ALL_SCOPES, S, _id_number, _uscc, new, staff
from graph_snapshots import GRAPH_KEY, HandGraph
from origination_wiring import Wired

from puhui.graph.live import GraphSource
from puhui.graph.online import GRAPH_INPUTS
from puhui.services.origination import use_cases as uc
from puhui.services.security.permissions import SYSTEM, Role

SNAPSHOT_MONTH = date(2026, 2, 1)  # the tests' clock stands on 2 March 2026
RING_MEMBER = _uscc(90)


def _graph(tmp_path: Path, month: date = SNAPSHOT_MONTH) -> GraphSource:
    graph = HandGraph(month)
    graph.enterprise(RING_MEMBER).enterprise(_uscc(91))
    graph.identifier(RING_MEMBER, "device", "dev-ring")
    graph.identifier(_uscc(91), "device", "dev-ring")
    graph.ring("R7", [RING_MEMBER, _uscc(91)], 0.8)
    graph.write(tmp_path / "graph")
    return GraphSource(tmp_path / "graph", key=GRAPH_KEY, background=False)


def _apply_from(w: Wired, n: int, device: str) -> str:
    """Enterprise ``n`` applies (through an account manager) from ``device``; its id."""
    manager = staff(w, f"am{n}", Role.ACCOUNT_MANAGER)
    request = new(uscc=_uscc(n), id_number=_id_number(n), phone=f"1390000{n:04d}")
    return uc.create_application(
        w.origination, actor=manager, request=replace(request, device_id=device)
    ).application_id


def _assess(w: Wired, n: int, app_id: str) -> uc.ApplicationView:
    owner = w.applicant(f"1390000{n:04d}")
    uc.give_consent(
        w.origination, actor=owner, application_id=app_id, scopes=ALL_SCOPES, purpose="credit"
    )
    w.data_source.legal_rep = _id_number(n)
    return uc.assess_application(w.origination, actor=owner, application_id=app_id)


def two_new_applications_on_one_device_tie_the_third(w: Wired, tmp_path: Path) -> None:
    w.origination.graph = _graph(tmp_path)
    _apply_from(w, 1, "dev-agent")
    _apply_from(w, 2, "dev-agent")
    view = _assess(w, 3, _apply_from(w, 3, "dev-agent"))
    assessment = view.application.assessment
    assert assessment is not None
    assert view.application.status is S.REFERRED
    assert "AF11_PACKAGED_APPLICATION" in assessment.reasons
    graph = assessment.trace["graph"]
    assert graph["status"] == "ok"
    assert graph["hits"] == ["AF11_PACKAGED_APPLICATION"]
    assert graph["packaging_enterprises"] == [_uscc(1), _uscc(2)]
    assert "dev-agent" not in str(graph)
    request = w.assessor.requests[-1]
    assert request.graph_inputs is not None
    assert request.graph_inputs["packaging_enterprises"] == 2
    assert request.graph_inputs["graph_ring_score"] == 0.0


def a_newcomer_on_a_rings_device_is_declined(w: Wired, tmp_path: Path) -> None:
    w.origination.graph = _graph(tmp_path)
    view = _assess(w, 4, _apply_from(w, 4, "dev-ring"))
    assessment = view.application.assessment
    assert assessment is not None
    assert view.application.status is S.DECLINED
    assert assessment.reasons[0] == "AF10_FRAUD_RING"
    assert assessment.trace["graph"]["tied_rings"] == [
        {"ring_id": "R7", "score": 0.8, "via": "device"}
    ]


def a_stale_graph_leaves_its_inputs_missing_and_says_so(w: Wired, tmp_path: Path) -> None:
    w.origination.graph = _graph(tmp_path, month=date(2025, 12, 1))
    view = _assess(w, 5, _apply_from(w, 5, "dev-ring"))
    assessment = view.application.assessment
    assert assessment is not None
    assert view.application.status is S.OFFERED  # no evidence: the ring tie is not seen
    graph = assessment.trace["graph"]
    assert (graph["graph"], graph["status"], graph["as_of"]) == (
        "unavailable",
        "stale",
        "2025-12-01",
    )
    assert "2025-12-31" in graph["why"]
    assert w.assessor.requests[-1].graph_inputs == dict.fromkeys(GRAPH_INPUTS)


def without_a_graph_the_trace_says_it_is_missing(w: Wired, tmp_path: Path) -> None:
    view = _assess(w, 6, _apply_from(w, 6, "dev-ring"))
    assessment = view.application.assessment
    assert assessment is not None
    assert assessment.trace["graph"]["status"] == "missing"
    assert "PUHUI_GRAPH_DIR" in assessment.trace["graph"]["why"]


SCENARIOS = [
    two_new_applications_on_one_device_tie_the_third,
    a_newcomer_on_a_rings_device_is_declined,
    a_stale_graph_leaves_its_inputs_missing_and_says_so,
    without_a_graph_the_trace_says_it_is_missing,
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_on_fakes(scenario: object, fake: Wired, tmp_path: Path) -> None:
    scenario(fake, tmp_path)  # type: ignore[operator]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_on_databases(scenario: object, db: Wired, tmp_path: Path) -> None:
    scenario(db, tmp_path)  # type: ignore[operator]


def test_system_sees_the_graph_trace_in_the_stored_assessment(db: Wired, tmp_path: Path) -> None:
    db.origination.graph = _graph(tmp_path)
    app_id = _assess(db, 7, _apply_from(db, 7, "dev-ring")).application.application_id
    stored = uc.get_application(db.origination, actor=SYSTEM, application_id=app_id)
    assert stored.application.assessment is not None
    assert stored.application.assessment.trace["graph"]["hits"] == [
        "AF10_FRAUD_RING",
        "AF11_PACKAGED_APPLICATION",  # the two ring members applied from it in February
    ]
