"""The operations pages over HTTP: end of day and the trial balance, repayment reconciliation,
audit search, users and role grants, API keys — on SQLite and PostgreSQL (the lists they read
are new queries)."""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from api_support import PASSWORD, Api, build_servicing_api
from ops_pages_support import Staff, sign_in
from sqlalchemy import Engine
from test_servicing_api import draw, open_line

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.domain.clock import FixedClock
from puhui.domain.errors import ConfigurationError
from puhui.domain.origination.errors import Forbidden
from puhui.pipelines.eod import run_end_of_day
from puhui.services.prospects import offers
from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Principal, Role
from puhui.services.servicing import operations

SECRET = re.compile(r'<p class="secret">([^<]+)</p>')


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[Api, Engine]]:
    api, engine = build_servicing_api(database_url, clock, tmp_path / "models")
    try:
        yield api, engine  # type: ignore[misc]
    finally:
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def _staff(api: Api, role: Role, name: str | None = None) -> Staff:
    return sign_in(api.deps, api.client.app, name or role.value, role)


def test_end_of_day_shows_the_runs_their_steps_and_a_balanced_trial_balance(
    world: tuple[Api, Engine], clock: FixedClock
) -> None:
    api, engine = world
    line_id, owner = open_line(api)
    assert draw(api, line_id, owner, "draw-1", 5_000_000).status_code == 201
    store = SqlEndOfDayStore(engine, clock=clock)
    first = clock.today()
    for offset in range(3):
        run_end_of_day(store, first + timedelta(days=offset))
    ops = _staff(api, Role.OPERATIONS)
    page = ops.get("/console/eod")
    last = (first + timedelta(days=2)).isoformat()
    assert f'value="{last}"' in page  # the trial balance of the last closed date …
    # … loads after the page: it sums the ledger.
    assert f'hx-get="/console/eod/trial-balance?as_of={last}"' in page
    assert "借贷平衡" not in page
    fragment = ops.client.get(f"/console/eod/trial-balance?as_of={last}")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "借贷平衡" in fragment.text
    assert "贷款本金" in fragment.text
    assert "50,000.00" in fragment.text  # principal receivable, 1303
    for day in range(3):
        assert (first + timedelta(days=day)).isoformat() in page
    assert "计提、逾期与结息" in page
    assert "总账记账" in page
    earlier = ops.get(f"/console/eod?as_of={first.isoformat()}")
    assert "借贷平衡" in earlier
    before_any = ops.get("/console/eod?as_of=2020-01-01")
    assert "50,000.00" not in before_any
    assert ops.client.get("/console/eod?as_of=2026-13-01").status_code == 422
    english = ops.client.get(f"/console/eod?as_of={last}&lang=en").text
    assert "Balanced: debits and credits are equal." in english
    assert "principal receivable" in english
    for role, allowed in (
        (Role.AUDITOR, 200),
        (Role.RISK_OFFICER, 200),
        (Role.ACCOUNT_MANAGER, 403),
        (Role.ADMIN, 403),
    ):
        client = _staff(api, role).client
        assert client.get("/console/eod").status_code == allowed, role
        assert client.get(f"/console/eod/trial-balance?as_of={last}").status_code == allowed


def test_an_admin_creates_a_user_who_signs_in_and_an_auditor_finds_it(
    world: tuple[Api, Engine],
) -> None:
    api, _ = world
    admin = _staff(api, Role.ADMIN)
    page = admin.get("/console/users")
    assert "新建用户" in page
    # Approver and admin accounts are not offered: they need a role grant.
    assert 'value="approver"' not in page.split('id="new-role"')[1].split("</select>")[0]
    without_token = admin.post(
        "/console/users",
        {"username": "li.wei", "password": "a-long-password-1", "role": "account_manager"},
        csrf=False,
    )
    assert without_token.status_code == 403
    short = admin.post(
        "/console/users", {"username": "li.wei", "password": "short", "role": "account_manager"}
    )
    assert short.status_code == 422
    privileged = admin.post(
        "/console/users",
        {"username": "li.wei", "password": "a-long-password-1", "role": "admin"},
    )
    assert privileged.status_code == 422
    created = admin.post(
        "/console/users",
        {"username": "Li.Wei", "password": "a-long-password-1", "role": "account_manager"},
    )
    assert created.status_code == 303
    assert created.headers["location"] == "/console/users?done=created"
    listed = admin.get(created.headers["location"])
    assert "用户已创建" in listed
    assert "li.wei" in listed
    taken = admin.post(
        "/console/users",
        {"username": "li.wei", "password": "a-long-password-1", "role": "operations"},
    )
    assert taken.status_code == 409
    # The new user signs in with the password the admin gave.
    user = accounts.user_by_username(api.deps.security, "li.wei")
    newcomer = sign_in(
        api.deps,
        api.client.app,
        "li.wei",
        Role.ACCOUNT_MANAGER,
        create=False,
        password="a-long-password-1",
    )
    assert "欢迎，li.wei" in newcomer.get("/console/")
    # The auditor finds the creation in the audit log, without the payload.
    auditor = _staff(api, Role.AUDITOR)
    found = auditor.get(f"/console/audit?action=user.created&entity_id={user.user_id}")
    assert "user.created" in found
    assert user.user_id in found
    assert "li.wei" not in found  # the username is in the payload, kept as a digest only
    nothing = auditor.get("/console/audit?action=user.created&until=2020-01-01")
    assert user.user_id not in nothing
    assert auditor.client.get("/console/audit?since=yesterday").status_code == 422
    assert auditor.client.get("/console/users").status_code == 403
    assert newcomer.client.get("/console/audit").status_code == 403


