"""The post-loan monitoring API: alerts with their evidence, tasks claimed and completed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "monitoring"))

from api_support import Api, build_servicing_api
from book_support import AS_OF, Book, build_book, uscc

from puhui.bootstrap import Settings, build_platform
from puhui.domain.clock import FixedClock
from puhui.services.monitoring import tasks
from puhui.services.monitoring.run import run_monitoring
from puhui.services.security.permissions import SYSTEM, Role
from puhui.services.security.users import user_by_username


@dataclass
class World:
    api: Api
    book: Book
    headers: dict[Role, dict[str, str]]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    clock = FixedClock(datetime(2026, 4, 1, 1, 30, tzinfo=UTC))  # the day after the run
    url = f"sqlite:///{tmp_path / 'puhui.db'}"
    api, engine = build_servicing_api(url, clock, tmp_path / "models")
    platform = build_platform(
        Settings(  # type: ignore[call-arg]
            database_url=url, environment="test", audit_key="a" * 32, _env_file=None
        ),
        clock=clock,
    )
    book = build_book(platform, 3, dpd={0: 40, 2: 7})
    book.close_day(AS_OF)
    run_monitoring(book.setup(), as_of=AS_OF, actor="system:monitoring")
    roles = (Role.ACCOUNT_MANAGER, Role.SUPERVISOR, Role.RISK_OFFICER, Role.OPERATIONS)
    headers = {role: api.staff_headers(role) for role in roles}
    try:
        yield World(api, book, headers)
    finally:
        api.client.close()
        platform.close()
        engine.dispose()  # type: ignore[attr-defined]


def test_alerts_list_with_filters_cursor_and_evidence(world: World) -> None:
    client, manager = world.api.client, world.headers[Role.ACCOUNT_MANAGER]
    page = client.get("/api/v1/alerts?limit=1", headers=manager)
    assert page.status_code == 200, page.text
    first = page.json()
    assert len(first["items"]) == 1
    assert first["next_cursor"] == first["items"][0]["alert_id"]
    rest = client.get(f"/api/v1/alerts?limit=1&after={first['next_cursor']}", headers=manager)
    assert rest.json()["items"][0]["alert_id"] > first["next_cursor"]
    high = client.get("/api/v1/alerts?severity=high", headers=manager).json()["items"]
    assert [a["customer_id"] for a in high] == [uscc(0)]
    (signal,) = high[0]["signals"]
    assert signal["code"] == "DPD_SERIOUS"
    assert signal["text_zh"]
    assert signal["evidence"]["inputs"]["days_past_due"] == 40
    detail = client.get(f"/api/v1/alerts/{high[0]['alert_id']}", headers=manager)
    assert detail.json() == high[0]
    ranged = client.get("/api/v1/alerts?from=2026-04-01&to=2026-04-30", headers=manager)
    assert ranged.json() == {"items": [], "next_cursor": None}
    backwards = client.get("/api/v1/alerts?from=2026-04-01&to=2026-03-01", headers=manager)
    assert backwards.status_code == 422
    assert client.get("/api/v1/alerts/alrt_none", headers=manager).status_code == 404


def test_operations_may_not_read_alerts_or_work_tasks(world: World) -> None:
    ops = world.headers[Role.OPERATIONS]
    for path in ("/api/v1/alerts", "/api/v1/tasks"):
        refused = world.api.client.get(path, headers=ops)
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"


def test_my_tasks_claim_and_complete_with_freeze(world: World) -> None:
    client, manager = world.api.client, world.headers[Role.ACCOUNT_MANAGER]
    mine = client.get("/api/v1/tasks?mine=true", headers=manager).json()["items"]
    assert len(mine) == 2  # the branch queue: no account manager on record
    task = next(t for t in mine if t["customer_id"] == uscc(0))
    claimed = client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=manager)
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["status"] == "claimed"
    refused = client.post(
        f"/api/v1/tasks/{task['task_id']}/completion",
        json={"outcome": "reduce_limit", "new_limit_fen": 100},
        headers=manager,
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "outcome_not_permitted"
    done = client.post(
        f"/api/v1/tasks/{task['task_id']}/completion",
        json={"outcome": "freeze", "note": "owner unreachable"},
        headers=manager,
    )
    assert done.status_code == 200, done.text
    assert done.json()["action"]["frozen"] == [world.book.lines[uscc(0)]]
    line = client.get(f"/api/v1/credit-lines/{world.book.lines[uscc(0)]}", headers=manager).json()
    assert line["status"] == "frozen"
    again = client.post(
        f"/api/v1/tasks/{task['task_id']}/completion", json={"outcome": "freeze"}, headers=manager
    )
    assert again.status_code == 409
    bad = client.post(
        f"/api/v1/tasks/{task['task_id']}/completion",
        json={"outcome": "freeze", "extra": 1},
        headers=manager,
    )
    assert bad.status_code == 422


def test_a_tasks_credit_lists_the_lines_and_loans_and_the_outcomes_open_to_the_caller(
    world: World,
) -> None:
    client = world.api.client
    manager, risk = world.headers[Role.ACCOUNT_MANAGER], world.headers[Role.RISK_OFFICER]
    mine = client.get("/api/v1/tasks?mine=true", headers=manager).json()["items"]
    task = next(t for t in mine if t["customer_id"] == uscc(0))
    found = client.get(f"/api/v1/tasks/{task['task_id']}/credit", headers=manager)
    assert found.status_code == 200, found.text
    credit = found.json()
    line_id, receipt_id = world.book.lines[uscc(0)], world.book.receipts[uscc(0)]
    assert (credit["task_id"], credit["customer_id"]) == (task["task_id"], uscc(0))
    assert credit["lines"] == [
        {
            "line_id": line_id,
            "status": "active",
            "limit_fen": 1_000_000_00,
            "drawn_fen": 100_000_00,
            "expiry_date": "2027-01-04",
            "alert_line": True,
        }
    ]
    assert credit["loans"] == [
        {
            "loan_id": receipt_id,
            "kind": "receipt",
            "line_id": line_id,
            "outstanding_principal_fen": 100_000_00,
            "maturity_date": "2026-12-10",
            "days_past_due": 40,
            "category": "pass",
            "called_in_on": None,
        }
    ]
    assert credit["outcomes"] == ["contacted", "visited", "no_issue", "monitor", "freeze"]
    by_risk = client.get(f"/api/v1/tasks/{task['task_id']}/credit", headers=risk).json()
    assert "recall_early" in by_risk["outcomes"]
    assert "reduce_limit" in by_risk["outcomes"]
    missing = client.get("/api/v1/tasks/task_none/credit", headers=manager)
    assert missing.status_code == 404


def test_alerts_acknowledged_and_closed_with_a_reason(world: World) -> None:
    client = world.api.client
    supervisor = world.headers[Role.SUPERVISOR]
    (alert, *_) = client.get("/api/v1/alerts", headers=supervisor).json()["items"]
    path = f"/api/v1/alerts/{alert['alert_id']}"
    manager = world.headers[Role.ACCOUNT_MANAGER]
    assert client.post(f"{path}/acknowledgement", headers=manager).status_code == 403
    acknowledged = client.post(f"{path}/acknowledgement", headers=supervisor)
    assert acknowledged.json()["status"] == "acknowledged"
    assert (
        client.post(f"{path}/closure", json={"reason": ""}, headers=supervisor).status_code == 422
    )
    closed = client.post(f"{path}/closure", json={"reason": "repaid in full"}, headers=supervisor)
    assert closed.json()["status"] == "closed"
    assert closed.json()["close_reason"] == "repaid in full"
    assert client.post(f"{path}/acknowledgement", headers=supervisor).status_code == 409


def test_a_supervisor_assigns_a_queue_task_to_their_manager(world: World) -> None:
    client = world.api.client
    manager, lead = world.headers[Role.ACCOUNT_MANAGER], world.headers[Role.SUPERVISOR]
    security = world.api.deps.security
    manager_id = user_by_username(security, Role.ACCOUNT_MANAGER.value).user_id
    lead_id = user_by_username(security, Role.SUPERVISOR.value).user_id
    (task, _) = client.get("/api/v1/tasks?mine=true", headers=lead).json()["items"]
    path = f"/api/v1/tasks/{task['task_id']}/assignment"
    assert client.get("/api/v1/task-assignees", headers=lead).json() == {"assignees": []}
    stranger = client.post(path, json={"assignee": manager_id}, headers=lead)
    assert stranger.status_code == 422
    assert stranger.json()["code"] == "task_assignee_not_in_team"

    tasks.set_supervisor(
        world.book.platform.monitoring_uow,
        actor=SYSTEM,
        user_id=manager_id,
        supervisor_id=lead_id,
    )
    assert client.get("/api/v1/task-assignees", headers=lead).json() == {"assignees": [manager_id]}
    assert client.get("/api/v1/task-assignees", headers=manager).json() == {"assignees": []}
    by_manager = client.post(path, json={"assignee": manager_id}, headers=manager)
    assert by_manager.status_code == 403
    assert by_manager.json()["code"] == "outcome_not_permitted"
    assert client.post(path, json={}, headers=lead).status_code == 422
    assigned = client.post(path, json={"assignee": manager_id}, headers=lead)
    assert assigned.status_code == 200, assigned.text
    assert (assigned.json()["status"], assigned.json()["assignee"]) == ("open", manager_id)
    again = client.post(path, json={"assignee": manager_id}, headers=lead)
    assert again.status_code == 409
    assert again.json()["code"] == "task_transition_refused"
    claimed = client.post(f"/api/v1/tasks/{task['task_id']}/claim", headers=manager)
    assert claimed.json()["claimed_by"] == manager_id
    ops = world.headers[Role.OPERATIONS]
    assert client.get("/api/v1/task-assignees", headers=ops).status_code == 403
    assert client.post("/api/v1/tasks/task_none/assignment", json={"assignee": manager_id},
                       headers=lead).status_code == 404  # fmt: skip
