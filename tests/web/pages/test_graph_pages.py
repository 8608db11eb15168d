"""The console's application page draws the enterprise's relationship graph and its evidence."""

from __future__ import annotations

import sys
import threading
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from api_support import Api
from origination_fakes import OWNER_ID, PHONE, USCC_A

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent.parent / "graph"))

from console_support import staff
from neighbourhood_support import CLEAR_PHONE, RING_SENTENCE, snapshot_frames, write_test_snapshot

from puhui.graph.loaded import LoadedSnapshot, SnapshotCache, load_snapshot
from puhui.graph.neighbourhood import EVIDENCE_TEMPLATES, neighbourhood
from puhui.graph.snapshot import read_report, write_snapshot
from puhui.services.security.permissions import Role
from puhui.web.pages.graph_section import EVIDENCE_MESSAGES
from puhui.web.pages.graph_svg import neighbourhood_svg

BODY = {"uscc": USCC_A, "id_number": OWNER_ID, "phone": PHONE, "requested_amount_fen": 20_000_000}


@pytest.fixture
def application(api: Api, tmp_path: Path) -> str:
    folder = write_test_snapshot(tmp_path / "2026-03")
    app = api.client.app  # type: ignore[attr-defined]
    app.state.deps = replace(api.deps, graph_folder=lambda: folder)
    app.state.graph_snapshots.get(folder)  # loaded, as after a server's warm-up
    owner = api.applicant_headers()
    created = api.client.post("/api/v1/applications", json=BODY, headers=owner)
    assert created.status_code == 201, created.text
    return str(created.json()["application_id"])


def test_the_application_page_draws_the_graph_and_lists_its_evidence_in_chinese(
    api: Api, application: str
) -> None:
    client = staff(api, "approver1", Role.APPROVER)
    page = client.get(f"/console/applications/{application}")
    assert page.status_code == 200, page.text
    html = page.text
    assert '<h2 id="h-graph">关系图谱</h2>' in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert 'aria-labelledby="neighbourhood-title neighbourhood-desc"' in html
    assert '<title id="neighbourhood-title">企业0Y43 的关系图谱</title>' in html
    assert "2026-03 图谱" in html
    assert "属于团伙 R1，共 3 家企业（团伙评分 0.80）。" in html
    assert "相互担保 900,000.00 元" in html
    assert "近 12 个月销售额中有 50% 经循环开票回流。" in html
    # The build's own sentence is shown as written, marked as English, its phone masked.
    masked = RING_SENTENCE.replace(CLEAR_PHONE, CLEAR_PHONE[:3] + "****" + CLEAR_PHONE[-4:])
    assert f'<li lang="en">{masked}</li>' in html
    assert CLEAR_PHONE not in html
    # The page keeps its policy: the picture carries no inline style.
    assert "style=" not in html
    assert "style-src 'self'" in page.headers["content-security-policy"]


def test_the_graph_section_reads_in_english(api: Api, application: str) -> None:
    client = staff(api, "risk1", Role.RISK_OFFICER)
    html = client.get(f"/console/applications/{application}?lang=en").text
    assert '<h2 id="h-graph">Relationship graph</h2>' in html
    assert "What the graph found" in html
    assert "Member of ring R1 with 3 enterprises (score 0.80)." in html
    assert "guarantee 900,000.00 yuan for one another" in html
    assert "Invoices (seller to buyer, 12 months)" in html
    assert "关系图谱" not in html


def test_without_a_graph_the_page_has_no_graph_section(api: Api) -> None:
    owner = api.applicant_headers()
    created = api.client.post("/api/v1/applications", json=BODY, headers=owner)
    app_id = created.json()["application_id"]
    client = staff(api, "approver1", Role.APPROVER)
    page = client.get(f"/console/applications/{app_id}")
    assert page.status_code == 200
    assert 'id="h-graph"' not in page.text
    assert "<svg" not in page.text


def test_while_the_graph_loads_the_page_says_so_at_once(api: Api, tmp_path: Path) -> None:
    folder = write_test_snapshot(tmp_path / "2026-03")
    gate = threading.Event()

    def held(path: Path) -> LoadedSnapshot:
        gate.wait(timeout=60)
        return load_snapshot(path)

    app = api.client.app  # type: ignore[attr-defined]
    app.state.graph_snapshots = SnapshotCache(loader=held)
    app.state.deps = replace(api.deps, graph_folder=lambda: folder)
    created = api.client.post("/api/v1/applications", json=BODY, headers=api.applicant_headers())
    app_id = created.json()["application_id"]
    client = staff(api, "approver1", Role.APPROVER)
    page = client.get(f"/console/applications/{app_id}")
    assert page.status_code == 200
    assert '<h2 id="h-graph">关系图谱</h2>' in page.text
    assert "关系图谱正在加载" in page.text
    assert "<svg" not in page.text
    english = client.get(f"/console/applications/{app_id}?lang=en").text
    assert "The relationship graph is loading" in english
    gate.set()
    app.state.graph_snapshots.get(folder)
    loaded = client.get(f"/console/applications/{app_id}").text
    assert "is loading" not in loaded
    assert "The graph of 2026-03" in loaded  # the page stays in the language chosen above
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in loaded


def test_the_pages_translate_exactly_the_graph_s_evidence_sentences() -> None:
    assert EVIDENCE_MESSAGES == EVIDENCE_TEMPLATES


def test_labels_are_escaped_and_a_lone_enterprise_still_draws(tmp_path: Path) -> None:
    frames = snapshot_frames()
    hostile = '<script>alert("x")</script>'
    frames["nodes"] = frames["nodes"].with_columns(
        label=pl.when(pl.col("node") == f"E:{USCC_A}")
        .then(pl.lit(hostile))
        .otherwise(pl.col("label"))
    )
    folder = tmp_path / "2026-03"
    write_snapshot(folder, read_report(write_test_snapshot(tmp_path / "first")), frames)
    hood = neighbourhood(load_snapshot(folder), USCC_A)
    assert hood is not None
    svg = neighbourhood_svg(hood, "en")
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    ET.fromstring(svg)
    # An enterprise the facts know but nothing ties: the picture is the enterprise alone.
    alone = snapshot_frames(centre="91110000000000002X")
    alone["edges"] = alone["edges"].filter(
        (pl.col("src") != "E:91110000000000002X") & (pl.col("dst") != "E:91110000000000002X")
    )
    lone_folder = tmp_path / "lone"
    write_snapshot(lone_folder, read_report(folder), alone)
    lone = neighbourhood(load_snapshot(lone_folder), "91110000000000002X")
    assert lone is not None
    assert [n.depth for n in lone.nodes] == [0]
    root = ET.fromstring(neighbourhood_svg(lone, "zh-CN"))
    groups = root.iter("{http://www.w3.org/2000/svg}g")
    drawn = [g.get("class") for g in groups if "node" in (g.get("class") or "").split()]
    assert drawn == ["node node-enterprise flag-ring flag-circle flag-round_trip centre"]
