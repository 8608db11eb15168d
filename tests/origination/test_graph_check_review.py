"""The online graph check's answers the review of issue #15 found wrong: hubs, loose
identifiers, rings through the same person, bad USCCs, stale velocity, the exact graph."""

from __future__ import annotations

import hashlib
import logging
from datetime import date, timedelta
from pathlib import Path

import pytest
from graph_snapshots import GRAPH_KEY, HandGraph
from test_graph_check import ID_A, ID_B, MONTH, NEWCOMER, RING, TODAY, codes, ringed_graph

from puhui.domain.origination.application import Applicant
from puhui.graph.online import GraphIndex, RecentTie

HUB_SIZE = 25  # graph.rings.HUB_LIMIT
ADDRESS = "上海市浦东新区世纪大道100号"


def _others(n: int, prefix: str = "ADDR") -> list[str]:
    """``n`` distinct USCCs (18 characters) starting with ``prefix``."""
    return [f"9111{prefix:0<5}{i:08d}X" for i in range(n)]


def test_an_address_shared_by_a_hub_of_enterprises_is_no_shared_contact(tmp_path: Path) -> None:
    graph = HandGraph(MONTH)
    crowd = _others(HUB_SIZE + 1)
    for uscc in crowd:
        graph.enterprise(uscc).identifier(uscc, "address", ADDRESS, source="registry")
    small = _others(3, "DEVC")
    for uscc in small:
        graph.enterprise(uscc).identifier(uscc, "device", "DV-SHARED", source="registry")
    index = GraphIndex.load(graph.write(tmp_path), GRAPH_KEY)
    on_hub = Applicant(NEWCOMER, ID_B, "13900000009", address=ADDRESS)
    check = index.check(on_hub, TODAY)
    assert check.inputs["shared_contact_count"] == 0
    assert check.evidence["ties"][0]["hub"] is True
    both = Applicant(NEWCOMER, ID_B, "13900000009", device_id="DV-SHARED", address=ADDRESS)
    assert index.check(both, TODAY).inputs["shared_contact_count"] == 3


def test_a_hub_counted_with_the_applications_since_the_snapshot(tmp_path: Path) -> None:
    graph = HandGraph(MONTH)
    crowd = _others(HUB_SIZE - 1)
    for uscc in crowd:
        graph.enterprise(uscc).identifier(uscc, "device", "DV-AGENT")
    index = GraphIndex.load(graph.write(tmp_path), GRAPH_KEY)
    app = Applicant(NEWCOMER, ID_B, "13900000009", device_id="DV-AGENT")
    assert index.check(app, TODAY).inputs["packaging_enterprises"] == HUB_SIZE - 1
    recent = [RecentTie("device", u, False, TODAY) for u in _others(2, "NEWA")]
    check = index.check(app, TODAY, recent)
    assert check.inputs["packaging_enterprises"] == 0
    assert check.inputs["shared_contact_count"] == 0


def test_ip_and_address_ties_count_for_packaging_within_thirty_days_only(
    tmp_path: Path,
) -> None:
    index = GraphIndex.load(ringed_graph().write(tmp_path), GRAPH_KEY)
    app = Applicant(NEWCOMER, ID_B, "13900000009", device_id="DV-NEW", ip_address="10.1.2.3")
    weeks_ago = TODAY - timedelta(days=40)
    by_ip = [RecentTie("ip", u, False, weeks_ago) for u in _others(2, "IPAD")]
    assert index.check(app, TODAY, by_ip).inputs["packaging_enterprises"] == 0
    by_ip_now = [RecentTie("ip", u, False, TODAY - timedelta(days=20)) for u in _others(2)]
    assert index.check(app, TODAY, by_ip_now).inputs["packaging_enterprises"] == 2
    by_device = [RecentTie("device", u, False, weeks_ago) for u in _others(2, "DVCE")]
    assert index.check(app, TODAY, by_device).inputs["packaging_enterprises"] == 2


def test_ip_edges_of_the_snapshot_older_than_thirty_days_are_no_packaging(
    tmp_path: Path,
) -> None:
    graph = HandGraph(MONTH)
    for uscc in _others(2, "IPOLD"):
        graph.enterprise(uscc).identifier(uscc, "ip", "10.9.9.9", month=date(2026, 1, 1))
    for uscc in _others(2, "IPNEW"):
        graph.enterprise(uscc).identifier(uscc, "ip", "10.8.8.8", month=MONTH)
    index = GraphIndex.load(graph.write(tmp_path), GRAPH_KEY)
    old = Applicant(NEWCOMER, ID_B, "13900000009", ip_address="10.9.9.9")
    assert index.check(old, TODAY).inputs["packaging_enterprises"] == 0
    new = Applicant(NEWCOMER, ID_B, "13900000009", ip_address="10.8.8.8")
    assert index.check(new, TODAY).inputs["packaging_enterprises"] == 2


def test_a_ring_members_legal_rep_applying_for_a_new_shell_is_tied_to_the_ring(
    tmp_path: Path,
) -> None:
    graph = ringed_graph()
    graph.identifier(RING[0], "person", ID_B, source="registry")
    index = GraphIndex.load(graph.write(tmp_path), GRAPH_KEY)
    shell = Applicant(NEWCOMER, ID_B, "13900000077")
    assert codes(index, shell, []) == ["AF10_FRAUD_RING"]
    check = index.check(shell, TODAY)
    assert check.evidence["tied_rings"] == [{"ring_id": "R1", "score": 0.9, "via": "person"}]
    assert check.inputs["packaging_enterprises"] == 0  # related: not a stranger


def test_facts_rows_with_a_null_or_non_ascii_uscc_are_dropped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    graph = ringed_graph()
    graph.enterprise(None, contagion_score=0.99)  # type: ignore[arg-type]
    graph.enterprise("91110000统一代码00001", contagion_score=0.99)
    with caplog.at_level(logging.WARNING, logger="puhui.graph.online"):
        index = GraphIndex.load(graph.write(tmp_path), GRAPH_KEY)
    assert "2 facts rows without a valid USCC dropped" in caplog.text
    assert index.uscc.tolist() == sorted(index.uscc.tolist())
    assert index.row_of(RING[0]) is not None
    member = Applicant(RING[1], ID_A, "13900000008")
    assert codes(index, member, []) == ["AF10_FRAUD_RING"]


def test_the_snapshots_stale_application_count_is_not_passed_on(tmp_path: Path) -> None:
    graph = HandGraph(MONTH).enterprise(NEWCOMER, applications_30d=7)
    index = GraphIndex.load(graph.write(tmp_path), GRAPH_KEY)
    check = index.check(Applicant(NEWCOMER, ID_A, "13900000008"), TODAY)
    assert "applications_30d" not in check.inputs


def test_the_trace_names_the_exact_graph(tmp_path: Path) -> None:
    folder = ringed_graph().write(tmp_path)
    index = GraphIndex.load(folder, GRAPH_KEY)
    evidence = index.check(Applicant(NEWCOMER, ID_A, "13900000008"), TODAY).evidence
    digest = hashlib.sha256((folder / "report.json").read_bytes()).hexdigest()[:16]
    assert evidence["report_sha256"] == digest
    assert evidence["built_at"] == index.report.built_at.isoformat()
