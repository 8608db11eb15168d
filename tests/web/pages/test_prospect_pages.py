"""The prospect pages over HTTP: the queue (filters, mine by default), a prospect worked from
its page (status, offer, refusals told in the user's language), the map's charts and tables."""

from __future__ import annotations

import json
import re
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from api_support import Api
from ops_pages_support import Staff, sign_in
from origination_fakes import OWNER_ID, PHONE, USCC_B

from puhui.domain.prospects import ProspectRow
from puhui.risk.need import PRE_CONSENT_SOURCES
from puhui.services.prospects import conversion, loading, queue
from puhui.services.prospects.ports import ProspectQuery, RunMeta
from puhui.services.security import users
from puhui.services.security.permissions import SYSTEM, Principal, Role

LEAD = Principal(user_id="usr_lead", role=Role.SUPERVISOR)

MONTH = date(2026, 2, 1)
USCCS = ("91330100MA00000001", USCC_B, "91440100MA00000003")
"""The second is a valid USCC: an application is made for it."""


def _row(n: int, region: str, park: str | None) -> ProspectRow:
    return ProspectRow(
        uscc=USCCS[n],
        month=MONTH,
        need_probability=0.6,
        need_amount_fen=80_000_000,
        need_month=date(2026, 4, 1),
        need_duration_months=9,
        limit_fen=50_000_000,
        annual_rate=Decimal("0.0465"),
        valid_until=date(2026, 4, 30),
        grade="A",
        priority=n + 1,
        region_code=region,
        industry_group="wholesale",
        park=park,
        is_customer=False,
    )


def _world(api: Api) -> tuple[Staff, dict[str, str]]:
    manager = sign_in(api.deps, api.client.app, "wang", Role.ACCOUNT_MANAGER)
    access = api.deps.prospects
    assert access is not None
    (user,) = users.list_users(api.deps.security, actor=SYSTEM, role=Role.ACCOUNT_MANAGER)
    user_id = user.user_id
    queue.set_territory(access, actor=SYSTEM, region_code="3301", user_ids=[user_id])
    rows = [_row(0, "330102", "binjiang"), _row(1, "330106", None), _row(2, "440101", None)]
    loading.load_run(
        access,
        actor=SYSTEM,
        month=MONTH,
        rows=rows,
        meta=RunMeta(
            sources=PRE_CONSENT_SOURCES, customers={("330102", "wholesale", "binjiang"): 1}
        ),
    )
    found = queue.list_prospects(access, actor=SYSTEM, query=ProspectQuery())
    return manager, {r.row.uscc: r.prospect_id for r in found}


def test_the_queue_shows_a_managers_own_prospects_in_both_languages(api: Api) -> None:
    manager, _ = _world(api)
    page = manager.get("/console/prospects")
    assert "预授信潜在客户" in page
    assert USCCS[0] in page
    assert USCCS[1] in page
    assert USCCS[2] not in page  # another region's, in the branch queue
    assert "500,000.00" in page
    assert "4.65%" in page
    everyone = manager.get("/console/prospects?mine=0&region=4401")
    assert USCCS[2] in everyone
    assert USCCS[0] not in everyone
    assert "<td>批发业</td>" in page  # the industry group by its name, not its code
    english = manager.get("/console/prospects?lang=en")
    assert "Pre-approved prospects" in english
    assert "<td>Wholesale</td>" in english
    # Nonsense filters mean "any", never an error.
    assert USCCS[0] in manager.get("/console/prospects?status=nonsense&month=2026-13")


