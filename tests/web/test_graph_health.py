"""``/api/v1/health`` says whether the relationship graph serves: ok, stale or missing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from api_support import Api
from graph_snapshots import GRAPH_KEY, HandGraph

from puhui.graph.live import GraphSource


def test_health_reports_a_fresh_then_a_stale_graph(api: Api, tmp_path: Path) -> None:
    HandGraph(date(2026, 2, 1)).enterprise("91110000GENUINE01X").write(tmp_path)
    api.deps.origination.graph = GraphSource(
        tmp_path, key=GRAPH_KEY, max_age_days=45, background=False
    )
    answer = api.client.get("/api/v1/health").json()
    assert answer == {"status": "ok", "graph": {"status": "ok", "as_of": "2026-02-01", "why": None}}
    api.deps.origination.graph = GraphSource(
        tmp_path, key=GRAPH_KEY, max_age_days=0, background=False
    )
    graph = api.client.get("/api/v1/health").json()["graph"]
    assert (graph["status"], graph["as_of"]) == ("stale", "2026-02-01")
    assert "2026-02-28" in graph["why"]