def test_disable_enable_and_end_sessions(world: tuple[Api, Engine], clock: FixedClock) -> None:
    api, _ = world
    admin = _staff(api, Role.ADMIN)
    worker = _staff(api, Role.OPERATIONS, "ops.zhao")
    user = accounts.user_by_username(api.deps.security, "ops.zhao")
    admin.get("/console/users")
    revoked = admin.post(f"/console/users/{user.user_id}/revocation")
    assert revoked.status_code == 303
    assert worker.client.get("/console/", follow_redirects=False).status_code == 303
    disabled = admin.post(f"/console/users/{user.user_id}/status", {"disabled": "1"})
    assert disabled.status_code == 303
    assert "已停用" in admin.get("/console/users?role=operations")
    refused = api.client.post(
        "/api/v1/auth/token", data={"username": "ops.zhao", "password": PASSWORD}
    )
    assert refused.status_code == 401
    enabled = admin.post(f"/console/users/{user.user_id}/status", {"disabled": "0"})
    assert enabled.status_code == 303
    clock.advance(timedelta(seconds=2))  # tokens issued at the revocation's instant stay void
    assert sign_in(api.deps, api.client.app, "ops.zhao", Role.OPERATIONS, create=False)
    me = accounts.user_by_username(api.deps.security, "admin")
    own = admin.post(f"/console/users/{me.user_id}/status", {"disabled": "1"})
    assert own.status_code == 409


def test_a_role_grant_needs_a_second_admin_and_shows_the_password_once(
    world: tuple[Api, Engine],
) -> None:
    api, _ = world
    first = _staff(api, Role.ADMIN, "admin.one")
    second = _staff(api, Role.ADMIN, "admin.two")
    first.get("/console/users")
    asked = first.post("/console/role-grants", {"role": "approver", "username": "shen.approver"})
    assert asked.status_code == 303
    (grant,) = accounts.pending_role_grants(api.deps.security, actor=SYSTEM)
    own = first.post(f"/console/role-grants/{grant.grant_id}/decision", {"decision": "approve"})
    assert own.status_code == 403
    second.get("/console/users")
    approved = second.post(
        f"/console/role-grants/{grant.grant_id}/decision", {"decision": "approve"}
    )
    assert approved.status_code == 200
    shown = SECRET.search(approved.text)
    assert shown is not None
    assert shown.group(1) not in second.get("/console/users")
    approver = sign_in(
        api.deps,
        api.client.app,
        "shen.approver",
        Role.APPROVER,
        create=False,
        password=shown.group(1),
    )
    assert "欢迎，shen.approver" in approver.get("/console/")


def test_api_keys_issued_once_rotated_and_revoked(world: tuple[Api, Engine]) -> None:
    api, _ = world
    admin = _staff(api, Role.ADMIN)
    admin.get("/console/api-keys")
    issued = admin.post(
        "/console/api-keys", {"partner_id": "channel-7", "scopes": "applications:read"}
    )
    assert issued.status_code == 200
    secret = SECRET.search(issued.text)
    assert secret is not None
    key = secret.group(1)
    assert accounts.authenticate_api_key(api.deps.security, key).partner_id == "channel-7"
    listing = admin.get("/console/api-keys")
    assert "channel-7" in listing
    assert key not in listing
    (record,) = accounts.list_api_keys(api.deps.security, actor=SYSTEM)
    rotated = admin.post(f"/console/api-keys/{record.key_id}/rotation")
    fresh = SECRET.search(rotated.text)
    assert fresh is not None
    assert fresh.group(1) != key
    revoked = admin.post(f"/console/api-keys/{record.key_id}/revocation")
    assert revoked.status_code == 303
    assert "已吊销" in admin.get(revoked.headers["location"])
    no_scopes = admin.post("/console/api-keys", {"partner_id": "channel-8"})
    assert no_scopes.status_code == 422
    ops = _staff(api, Role.OPERATIONS)
    assert ops.client.get("/console/api-keys").status_code == 403
    assert ops.client.get("/console/users").status_code == 403