def test_a_prospect_is_moved_and_offered_from_its_page(api: Api) -> None:
    manager, ids = _world(api)
    path = f"/console/prospects/{ids[USCCS[0]]}"
    page = manager.get(path)
    assert "推送授信邀请" in page
    assert "<dd>批发业</dd>" in page
    moved = manager.post(
        f"{path}/status", {"status": "contacted", "note": "电话联系了老板 13800001111"}
    )
    assert moved.status_code == 303
    after = manager.get(moved.headers["location"])
    assert "状态已更新" in after
    assert "电话联系了老板 138****1111" in after
    sent = manager.post(f"{path}/offer", {"phone": "13912345678", "channel": "sms"})
    assert sent.status_code == 303
    shown = manager.get(sent.headers["location"])
    assert "139****5678" in shown
    assert "13912345678" not in shown
    manager.get("/console/prospects")
    opted = manager.post(f"/console/prospects/{ids[USCCS[1]]}/offer", {"phone": "13912345678"})
    assert opted.status_code == 303  # no opt-out yet: queued
    access = api.deps.prospects
    assert access is not None
    queue.record_opt_out(access, actor=LEAD, uscc=USCCS[0], phone=None, reason="asked")
    manager.get(path)
    refused = manager.post(f"{path}/offer", {"phone": "13700001111"})
    assert refused.status_code == 409
    assert "已退订营销信息" in refused.text


def test_the_map_draws_its_charts_from_data_blocks_and_lists_the_table(api: Api) -> None:
    manager, _ = _world(api)
    page = manager.get("/console/prospects/map?dimension=region")
    assert "营销地图" in page
    blocks = dict(re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', page))
    counts = json.loads(blocks["chart-map-counts"])
    assert counts["xAxis"]["data"] == ["330102", "330106", "440101"]
    assert counts["series"][0]["data"] == [1, 1, 1]
    assert counts["series"][1]["data"] == [1, 0, 0]
    assert counts["series"][2]["data"] == ["50.0", "0.0", "0.0"]
    need = json.loads(blocks["chart-map-need"])
    assert need["series"][0]["data"] == ["80.00", "80.00", "80.00"]
    assert "25.0%" in page  # 1 customer of 4 enterprises over all
    by_industry = manager.get("/console/prospects/map?dimension=industry")
    blocks = dict(
        re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', by_industry)
    )
    assert json.loads(blocks["chart-map-counts"])["xAxis"]["data"] == ["批发业"]
    assert '<th scope="row">批发业</th>' in by_industry
    english = manager.get("/console/prospects/map?dimension=industry&lang=en")
    assert '<th scope="row">Wholesale</th>' in english
    by_park = manager.get("/console/prospects/map?dimension=park&lang=en")
    assert "Outside any park" in by_park
    assert "binjiang" in by_park
    operations = sign_in(api.deps, api.client.app, "ops", Role.OPERATIONS)
    assert "营销地图" in operations.get("/console/prospects/map")


def test_a_role_that_does_not_work_prospects_is_refused_their_actions(api: Api) -> None:
    _, ids = _world(api)
    operations = sign_in(api.deps, api.client.app, "ops", Role.OPERATIONS)
    path = f"/console/prospects/{ids[USCCS[0]]}"
    page = operations.get(path)
    assert "推送授信邀请" not in page  # no forms for a reader
    refused = operations.post(f"{path}/status", {"status": "contacted"})
    assert refused.status_code == 403


def test_an_approver_sees_applications_from_prospects_on_the_fast_track_page(api: Api) -> None:
    _, ids = _world(api)
    approver = sign_in(api.deps, api.client.app, "chen", Role.APPROVER)
    assert "暂无待审批的预授信客户申请" in approver.get("/console/prospects/fast-track")
    desk = api.staff_headers(Role.ACCOUNT_MANAGER, "desk")
    body = {"uscc": USCCS[1], "id_number": OWNER_ID, "phone": PHONE}
    created = api.client.post("/api/v1/applications", json=body, headers=desk)
    assert created.status_code == 201, created.text
    application_id = created.json()["application_id"]
    access = api.deps.prospects
    assert access is not None
    conversion.link_application(
        access, actor=LEAD, prospect_id=ids[USCCS[1]], application_id=application_id
    )
    page = approver.get("/console/prospects/fast-track")
    assert application_id in page
    assert "500,000.00" in page
    assert "Fast-track applications" in approver.get("/console/prospects/fast-track?lang=en")
