"""Repayment reconciliation over HTTP, on SQLite and PostgreSQL: an owner's repayment posted
with its order id as the key, the day closed, the channel's file compared (还款对账)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import Api, build_servicing_api
from sqlalchemy import Engine
from test_servicing_api import draw, open_line

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.domain.clock import FixedClock
from puhui.pipelines.eod import run_end_of_day
from puhui.services.security.permissions import Role


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[Api, Engine]]:
    api, engine = build_servicing_api(database_url, clock, tmp_path / "models")
    try:
        yield api, engine  # type: ignore[misc]
    finally:
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def test_a_closed_days_repayments_are_reconciled_with_the_channels_file(
    world: tuple[Api, Engine], clock: FixedClock
) -> None:
    api, engine = world
    line_id, owner = open_line(api)
    receipt = draw(api, line_id, owner, "draw-1", 5_000_000).json()["receipt_id"]
    for order, fen in (("ORD-1", 1_000_000), ("ORD-2", 250_050)):
        paid = api.client.post(
            f"/api/v1/receipts/{receipt}/repayments",
            json={"amount_fen": fen},
            headers={**owner, "Idempotency-Key": order},
        )
        assert paid.status_code == 201, paid.text
    today = clock.today().isoformat()
    ops = api.staff_headers(Role.OPERATIONS)
    body = {
        "value_date": today,
        "file": "order_id,loan_id,amount,value_date,channel_ref\n"
        f"ORD-1,{receipt},10000.00,{today},CH-1\n"
        f"ORD-3,{receipt},12.00,{today},CH-3\n",
    }
    still_open = api.client.post("/api/v1/repayment-reconciliations", json=body, headers=ops)
    assert still_open.status_code == 409, still_open.text
    assert still_open.json()["code"] == "day_not_closed"

    run_end_of_day(SqlEndOfDayStore(engine, clock=clock), clock.today())
    found = api.client.post("/api/v1/repayment-reconciliations", json=body, headers=ops)
    assert found.status_code == 200, found.text
    document = found.json()
    assert document["agrees"] is False
    assert (document["matched"], document["matched_fen"]) == (1, 1_000_000)
    assert document["ours"] == {"count": 2, "amount_fen": 1_250_050}
    assert document["theirs"] == {"count": 2, "amount_fen": 1_001_200}
    assert [
        (b["order_id"], b["kind"], b["ours_fen"], b["theirs_fen"], b["channel_ref"])
        for b in document["breaks"]
    ] == [
        ("ORD-2", "not_collected", 250_050, None, None),
        ("ORD-3", "not_posted", None, 1_200, "CH-3"),
    ]

    bad = api.client.post(
        "/api/v1/repayment-reconciliations",
        json={**body, "file": body["file"] + f"ORD-1,{receipt},1.00,{today},\n"},
        headers=ops,
    )
    assert bad.status_code == 422
    assert "line 4: order ORD-1 appears twice" in bad.json()["message"]
    wrong_date = api.client.post(
        "/api/v1/repayment-reconciliations",
        json={**body, "value_date": "2026-02-30"},
        headers=ops,
    )
    assert wrong_date.status_code == 422
    unknown_field = api.client.post(
        "/api/v1/repayment-reconciliations", json={**body, "extra": 1}, headers=ops
    )
    assert unknown_field.status_code == 422

    # The run was recorded; the refused ones were not.
    assert document["run_id"].startswith("rcn_")
    assert document["breaks_count"] == 2
    assert document["file_sha256"] == hashlib.sha256(body["file"].encode()).hexdigest()
    assert document["file_name"] is None
    assert document["reconciled_by"].startswith("usr_")
    agreeing = {
        "value_date": today,
        "file": "order_id,loan_id,amount,value_date\n"
        f"ORD-1,{receipt},10000.00,{today}\nORD-2,{receipt},2500.50,{today}\n",
        "file_name": "channel-day.csv",
    }
    agreed = api.client.post("/api/v1/repayment-reconciliations", json=agreeing, headers=ops)
    assert agreed.status_code == 200, agreed.text
    assert (agreed.json()["agrees"], agreed.json()["file_name"]) == (True, "channel-day.csv")
    auditor = api.staff_headers(Role.AUDITOR)
    listed = api.client.get("/api/v1/repayment-reconciliations", headers=auditor)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [(i["run_id"], i["agrees"], i["breaks_count"]) for i in items] == [
        (agreed.json()["run_id"], True, 0),
        (document["run_id"], False, 2),
    ]
    assert "breaks" not in items[0]
    paged = api.client.get(
        "/api/v1/repayment-reconciliations",
        params={"value_date": today, "limit": 1, "offset": 1},
        headers=auditor,
    )
    assert [i["run_id"] for i in paged.json()["items"]] == [document["run_id"]]
    other_day = api.client.get(
        "/api/v1/repayment-reconciliations", params={"value_date": "2020-01-01"}, headers=ops
    )
    assert other_day.json()["items"] == []
    one = api.client.get(f"/api/v1/repayment-reconciliations/{document['run_id']}", headers=ops)
    assert one.status_code == 200
    assert one.json() == document
    missing = api.client.get(
        "/api/v1/repayment-reconciliations/rcn_01M97GEBT7CCJTMT31HSJDFZQ4", headers=ops
    )
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    not_an_id = api.client.get("/api/v1/repayment-reconciliations/rcn_x", headers=ops)
    assert (not_an_id.status_code, not_an_id.json()["code"]) == (422, "invalid_identifier")
    too_many = api.client.get(
        "/api/v1/repayment-reconciliations", params={"limit": 101}, headers=ops
    )
    assert too_many.status_code == 422
