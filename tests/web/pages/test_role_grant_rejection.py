"""A rejected role grant keeps why (migration 0050), on SQLite and PostgreSQL: through the API,
the service, the console and the command line; a bad reason rejects nothing, and a downgrade
and upgrade lose no grant."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from api_support import Api, build_servicing_api
from ops_pages_support import Staff, sign_in
from sqlalchemy import Engine, inspect

from puhui.adapters.db import migrate
from puhui.domain.audit import payload_digest
from puhui.domain.clock import FixedClock
from puhui.services.ports import AuditQuery
from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Principal, Role

REASON = "审批人已有两名，暂不新增 / two approvers are enough for now"


def _user_id(api: Api, headers: dict[str, str]) -> str:
    return str(api.client.get("/api/v1/me", headers=headers).json()["user_id"])


def _ask(api: Api, headers: dict[str, str], username: str) -> str:
    asked = api.client.post(
        "/api/v1/role-grants", json={"role": "approver", "username": username}, headers=headers
    )
    assert asked.status_code == 202, asked.text
    return str(asked.json()["grant_id"])


def test_a_second_admin_rejects_with_a_reason_that_is_kept_and_read_back(
    api_on_each_database: Api,
) -> None:
    api = api_on_each_database
    first = api.staff_headers(Role.ADMIN, "admin1")
    second = api.staff_headers(Role.ADMIN, "admin2")
    grant_id = _ask(api, first, "wang.approver")
    rejected = api.client.post(
        f"/api/v1/role-grants/{grant_id}/rejection", json={"reason": REASON}, headers=second
    )
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert (body["status"], body["decision_reason"]) == ("rejected", REASON)
    assert body["decided_by"] == _user_id(api, second)
    assert api.client.get("/api/v1/role-grants", headers=first).json() == []
    decided = api.client.get("/api/v1/role-grants/decided", headers=first).json()
    assert [(g["grant_id"], g["decision_reason"]) for g in decided] == [(grant_id, REASON)]
    with api.deps.security.uow_factory() as uow:
        event = next(iter(uow.audit.search(AuditQuery(entity_id=grant_id))))
    assert event.action == "role_grant.rejected"
    assert event.payload_digest == payload_digest(
        {"role": "approver", "requested_by": _user_id(api, first), "reason": REASON}
    )


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, 7])
def test_a_bad_reason_is_a_422_and_the_grant_stays_pending(
    api_on_each_database: Api, reason: object
) -> None:
    api = api_on_each_database
    first = api.staff_headers(Role.ADMIN, "admin1")
    second = api.staff_headers(Role.ADMIN, "admin2")
    grant_id = _ask(api, first, "li.approver")
    refused = api.client.post(
        f"/api/v1/role-grants/{grant_id}/rejection", json={"reason": reason}, headers=second
    )
    assert refused.status_code == 422, refused.text
    assert "reason" in str(refused.json()["details"])
    pending = api.client.get("/api/v1/role-grants", headers=first).json()
    assert [g["grant_id"] for g in pending] == [grant_id]


def test_without_a_body_the_api_still_rejects_and_keeps_no_reason(
    api_on_each_database: Api,
) -> None:
    api = api_on_each_database
    first = api.staff_headers(Role.ADMIN, "admin1")
    grant_id = _ask(api, first, "zhao.approver")
    withdrawn = api.client.post(f"/api/v1/role-grants/{grant_id}/rejection", headers=first)
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["decision_reason"]) == ("rejected", None)
    assert api.client.get("/api/v1/role-grants/decided?limit=0", headers=first).status_code == 422
    other = api.staff_headers(Role.OPERATIONS, "ops1")
    assert api.client.get("/api/v1/role-grants/decided", headers=other).status_code == 403


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[Api, Engine]]:
    api, engine = build_servicing_api(database_url, clock, tmp_path / "models")
    try:
        yield api, engine  # type: ignore[misc]
    finally:
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def _staff(api: Api, name: str) -> Staff:
    return sign_in(api.deps, api.client.app, name, Role.ADMIN)


def test_the_service_asks_another_admin_for_a_reason_but_not_the_requester(
    world: tuple[Api, Engine],
) -> None:
    api, _ = world
    security = api.deps.security
    maker = Principal(user_id="usr_maker", role=Role.ADMIN)
    checker = Principal(user_id="usr_checker", role=Role.ADMIN)
    grant = accounts.request_role_grant(
        security, actor=maker, role=Role.APPROVER, username="sun.approver"
    )
    with pytest.raises(accounts.GrantReasonInvalid) as refused:
        accounts.reject_role_grant(
            security, actor=checker, grant_id=grant.grant_id, reason="  ", reason_required=True
        )
    assert refused.value.details == {"field": "reason"}
    assert [g.grant_id for g in accounts.pending_role_grants(security, actor=SYSTEM)] == [
        grant.grant_id
    ]
    withdrawn = accounts.reject_role_grant(
        security, actor=maker, grant_id=grant.grant_id, reason_required=True
    )
    assert (withdrawn.status, withdrawn.decided_by, withdrawn.decision_reason) == (
        "rejected",
        "usr_maker",
        None,
    )


def test_the_console_asks_why_and_shows_the_decision_by_name(
    world: tuple[Api, Engine],
) -> None:
    api, _ = world
    first = _staff(api, "admin.one")
    second = _staff(api, "admin.two")
    first.get("/console/users")
    assert first.post("/console/role-grants", {"role": "approver", "username": "qian.approver"})
    (grant,) = accounts.pending_role_grants(api.deps.security, actor=SYSTEM)
    page = second.get("/console/users")
    assert "驳回原因（驳回时必填）" in page
    path = f"/console/role-grants/{grant.grant_id}/decision"
    blank = second.post(path, {"decision": "reject", "reason": " "})
    assert blank.status_code == 422
    assert "请说明驳回该角色授予的原因" in blank.text
    assert len(accounts.pending_role_grants(api.deps.security, actor=SYSTEM)) == 1
    done = second.post(path, {"decision": "reject", "reason": REASON})
    assert done.status_code == 303
    assert done.headers["location"] == "/console/users?done=rejected#decided"
    page = first.get("/console/users")
    assert "最近处理的角色授予" in page
    row = page[page.index(f'data-grant="{grant.grant_id}"') :]
    row = row[: row.index("</tr>")]
    for shown in ("qian.approver", "admin.one", "admin.two", "已驳回", REASON):
        assert shown in row, shown
    english = first.get("/console/users?lang=en")
    assert "Recently decided role grants" in english
    assert "Rejected" in english


def test_a_requester_withdraws_on_the_console_without_a_reason(world: tuple[Api, Engine]) -> None:
    api, _ = world
    first = _staff(api, "admin.one")
    _staff(api, "admin.two")
    first.get("/console/users")
    assert first.post("/console/role-grants", {"role": "approver", "username": "zhou.approver"})
    (grant,) = accounts.pending_role_grants(api.deps.security, actor=SYSTEM)
    first.get("/console/users")
    done = first.post(f"/console/role-grants/{grant.grant_id}/decision", {"decision": "reject"})
    assert done.status_code == 303
    page = first.get("/console/users")
    row = page[page.index(f'data-grant="{grant.grant_id}"') :]
    assert "已撤回" in row[: row.index("</tr>")]


def test_a_round_trip_of_migration_0050_keeps_every_grant(world: tuple[Api, Engine]) -> None:
    api, engine = world
    security = api.deps.security
    maker = Principal(user_id="usr_maker", role=Role.ADMIN)
    checker = Principal(user_id="usr_checker", role=Role.ADMIN)
    kept = accounts.request_role_grant(security, actor=maker, role=Role.ADMIN, username="wu.admin")
    accounts.reject_role_grant(security, actor=checker, grant_id=kept.grant_id, reason=REASON)
    migrate.downgrade(engine, "0049")
    columns = {c["name"] for c in inspect(engine).get_columns("security_role_grants")}
    assert "decision_reason" not in columns
    migrate.upgrade(engine, "0050")
    (back,) = accounts.decided_role_grants(security, actor=SYSTEM)
    assert (back.grant_id, back.status, back.decided_by, back.decision_reason) == (
        kept.grant_id,
        "rejected",
        "usr_checker",
        None,
    )