def test_the_staff_list_leaves_applicants_out_and_pages(world: tuple[Api, Engine]) -> None:
    api, _ = world
    api.applicant_headers()  # an applicant user exists
    for n in range(3):
        accounts.create_user(
            api.deps.security,
            actor=SYSTEM,
            username=f"am-{n}",
            password=PASSWORD,
            role=Role.ACCOUNT_MANAGER,
        )
    security = api.deps.security
    listed = accounts.list_users(security, actor=SYSTEM, limit=2)
    assert [u.username for u in listed] == ["am-0", "am-1"]
    rest = accounts.list_users(security, actor=SYSTEM, limit=50, offset=2)
    assert [u.username for u in rest] == ["am-2"]
    assert accounts.list_users(security, actor=SYSTEM, role=Role.APPROVER) == []
    assert all(u.role is not Role.APPLICANT for u in accounts.list_users(security, actor=SYSTEM))


def test_end_of_day_runs_page_latest_first(world: tuple[Api, Engine], clock: FixedClock) -> None:
    api, engine = world
    store = SqlEndOfDayStore(engine, clock=clock)
    for offset in range(4):
        run_end_of_day(store, clock.today() + timedelta(days=offset))
    credit = api.deps.credit
    assert credit is not None
    risk = Principal(user_id="r", role=Role.RISK_OFFICER)
    runs = operations.end_of_day_runs(credit.servicing_uow, actor=risk, limit=3)
    assert [r.as_of for r in runs] == [clock.today() + timedelta(days=d) for d in (3, 2, 1)]
    # The steps in the order they ran (end of day may grow steps after these).
    assert [s.step for s in runs[0].steps][:3] == ["accrue", "classify", "post_ledger"]
    assert runs[0].status == "completed"
    (oldest,) = operations.end_of_day_runs(credit.servicing_uow, actor=risk, limit=3, offset=3)
    assert oldest.as_of == clock.today()
    assert date(2026, 1, 1) < oldest.as_of
    admin = Principal(user_id="a", role=Role.ADMIN)
    with pytest.raises(Forbidden):
        operations.end_of_day_runs(credit.servicing_uow, actor=admin)
    with pytest.raises(Forbidden):
        operations.ledger_trial_balance(credit.servicing_uow, actor=admin, as_of=clock.today())


