"""The application detail's relationship graph over HTTP: the JSON field and the SVG picture."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from api_support import Api
from origination_fakes import OWNER_ID, PHONE, USCC_A, USCC_B

sys.path.insert(0, str(Path(__file__).parent.parent / "graph"))

from neighbourhood_support import (
    CENTRE,
    CLEAR_PHONE,
    PHONE_NODE,
    snapshot_frames,
    write_test_snapshot,
)

from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.graph.loaded import LoadedSnapshot, SnapshotCache, load_snapshot
from puhui.graph.snapshot import SnapshotError, read_report, write_snapshot
from puhui.services.origination import use_cases as uc
from puhui.services.security.permissions import Principal, Role
from puhui.web.neighbourhoods import application_graph

BODY = {"uscc": USCC_A, "id_number": OWNER_ID, "phone": PHONE, "requested_amount_fen": 20_000_000}
SVG = "{http://www.w3.org/2000/svg}"


def _with_graph(api: Api, folder: Path | None) -> None:
    """The graph configured and its snapshot loaded, as a server has it after its warm-up."""
    app = api.client.app  # type: ignore[attr-defined]
    app.state.deps = replace(api.deps, graph_folder=lambda: folder)
    if folder is not None:
        with contextlib.suppress(SnapshotError):
            app.state.graph_snapshots.get(folder)


def _detail(api: Api, app_id: str, staff: dict[str, str]) -> dict[str, Any]:
    found = api.client.get(f"/api/v1/applications/{app_id}", headers=staff)
    assert found.status_code == 200, found.text
    return dict(found.json())


def _application(api: Api, body: dict[str, object] = BODY) -> str:
    owner = api.applicant_headers()
    created = api.client.post("/api/v1/applications", json=body, headers=owner)
    assert created.status_code == 201, created.text
    return str(created.json()["application_id"])


@pytest.fixture
def graph(tmp_path: Path) -> Path:
    assert CENTRE == USCC_A  # the snapshot is drawn around the test applicant's enterprise
    return write_test_snapshot(tmp_path / "2026-03")


def test_staff_read_the_enterprise_s_neighbourhood_with_the_application(
    api: Api, graph: Path
) -> None:
    _with_graph(api, graph)
    app_id = _application(api)
    detail = api.client.get(
        f"/api/v1/applications/{app_id}", headers=api.staff_headers(Role.APPROVER)
    )
    assert detail.status_code == 200, detail.text
    hood = detail.json()["neighbourhood"]
    assert detail.json()["neighbourhood_status"] == "shown"
    assert hood["as_of"] == "2026-03-01"
    assert hood["centre"] == f"E:{USCC_A}"
    assert hood["nodes"][0] == {
        "node": f"E:{USCC_A}",
        "kind": "enterprise",
        "label": "企业0Y43",
        "depth": 0,
        "flags": ["ring", "circle", "round_trip"],
        "degree": 8,
        "parent": None,
    }
    phone = next(n for n in hood["nodes"] if n["node"] == PHONE_NODE)
    assert phone["label"] == "138****0001"
    assert CLEAR_PHONE not in detail.text
    invoice = next(
        e for e in hood["edges"] if e["kind"] == "invoice" and e["src"] == hood["centre"]
    )
    assert invoice["amount_fen"] == 12_000_000
    assert [e["code"] for e in hood["evidence"]][:3] == ["ring", "ring_finding", "circle"]
    # The other fields are as they were.
    assert detail.json()["uscc"] == USCC_A
    assert detail.json()["phone_masked"] == "138****5678"


def test_owners_and_partners_never_see_the_graph(api: Api, graph: Path) -> None:
    _with_graph(api, graph)
    app_id = _application(api)
    owner = api.applicant_headers()
    detail = api.client.get(f"/api/v1/applications/{app_id}", headers=owner)
    assert detail.status_code == 200
    assert detail.json()["neighbourhood"] is None
    picture = api.client.get(f"/api/v1/applications/{app_id}/neighbourhood.svg", headers=owner)
    assert picture.status_code == 403
    assert picture.json()["code"] == "forbidden"

    partner = api.partner_headers()
    created = api.client.post(
        "/api/v1/applications", json={**BODY, "uscc": USCC_B}, headers=partner
    )
    assert created.status_code == 201, created.text
    mine = created.json()["application_id"]
    assert (
        api.client.get(f"/api/v1/applications/{mine}", headers=partner).json()["neighbourhood"]
        is None
    )
    refused = api.client.get(f"/api/v1/applications/{mine}/neighbourhood.svg", headers=partner)
    assert refused.status_code == 403


def test_another_applicant_gets_the_picture_as_the_detail_nothing(api: Api, graph: Path) -> None:
    _with_graph(api, graph)
    app_id = _application(api)
    stranger = api.applicant_headers("13900000000")
    detail = api.client.get(f"/api/v1/applications/{app_id}", headers=stranger)
    picture = api.client.get(f"/api/v1/applications/{app_id}/neighbourhood.svg", headers=stranger)
    assert detail.status_code in (403, 404)
    assert picture.status_code == detail.status_code
    assert "svg" not in picture.text
    assert api.client.get(f"/api/v1/applications/{app_id}/neighbourhood.svg").status_code == 401


def test_the_picture_is_an_svg_document_with_a_title_a_legend_and_no_inline_style(
    api: Api, graph: Path
) -> None:
    _with_graph(api, graph)
    app_id = _application(api)
    staff = api.staff_headers(Role.RISK_OFFICER)
    picture = api.client.get(f"/api/v1/applications/{app_id}/neighbourhood.svg", headers=staff)
    assert picture.status_code == 200, picture.text
    assert picture.headers["content-type"] == "image/svg+xml"
    assert picture.headers["cache-control"] == "private, no-store"
    assert "style=" not in picture.text
    assert "<style" not in picture.text
    assert "<script" not in picture.text
    root = ET.fromstring(picture.text)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.findtext(f"{SVG}title") == "企业0Y43 的关系图谱"
    assert "企业" in (root.findtext(f"{SVG}desc") or "")
    legend = root.find(f"{SVG}g[@class='legend']")
    assert legend is not None
    legend_texts = [t.text for t in legend.iter(f"{SVG}text")]
    assert "团伙成员" in legend_texts
    assert "手机号" in legend_texts
    assert CLEAR_PHONE not in picture.text
    assert "138****0001" in picture.text

    english = api.client.get(
        f"/api/v1/applications/{app_id}/neighbourhood.svg?lang=en&depth=1", headers=staff
    )
    assert english.status_code == 200
    root = ET.fromstring(english.text)
    assert root.findtext(f"{SVG}title") == "Relationship graph of 企业0Y43"
    assert "In a ring" in english.text
    # One tie out: the ring partners two ties away are not drawn.
    assert "企业0011" not in english.text
    by_header = api.client.get(
        f"/api/v1/applications/{app_id}/neighbourhood.svg",
        headers={**staff, "Accept-Language": "en-GB,en;q=0.9"},
    )
    assert "In a ring" in by_header.text
    too_deep = api.client.get(
        f"/api/v1/applications/{app_id}/neighbourhood.svg?depth=3", headers=staff
    )
    assert too_deep.status_code == 422


def test_without_a_graph_or_outside_it_there_is_no_neighbourhood(
    api: Api, graph: Path, tmp_path: Path
) -> None:
    app_id = _application(api)
    staff = api.staff_headers(Role.APPROVER)
    # No graph configured (the default).
    detail = _detail(api, app_id, staff)
    assert detail["neighbourhood"] is None
    assert detail["neighbourhood_status"] == "unavailable"
    picture = api.client.get(f"/api/v1/applications/{app_id}/neighbourhood.svg", headers=staff)
    assert picture.status_code == 404
    # Configured, but no month built yet.
    _with_graph(api, None)
    assert _detail(api, app_id, staff)["neighbourhood_status"] == "unavailable"
    # A graph that does not hold the enterprise.
    other = write_test_snapshot(tmp_path / "other" / "2026-03", centre="91110000000000001X")
    _with_graph(api, other)
    detail = _detail(api, app_id, staff)
    assert detail["neighbourhood"] is None
    assert detail["neighbourhood_status"] == "not_in_graph"
    # A broken snapshot shows as none, the application still reads.
    (graph / "edges.parquet").write_bytes(b"not parquet")
    stamp = (graph / "report.json").stat().st_mtime + 5  # built again, in case the clock is coarse
    os.utime(graph / "report.json", (stamp, stamp))
    _with_graph(api, graph)
    detail = _detail(api, app_id, staff)
    assert detail["neighbourhood"] is None
    assert detail["neighbourhood_status"] == "unavailable"


def test_while_the_snapshot_loads_the_detail_comes_back_at_once_saying_so(
    api: Api, graph: Path
) -> None:
    gate = threading.Event()

    def held(folder: Path) -> LoadedSnapshot:
        gate.wait(timeout=60)
        return load_snapshot(folder)

    cache = SnapshotCache(loader=held)
    app = api.client.app  # type: ignore[attr-defined]
    app.state.graph_snapshots = cache
    app.state.deps = replace(api.deps, graph_folder=lambda: graph)
    app_id = _application(api)
    staff = api.staff_headers(Role.APPROVER)
    detail = _detail(api, app_id, staff)
    assert detail["neighbourhood"] is None
    assert detail["neighbourhood_status"] == "loading"
    assert detail["status"]  # the application itself is all there
    picture = api.client.get(f"/api/v1/applications/{app_id}/neighbourhood.svg", headers=staff)
    assert picture.status_code == 503
    assert picture.json()["details"]["graph"] == "loading"
    gate.set()
    cache.get(graph)
    detail = _detail(api, app_id, staff)
    assert detail["neighbourhood_status"] == "shown"
    assert detail["neighbourhood"]["as_of"] == "2026-03-01"


def test_the_openapi_document_describes_the_field_and_the_picture(api: Api) -> None:
    doc = api.client.get("/api/v1/openapi.json").json()
    detail = doc["components"]["schemas"]["ApplicationDetailOut"]
    assert "neighbourhood" in detail["properties"]
    assert "neighbourhood" not in detail.get("required", [])
    picture = doc["paths"]["/api/v1/applications/{application_id}/neighbourhood.svg"]["get"]
    assert "image/svg+xml" in picture["responses"]["200"]["content"]


def test_the_snapshot_that_decided_the_application_is_the_one_shown(
    api: Api, graph: Path, tmp_path: Path
) -> None:
    # Two months in one graph folder: the decision was taken on February's, March is newest.
    february = tmp_path / "2026-02"
    report = read_report(graph)
    write_snapshot(february, replace(report, as_of=date(2026, 2, 1)), snapshot_frames())
    app = api.client.app  # type: ignore[attr-defined]
    _with_graph(api, graph)
    app.state.graph_snapshots.get(february)
    app_id = _application(api)
    approver = Principal(user_id="u-approver", role=Role.APPROVER)
    view = uc.get_application(api.deps.origination, actor=approver, application_id=app_id)

    def decided_on(trace: dict[str, Any]) -> uc.ApplicationView:
        decided = Assessment(Outcome.REFER, trace=trace)
        return replace(view, application=replace(view.application, assessment=decided))

    def as_of(shown: uc.ApplicationView) -> date:
        found = asyncio.run(application_graph(app, approver, shown))
        assert found is not None
        assert found.neighbourhood is not None
        return found.neighbourhood.as_of

    assert as_of(decided_on({"graph": {"status": "ok", "snapshot": "2026-02"}})) == date(2026, 2, 1)
    # Undecided, decided without a graph, or on a month no longer there: the newest.
    assert as_of(view) == date(2026, 3, 1)
    assert as_of(decided_on({"graph": {"status": "missing"}})) == date(2026, 3, 1)
    assert as_of(decided_on({"graph": {"snapshot": "2025-12"}})) == date(2026, 3, 1)
    # A trace is data, never a path to follow out of the graph folder.
    assert as_of(decided_on({"graph": {"snapshot": "../2026-02"}})) == date(2026, 3, 1)
