"""The online graph check on hand-made snapshots: reasons, incremental ties, freshness."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from graph_snapshots import GRAPH_KEY, HandGraph

from puhui.domain.origination.application import Applicant
from puhui.domain.origination.fraud import GraphPolicy, screen_graph
from puhui.graph.live import GraphSource
from puhui.graph.online import (
    GRAPH_INPUTS,
    GraphIndex,
    RecentTie,
    unavailable_inputs,
)

MONTH = date(2026, 3, 1)
TODAY = date(2026, 4, 10)
RING = ["91110000RING00001A", "91110000RING00002B", "91110000RING00003C"]
GENUINE = "91110000GENUINE01X"
NEWCOMER = "91110000NEWCOMER1Y"
ID_A, ID_B = "110101199001011234", "110101199202022345"


def ringed_graph() -> HandGraph:
    graph = HandGraph(MONTH)
    for uscc in RING:
        graph.enterprise(uscc, shared_contact_count=2, applications_30d=1)
        graph.identifier(uscc, "device", "DV-RING-1")
        graph.identifier(uscc, "phone", "13800000001", source="registry")
    graph.ring("R1", RING, 0.9)
    graph.enterprise(GENUINE, shared_contact_count=0, applications_30d=1)
    graph.identifier(GENUINE, "device", "DV-GENUINE")
    graph.identifier(GENUINE, "person", ID_A, source="registry")
    return graph


def codes(index: GraphIndex, app: Applicant, recent: list[RecentTie]) -> list[str]:
    check = index.check(app, TODAY, recent)
    return [r.code for r in screen_graph(check.facts, GraphPolicy())]


def test_ring_member_and_newcomer_on_ring_device_are_knocked_out(tmp_path: Path) -> None:
    index = GraphIndex.load(ringed_graph().write(tmp_path), GRAPH_KEY)
    member = Applicant(RING[0], ID_B, "13900000009", device_id="DV-OWN")
    assert codes(index, member, []) == ["AF10_FRAUD_RING"]
    newcomer = Applicant(NEWCOMER, ID_B, "13900000009", device_id="DV-RING-1")
    check = index.check(newcomer, TODAY, [])
    assert check.facts.tied_rings == ("R1",)
    assert check.inputs["graph_ring_score"] == 0.9
    assert check.evidence["tied_rings"] == [{"ring_id": "R1", "score": 0.9, "via": "device"}]
    assert "DV-RING-1" not in str(check.evidence)
    genuine = Applicant(GENUINE, ID_A, "13900000008", device_id="DV-GENUINE")
    assert codes(index, genuine, []) == []
    assert index.check(genuine, TODAY, []).inputs["graph_ring_score"] == 0.0


def test_two_new_applications_on_one_device_make_the_third_a_packaged_one(
    tmp_path: Path,
) -> None:
    index = GraphIndex.load(ringed_graph().write(tmp_path), GRAPH_KEY)
    third = Applicant(NEWCOMER, ID_B, "13900000009", device_id="DV-AGENT")
    assert codes(index, third, []) == []
    recent = [
        RecentTie("device", "91110000OTHER0001A", False, TODAY),
        RecentTie("device", "91110000OTHER0002B", False, TODAY),
    ]
    check = index.check(third, TODAY, recent)
    assert check.inputs["packaging_enterprises"] == 2
    assert check.inputs["shared_contact_count"] == 2
    assert [r.code for r in screen_graph(check.facts)] == ["AF11_PACKAGED_APPLICATION"]
    assert check.evidence["ties"] == [
        {
            "identifier": "device DV-A****",
            "enterprises_in_graph": 0,
            "applications_since_graph": 2,
            "hub": False,
            "examples": ["91110000OTHER0001A", "91110000OTHER0002B"],
        }
    ]


def test_the_same_persons_other_enterprises_are_related_not_packaging(tmp_path: Path) -> None:
    index = GraphIndex.load(ringed_graph().write(tmp_path), GRAPH_KEY)
    third = Applicant(NEWCOMER, ID_B, "13900000009", device_id="DV-AGENT")
    recent = [
        RecentTie("device", "91110000OTHER0001A", True, TODAY),
        RecentTie("device", "91110000OTHER0002B", True, TODAY),
    ]
    assert index.check(third, TODAY, recent).inputs["packaging_enterprises"] == 0
    # The legal representative's other enterprise in the snapshot is related too.
    by_person = Applicant(NEWCOMER, ID_A, "13900000009", device_id="DV-GENUINE")
    assert index.check(by_person, TODAY, []).inputs["shared_contact_count"] == 0


def test_round_trip_circle_stress_and_contagion_refer(tmp_path: Path) -> None:
    graph = HandGraph(MONTH)
    graph.enterprise(GENUINE, invoice_round_trip_ratio=0.45, contagion_score=0.95)
    graph.enterprise(NEWCOMER, guarantors_in_distress=0)
    graph.circle("C1", [GENUINE, NEWCOMER], distressed=1)
    index = GraphIndex.load(graph.write(tmp_path), GRAPH_KEY)
    check = index.check(Applicant(GENUINE, ID_A, "13900000008"), TODAY)
    assert [r.code for r in screen_graph(check.facts)] == [
        "AF12_INVOICE_ROUND_TRIP",
        "AF13_GUARANTEE_CIRCLE_STRESS",
        "AF14_CONTAGION",
    ]
    assert check.inputs["guarantee_circle"] == "C1"
    assert check.evidence["guarantee_circle"]["members_distressed"] == 1
    strict = GraphPolicy(max_round_trip_ratio=0.5, max_contagion_score=0.99)
    assert [r.code for r in screen_graph(check.facts, strict)] == ["AF13_GUARANTEE_CIRCLE_STRESS"]


def test_a_missing_or_stale_graph_does_not_serve_and_says_why(tmp_path: Path) -> None:
    source = GraphSource(tmp_path / "graph", key=GRAPH_KEY, background=False)
    missing = source.current(TODAY)
    assert (missing.index, missing.health.status) == (None, "missing")
    assert missing.unavailable()["graph"] == "unavailable"
    ringed_graph().write(tmp_path / "graph")
    source = GraphSource(tmp_path / "graph", key=GRAPH_KEY, max_age_days=45, background=False)
    assert source.current(date(2026, 5, 15)).health.status == "ok"  # 45 days after 31 March
    stale = source.current(date(2026, 5, 16))
    assert stale.index is None
    assert stale.health.status == "stale"
    assert stale.health.as_of == MONTH
    assert "2026-03-31" in (stale.health.why or "")
    assert unavailable_inputs() == dict.fromkeys(GRAPH_INPUTS)
    assert GraphSource(None, key=GRAPH_KEY).health(TODAY).status == "missing"


def test_a_newer_snapshot_is_picked_up_without_a_restart(tmp_path: Path) -> None:
    now = [0.0]
    graph_dir = tmp_path / "graph"
    ringed_graph().write(graph_dir)
    source = GraphSource(
        graph_dir, key=GRAPH_KEY, recheck_seconds=5, background=False, monotonic=lambda: now[0]
    )
    first = source.current(TODAY).index
    assert first is not None
    assert first.report.as_of == MONTH
    newer = HandGraph(date(2026, 4, 1)).enterprise(GENUINE, contagion_score=0.9)
    newer.write(graph_dir)
    may = date(2026, 5, 10)
    now[0] = 4.0  # within the recheck interval: the folder is not looked at
    assert source.current(may).index is first
    now[0] = 6.0
    reloaded = source.current(may).index
    assert reloaded is not None
    assert reloaded.report.as_of == date(2026, 4, 1)
    genuine = Applicant(GENUINE, ID_A, "13900000008")
    assert reloaded.check(genuine, may).inputs["contagion_score"] == 0.9


def test_an_incomplete_newer_snapshot_is_skipped(tmp_path: Path) -> None:
    graph_dir = tmp_path / "graph"
    ringed_graph().write(graph_dir)
    (graph_dir / "2026-04").mkdir()  # being written: no report.json yet
    source = GraphSource(graph_dir, key=GRAPH_KEY, background=False)
    index = source.current(TODAY).index
    assert index is not None
    assert index.folder.name == "2026-03"


def test_an_unreadable_snapshot_is_reported_not_served(tmp_path: Path) -> None:
    folder = ringed_graph().write(tmp_path / "graph")
    (folder / "edges.parquet").write_bytes(b"not parquet")
    live = GraphSource(tmp_path / "graph", key=GRAPH_KEY, background=False).current(TODAY)
    assert live.index is None
    assert live.health.status == "missing"
    assert "2026-03 could not be read" in (live.health.why or "")


def test_freshly_inflated_data_refer_a_first_application_as_packaged(tmp_path: Path) -> None:
    graph = HandGraph(MONTH)
    graph.enterprise(NEWCOMER, inflation_score=0.85, packaging_score=0.0)
    graph.enterprise(GENUINE, inflation_score=0.5, packaging_score=0.0)
    index = GraphIndex.load(graph.write(tmp_path), GRAPH_KEY)
    check = index.check(Applicant(NEWCOMER, ID_B, "13900000009"), TODAY)
    assert check.facts.inflation_score == 0.85
    assert check.evidence["inflation_score"] == 0.85
    assert [r.code for r in screen_graph(check.facts)] == ["AF11_PACKAGED_APPLICATION"]
    # A seasonal upswing alone (one part of three) stays under the policy.
    genuine = index.check(Applicant(GENUINE, ID_A, "13900000008"), TODAY)
    assert screen_graph(genuine.facts) == ()
    assert screen_graph(check.facts, GraphPolicy(min_inflation_score=0.9)) == ()