def test_operations_reconcile_a_closed_days_repayments_from_the_console(
    world: tuple[Api, Engine], clock: FixedClock
) -> None:
    api, engine = world
    line_id, owner = open_line(api)
    receipt = draw(api, line_id, owner, "draw-1", 5_000_000).json()["receipt_id"]
    paid = api.client.post(
        f"/api/v1/receipts/{receipt}/repayments",
        json={"amount_fen": 1_000_000},
        headers={**owner, "Idempotency-Key": "ORD-1"},
    )
    assert paid.status_code == 201, paid.text
    today = clock.today().isoformat()
    ops = _staff(api, Role.OPERATIONS)

    def reconcile(day: str, text: str, name: str = "channel.csv") -> httpx.Response:
        return ops.client.post(
            "/console/reconciliation",
            data={"csrf_token": ops.csrf, "value_date": day},
            files={"file": (name, text.encode("utf-8"), "text/csv")},
        )

    header = "order_id,loan_id,amount,value_date,channel_ref\n"
    agreeing = header + f"ORD-1,{receipt},10000.00,{today},CH-1\n"
    form = ops.get("/console/reconciliation")
    assert "还款对账" in form
    assert 'enctype="multipart/form-data"' in form
    open_day = reconcile(today, agreeing)
    assert open_day.status_code == 409
    assert f"business day {today} is still open" in open_day.text

    run_end_of_day(SqlEndOfDayStore(engine, clock=clock), clock.today())
    assert f'value="{today}"' in ops.get("/console/reconciliation")  # the last closed day
    assert "尚无对账记录。" in ops.get("/console/reconciliation")
    assert "未对账" in ops.get("/console/eod")  # the closed day, not reconciled yet
    # The home says so to those who reconcile; the others are not told.
    assert "未对账的已日终日期：1 天" in ops.get("/console/")
    auditor = _staff(api, Role.AUDITOR, "auditor-home")
    assert "未对账的已日终日期：1 天" in auditor.get("/console/")
    assert "未对账" not in _staff(api, Role.ACCOUNT_MANAGER, "am-home").get("/console/")
    agreed = reconcile(today, agreeing)
    # The run is recorded, and the browser is sent to it: a reload does not reconcile again.
    assert agreed.status_code == 200, agreed.text
    assert [r.status_code for r in agreed.history] == [303]
    assert str(agreed.url).startswith(f"{ops.client.base_url}/console/reconciliation/rcn_")
    assert "账务与渠道一致：1 笔还款，共 10,000.00 元。" in agreed.text
    assert hashlib.sha256(agreeing.encode()).hexdigest() in agreed.text
    assert "channel.csv" in agreed.text
    assert "<dd>operations</dd>" in agreed.text  # who reconciled: the user's name
    broken = reconcile(today, header + f"ORD-9,{receipt},12.00,{today},CH-9\n", "day-2.csv")
    assert broken.status_code == 200
    assert "有 2 笔差错待处理。" in broken.text
    assert "渠道已收，未入账" in broken.text
    assert "已入账，渠道未收" in broken.text
    assert "CH-9" in broken.text
    # The recorded reconciliations, the latest first, each linked to its page.
    listed = ops.get("/console/reconciliation")
    assert listed.index("day-2.csv") < listed.index("channel.csv")
    assert "2 笔差错" in listed
    assert "一致" in listed
    assert str(broken.url).removeprefix(str(ops.client.base_url)) in listed
    # The end-of-day page shows each closed day's standing: its latest reconciliation.
    eod = ops.get("/console/eod")
    assert "未对账" not in eod
    assert "未对账" not in ops.get("/console/")
    assert str(broken.url).removeprefix(str(ops.client.base_url)) in eod
    assert str(agreed.url).removeprefix(str(ops.client.base_url)) not in eod
    assert ops.client.get("/console/reconciliation/rcn_01M97GEBT7CCJTMT31HSJDFZQ4").status_code == (
        404
    )
    assert ops.client.get("/console/reconciliation/nope").status_code == 422
    no_date = reconcile("2026-02-30", agreeing)
    assert no_date.status_code == 422
    assert "对账未能进行" in no_date.text
    bad = reconcile(today, header + f"ORD-1,{receipt},ten,{today},\n")
    assert bad.status_code == 422
    assert "对账未能进行" in bad.text
    assert "line 2:" in bad.text
    empty = reconcile(today, "", name="empty.csv")
    assert empty.status_code == 422
    assert "lacks the columns" in empty.text
    gbk = ops.client.post(
        "/console/reconciliation",
        data={"csrf_token": ops.csrf, "value_date": today},
        files={"file": ("gbk.csv", "订单号".encode("gbk"), "text/csv")},
    )
    assert gbk.status_code == 422
    assert "not UTF-8" in gbk.text
    forged = ops.client.post(
        "/console/reconciliation",
        data={"value_date": today},
        files={"file": ("c.csv", agreeing.encode(), "text/csv")},
    )
    assert forged.status_code == 403
    english = ops.client.post(
        "/console/reconciliation?lang=en",
        data={"csrf_token": ops.csrf, "value_date": today},
        files={"file": ("c.csv", agreeing.encode(), "text/csv")},
    )
    assert "The books and the channel agree: 1 repayments, 10,000.00 yuan." in english.text
    for role, allowed in ((Role.AUDITOR, 200), (Role.ACCOUNT_MANAGER, 403), (Role.ADMIN, 403)):
        staff = _staff(api, role)
        assert staff.client.get("/console/reconciliation").status_code == allowed
        staff.get("/console/")
        # Refused before the file is judged: a malformed file tells a stranger nothing.
        judged = staff.client.post(
            "/console/reconciliation",
            data={"csrf_token": staff.csrf, "value_date": "2026-02-30"},
            files={"file": ("c.csv", "订单".encode("gbk"), "text/csv")},
        )
        assert judged.status_code == (422 if allowed == 200 else 403), role


def test_the_home_leaves_out_a_count_it_cannot_make(
    world: tuple[Api, Engine], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A section whose count fails (here the outbox's store, made to fail) is shown without
    one; the home still answers, and the failure is logged."""
    api, _ = world

    def unavailable(*_: object, **__: object) -> None:
        raise ConfigurationError("the outbox store is unavailable")

    monkeypatch.setattr(offers, "outbox_counts", unavailable)
    ops = _staff(api, Role.OPERATIONS)
    with caplog.at_level(logging.WARNING, logger="puhui.web.pages.common"):
        home = ops.get("/console/")
    assert 'href="/console/outbox"' in home
    assert 'href="/console/reconciliation"' in home
    assert "发送失败的消息：" not in home
    assert "the home could not count /console/outbox: the outbox store is unavailable" in (
        caplog.text
    )
