"""The online check and the graph-identifier key: found with the right key, refused with
another (a snapshot hashed under another key would silently never match)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from graph_snapshots import GRAPH_KEY, HandGraph

from puhui.domain.origination.application import Applicant
from puhui.graph.live import GraphSource
from puhui.graph.online import GraphIndex
from puhui.graph.snapshot import GraphKeyError, key_id

MONTH = date(2026, 3, 1)
TODAY = date(2026, 4, 10)
SHARING = ("91110000SHARE0001A", "91110000SHARE0002B")
APPLICANT = "91110000APPLICANT1"
PHONE = "13800000077"
OTHER_KEY = b"another-deployment-graph-key-000001"


def phone_graph(graph_dir: Path) -> Path:
    graph = HandGraph(MONTH)
    for uscc in SHARING:
        graph.enterprise(uscc, shared_contact_count=1, applications_30d=1)
        graph.identifier(uscc, "phone", PHONE, source="registry")
    return graph.write(graph_dir)


def test_the_applicants_phone_is_found_under_the_right_key(tmp_path: Path) -> None:
    index = GraphIndex.load(phone_graph(tmp_path), GRAPH_KEY)
    same_phone = Applicant(APPLICANT, "110101199001011234", PHONE)
    other_phone = Applicant(APPLICANT, "110101199001011234", "13900000001")
    assert index.check(same_phone, TODAY).inputs["shared_contact_count"] == 2
    assert index.check(other_phone, TODAY).inputs["shared_contact_count"] == 0
    assert GRAPH_KEY.decode() not in repr(index)  # the key stays out of logs and tracebacks


def test_a_snapshot_of_another_key_is_refused_with_the_reason(tmp_path: Path) -> None:
    folder = phone_graph(tmp_path / "graph")
    with pytest.raises(GraphKeyError, match=f"graph key {key_id(GRAPH_KEY)}"):
        GraphIndex.load(folder, OTHER_KEY)
    live = GraphSource(tmp_path / "graph", key=OTHER_KEY, background=False).current(TODAY)
    assert live.index is None
    assert live.health.status == "missing"
    why = live.health.why or ""
    assert "hashed under another graph key" in why
    assert key_id(GRAPH_KEY) not in why  # the unauthenticated health names no key
    served = GraphSource(tmp_path / "graph", key=GRAPH_KEY, background=False).current(TODAY)
    assert served.health.status == "ok"
