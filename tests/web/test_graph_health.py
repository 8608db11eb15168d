"""``/api/v1/health`` says whether the relationship graph serves: ok, stale or missing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from api_support import Api
from graph_snapshots import GRAPH_KEY, HandGraph

from puhui.domain.clock import FixedClock
from puhui.graph.live import GraphSource


def test_health_reports_a_fresh_then_a_stale_graph(
    api: Api, clock: FixedClock, tmp_path: Path
) -> None:
    """Health reports what was loaded (at start, by ``warm_up``); it never loads itself."""
    HandGraph(date(2026, 1, 1)).enterprise("91110000GENUINE01X").write(tmp_path)
    fresh = GraphSource(tmp_path, key=GRAPH_KEY, max_age_days=45, background=False)
    api.deps.origination.graph = fresh
    assert api.client.get("/api/v1/health").json()["graph"]["status"] == "missing"
    fresh.warm_up(clock.today())
    answer = api.client.get("/api/v1/health").json()
    assert answer == {"status": "ok", "graph": {"status": "ok", "as_of": "2026-01-01", "why": None}}
    stale = GraphSource(tmp_path, key=GRAPH_KEY, max_age_days=0, background=False)
    stale.warm_up(clock.today())
    api.deps.origination.graph = stale
    graph = api.client.get("/api/v1/health").json()["graph"]
    assert (graph["status"], graph["as_of"]) == ("stale", "2026-01-01")
    assert "2026-01-31" in graph["why"]
