"""Collections, write-offs and concentration over HTTP, on a receipt the end of day made 90+
days past due: queue, claim, contact log, promise, four-eyes write-off posted to the ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import Api, build_servicing_api
from sqlalchemy import Engine
from test_api_flow import assert_error
from test_servicing_api import draw, open_line

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.domain.clock import FixedClock
from puhui.pipelines.eod import run_end_of_day
from puhui.services import concentration
from puhui.services.collections import cases
from puhui.services.security.permissions import Role


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[Api, Engine]]:
    api, engine = build_servicing_api(database_url, clock, tmp_path / "models")
    try:
        yield api, engine  # type: ignore[misc]
    finally:
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def _close_through(engine: Engine, clock: FixedClock, first: date, last: date) -> None:
    store = SqlEndOfDayStore(engine, clock=clock)
    day = first
    while day <= last:
        run_end_of_day(store, day)
        day += timedelta(days=1)


def _post(api: Api, path: str, headers: dict[str, str], key: str, body: Any = None) -> Any:
    return api.client.post(path, json=body, headers={**headers, "Idempotency-Key": key})


def test_a_receipt_90_days_past_due_is_worked_and_written_off_with_four_eyes(
    world: tuple[Api, Engine], clock: FixedClock
) -> None:
    api, engine = world
    post_loan = api.deps.post_loan
    assert post_loan is not None
    line_id, owner = open_line(api)
    drawn = draw(api, line_id, owner, "draw-1", 5_000_000)
    assert drawn.status_code == 201, drawn.text
    receipt_id = drawn.json()["receipt_id"]
    # Interest settles unpaid on 20 March: 91 days past due on 20 June.
    last = date(2026, 6, 20)
    _close_through(engine, clock, clock.today(), last)
    report = cases.refresh(post_loan.units, as_of=last, actor="system", clock=clock)
    assert report.opened == 1

    manager = api.staff_headers(Role.ACCOUNT_MANAGER, "am-li")
    risk = api.staff_headers(Role.RISK_OFFICER, "ro-zhang")
    auditor = api.staff_headers(Role.AUDITOR, "aud-wu")
    queue = api.client.get("/api/v1/collections?bucket=legal", headers=manager)
    assert queue.status_code == 200, queue.text
    (case,) = queue.json()["cases"]
    assert case["receipt_id"] == receipt_id
    assert case["days_past_due"] == 91
    assert queue.json()["next_cursor"] is None
    case_id = case["case_id"]

    claimed = api.client.post(f"/api/v1/collections/{case_id}/claim", headers=manager)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["assignee"].startswith("account_manager:")
    mine = api.client.get("/api/v1/collections?bucket=legal&mine=true", headers=manager)
    assert [c["case_id"] for c in mine.json()["cases"]] == [case_id]
    contact = _post(
        api,
        f"/api/v1/collections/{case_id}/contacts",
        manager,
        "c-1",
        {
            "channel": "visit",
            "result": "refused",
            "contacted_at": "2026-03-01T10:00:00+08:00",
            "note": "owner Wang refused at the shop",
        },
    )
    assert contact.status_code == 201, contact.text
    promised = _post(
        api,
        f"/api/v1/collections/{case_id}/promises",
        manager,
        "p-1",
        {"amount_fen": 1_000_000, "promised_on": "2026-06-30", "grace_days": 2},
    )
    assert promised.status_code == 201, promised.text
    assert promised.json()["status"] == "pending"
    bad = _post(
        api,
        f"/api/v1/collections/{case_id}/promises",
        manager,
        "p-2",
        {"amount_fen": "1000", "promised_on": "2026-06-30"},
    )
    assert_error(bad, 422)
    detail = api.client.get(f"/api/v1/collections/{case_id}", headers=auditor)
    assert detail.status_code == 200, detail.text
    assert detail.json()["contacts"][0]["note"] == "***"  # readers see notes masked
    assert len(detail.json()["promises"]) == 1

    proposed = _post(
        api, "/api/v1/write-offs", manager, "w-1", {"receipt_id": receipt_id, "reason": "absconded"}
    )
    assert proposed.status_code == 201, proposed.text
    proposal_id = proposed.json()["proposal_id"]
    assert proposed.json()["status"] == "proposed"
    assert_error(
        _post(api, f"/api/v1/write-offs/{proposal_id}/approval", manager, "a-0", {}),
        403,
        "forbidden",
    )
    approved = _post(api, f"/api/v1/write-offs/{proposal_id}/approval", risk, "a-1", {})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["entry_key"] == f"write_off:write-off-proposal:{proposal_id}"
    assert approved.json()["written_off_fen"] >= 5_000_000
    schedule = api.client.get(f"/api/v1/receipts/{receipt_id}/schedule", headers=risk)
    assert schedule.json()["status"] == "written_off"
    assert_error(
        _post(api, "/api/v1/write-offs", manager, "w-2", {"receipt_id": receipt_id, "reason": "x"}),
        409,
        "already_written_off",
    )
    listed = api.client.get("/api/v1/write-offs?status=approved", headers=auditor)
    assert [p["proposal_id"] for p in listed.json()] == [proposal_id]


def test_the_proposer_may_not_decide_and_concentration_reads_the_latest_evaluation(
    world: tuple[Api, Engine], clock: FixedClock
) -> None:
    api, engine = world
    post_loan = api.deps.post_loan
    assert post_loan is not None
    line_id, owner = open_line(api)
    receipt_id = draw(api, line_id, owner, "draw-1", 5_000_000).json()["receipt_id"]
    last = date(2026, 6, 20)
    _close_through(engine, clock, clock.today(), last)
    risk = api.staff_headers(Role.RISK_OFFICER, "ro-zhang")
    proposed = _post(
        api, "/api/v1/write-offs", risk, "w-1", {"receipt_id": receipt_id, "reason": "fraud"}
    )
    proposal_id = proposed.json()["proposal_id"]
    assert_error(
        _post(api, f"/api/v1/write-offs/{proposal_id}/approval", risk, "a-1", {}),
        403,
        "write_off_same_person",
    )
    rejected = _post(
        api,
        f"/api/v1/write-offs/{proposal_id}/rejection",
        api.staff_headers(Role.RISK_OFFICER, "ro-chen"),
        "r-1",
        {"note": "recovery still possible"},
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"

    assert_error(api.client.get("/api/v1/concentration", headers=risk), 404, "not_found")
    concentration.evaluate(post_loan.concentration, as_of=last, actor="system")
    latest = api.client.get("/api/v1/concentration", headers=risk)
    assert latest.status_code == 200, latest.text
    assert latest.json()["book_fen"] == 5_000_000
    assert latest.json()["breaches"] == []  # clusters unknown without a data source
