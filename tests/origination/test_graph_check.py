"""The online graph check on hand-made snapshots: reasons, incremental ties, freshness."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from graph_snapshots import HandGraph

from puhui.domain.origination.fraud import GraphPolicy, screen_graph
from puhui.graph.online import (
    ApplicationIdentifiers,
    GraphIndex,
    RecentTie,
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


def codes(index: GraphIndex, app: ApplicationIdentifiers, recent: list[RecentTie]) -> list[str]:
    check = index.check(app, TODAY, recent)
    return [r.code for r in screen_graph(check.facts, GraphPolicy())]


def test_ring_member_and_newcomer_on_ring_device_are_knocked_out(tmp_path: Path) -> None:
    index = GraphIndex.load(ringed_graph().write(tmp_path))
    member = ApplicationIdentifiers(RING[0], ID_B, "13900000009", device_id="DV-OWN")
    assert codes(index, member, []) == ["AF10_FRAUD_RING"]
    newcomer = ApplicationIdentifiers(NEWCOMER, ID_B, "13900000009", device_id="DV-RING-1")
    check = index.check(newcomer, TODAY, [])
    assert check.facts.tied_rings == ("R1",)
    assert check.inputs["graph_ring_score"] == 0.9
    assert check.evidence["tied_rings"] == [{"ring_id": "R1", "score": 0.9, "via": "device"}]
    assert "DV-RING-1" not in str(check.evidence)
    genuine = ApplicationIdentifiers(GENUINE, ID_A, "13900000008", device_id="DV-GENUINE")
    assert codes(index, genuine, []) == []
    assert index.check(genuine, TODAY, []).inputs["graph_ring_score"] == 0.0
