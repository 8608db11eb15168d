"""``GET /api/v1/prosperity``: the built indices as JSON for those who read reports; suppressed
cell-months are null; nothing built, an unknown cell or dimension are named 4xx."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from api_support import Api, build_api
from fastapi.testclient import TestClient

from puhui.domain.clock import FixedClock
from puhui.pipelines.prosperity.build import ProsperityIndex, write_index
from puhui.pipelines.prosperity.serving import IndustryIndexFile
from puhui.services.security.permissions import Role
from puhui.web.app import create_app

MONTHS = [date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)]


@pytest.fixture
def prosperity_api(
    sqlite_url: str, clock: FixedClock, tmp_path: Path
) -> Iterator[tuple[Api, Path]]:
    built, engine = build_api(sqlite_url, clock)
    folder = tmp_path / "prosperity"
    deps = replace(built.deps, prosperity=IndustryIndexFile(folder, required=False))
    api = replace(built, client=TestClient(create_app(deps), raise_server_exceptions=False))
    try:
        yield api, folder
    finally:
        api.client.close()
        built.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def _build(folder: Path) -> None:
    rows = [
        ("industry", "manufacturing", [48.5, 44.25, 39.0], [40, 41, 40]),
        ("industry", "accommodation", [None, 55.0, None], [6, 10, 7]),
        ("region", "330100", [51.0, 52.0, 50.0], [20, 20, 21]),
    ]
    frame = pl.DataFrame(
        [
            {
                "dimension": dimension,
                "cell": cell,
                "month": month,
                "component": "composite",
                "enterprises": count,
                "index": value,
                "suppressed": value is None,
            }
            for dimension, cell, values, counts in rows
            for month, value, count in zip(MONTHS, values, counts, strict=True)
        ]
    )
    write_index(ProsperityIndex(frame, None, 10), folder)


def test_the_indices_are_read_by_report_readers_with_suppressed_months_null(
    prosperity_api: tuple[Api, Path],
) -> None:
    api, folder = prosperity_api
    headers = api.staff_headers(Role.RISK_OFFICER)
    before = api.client.get("/api/v1/prosperity", headers=headers)
    assert before.status_code == 404
    assert before.json()["code"] == "prosperity_not_built"
    _build(folder)
    response = api.client.get("/api/v1/prosperity", headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dimension"] == "industry"
    assert body["min_cell"] == 10
    assert body["cells"] == ["accommodation", "manufacturing"]
    series = {s["cell"]: s["points"] for s in body["series"]}
    assert [p["index"] for p in series["manufacturing"]] == [48.5, 44.25, 39.0]
    assert [p["index"] for p in series["accommodation"]] == [None, 55.0, None]
    assert [p["suppressed"] for p in series["accommodation"]] == [True, False, True]
    assert series["accommodation"][0] == {
        "month": "2025-01-01",
        "index": None,
        "enterprises": 6,
        "suppressed": True,
    }
    one = api.client.get(
        "/api/v1/prosperity", params={"dimension": "region", "cell": "330100"}, headers=headers
    )
    assert [s["cell"] for s in one.json()["series"]] == ["330100"]


def test_bad_requests_and_callers_are_refused_by_name(prosperity_api: tuple[Api, Path]) -> None:
    api, folder = prosperity_api
    _build(folder)
    reader = api.staff_headers(Role.AUDITOR)
    unknown = api.client.get(
        "/api/v1/prosperity", params={"dimension": "region", "cell": "999999"}, headers=reader
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "prosperity_cell_not_found"
    assert "330100" in unknown.json()["message"]
    dimension = api.client.get("/api/v1/prosperity", params={"dimension": "park"}, headers=reader)
    assert dimension.status_code == 422
    assert api.client.get("/api/v1/prosperity").status_code == 401
    approver = api.staff_headers(Role.APPROVER)
    assert api.client.get("/api/v1/prosperity", headers=approver).status_code == 403
