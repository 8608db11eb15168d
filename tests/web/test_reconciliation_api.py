"""Repayment reconciliation over HTTP, on SQLite and PostgreSQL: an owner's repayment posted
with its order id as the key, the day closed, the channel's file compared (还款对账)."""

from __future__ import annotations

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
