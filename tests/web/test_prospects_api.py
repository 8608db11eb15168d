"""Prospects through HTTP: the queue, offers (outbox, opt-out, expiry), fast-track and
conversion, the marketing map; phones masked in answers, in the outbox sealed."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from api_support import Api
from origination_fakes import OWNER_ID, PHONE, USCC_A, USCC_B
from sqlalchemy import select

from puhui.adapters.db.outbox import notification_outbox
from puhui.adapters.db.prospects.tables import prospects
from puhui.adapters.notify.log import LogNotifier
from puhui.domain.origination.assessment import Outcome
from puhui.domain.prospects import ProspectRow
from puhui.risk.need import PRE_CONSENT_SOURCES
from puhui.services.prospects import loading, offers
from puhui.services.prospects.ports import RunMeta
from puhui.services.security.permissions import SYSTEM, Role

MONTH = date(2026, 2, 1)
META = RunMeta(
    sources=PRE_CONSENT_SOURCES,
    strategy_version="sme-v1",
    customers={("330102", "manufacturing", None): 3},
)
SCOPES = ["registration", "tax", "invoice", "utility", "court", "bureau", "settlement"]
CONTACT = "13912345678"


def _row(uscc: str, priority: int, **changes: Any) -> ProspectRow:
    base = ProspectRow(
        uscc=uscc,
        month=MONTH,
        need_probability=0.7,
        need_amount_fen=60_000_000,
        need_month=date(2026, 3, 1),
        need_duration_months=6,
        limit_fen=40_000_000,
        annual_rate=Decimal("0.0485"),
        valid_until=date(2026, 4, 30),
        grade="B",
        priority=priority,
        region_code="330102",
        industry_group="manufacturing",
        park="xiaoshan-park",
        is_customer=False,
    )
    return replace(base, **changes)


def _load(api: Api, rows: list[ProspectRow], meta: RunMeta = META) -> dict[str, str]:
    access = api.deps.prospects
    assert access is not None
    loading.load_run(access, actor=SYSTEM, month=MONTH, rows=rows, meta=meta)
    manager = api.staff_headers(Role.SUPERVISOR, "lead")
    listed = api.client.get("/api/v1/prospects", headers=manager).json()["items"]
    return {p["uscc"]: p["prospect_id"] for p in listed}


def test_a_manager_works_a_prospect_through_the_queue(api_on_each_database: Api) -> None:
    api = api_on_each_database
    ids = _load(api, [_row(USCC_A, 1), _row(USCC_B, 2, region_code="440101")])
    manager = api.staff_headers(Role.ACCOUNT_MANAGER, "wang")
    page = api.client.get(
        "/api/v1/prospects", params={"month": "2026-02", "region": "3301"}, headers=manager
    )
    assert page.status_code == 200, page.text
    assert [p["uscc"] for p in page.json()["items"]] == [USCC_A]
    prospect = ids[USCC_A]
    moved = api.client.post(
        f"/api/v1/prospects/{prospect}/status",
        json={"status": "contacted", "note": "visited the workshop"},
        headers=manager,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "contacted"
    mine = api.client.get("/api/v1/prospects", params={"mine": "true"}, headers=manager).json()
    assert [p["prospect_id"] for p in mine["items"]] == [prospect]
    refused = api.client.post(
        f"/api/v1/prospects/{prospect}/status", json={"status": "applied"}, headers=manager
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_prospect_transition"
    other = api.staff_headers(Role.ACCOUNT_MANAGER, "zhao")
    taken = api.client.post(
        f"/api/v1/prospects/{prospect}/status", json={"status": "interested"}, headers=other
    )
    assert taken.status_code == 403
    detail = api.client.get(f"/api/v1/prospects/{prospect}", headers=manager).json()
    assert [e["action"] for e in detail["history"]] == ["loaded", "status_changed"]
    assert detail["history"][1]["to_status"] == "contacted"
    assert "visited the workshop" in detail["notes"]


def test_an_offer_goes_through_the_outbox_with_the_phone_sealed_and_masked(
    api_on_each_database: Api, caplog: pytest.LogCaptureFixture
) -> None:
    api = api_on_each_database
    ids = _load(api, [_row(USCC_A, 1)])
    manager = api.staff_headers(Role.ACCOUNT_MANAGER, "wang")
    sent = api.client.post(
        f"/api/v1/prospects/{ids[USCC_A]}/offer",
        json={"phone": CONTACT, "channel": "sms"},
        headers=manager,
    )
    assert sent.status_code == 202, sent.text
    assert sent.json()["recipient"] == "139****5678"
    assert CONTACT not in sent.text
    access = api.deps.prospects
    assert access is not None
    with access.units() as uow:
        stored = uow.connection.execute(select(notification_outbox)).one()
        contact = uow.connection.execute(select(prospects.c.contact_phone_enc)).scalar_one()
    assert stored.status == "pending"
    assert CONTACT not in stored.recipient_enc
    assert CONTACT not in contact
    notifier = LogNotifier()
    with caplog.at_level(logging.INFO):
        report = offers.dispatch_outbox(access, notifier, actor=SYSTEM)
    assert (report.sent, report.failed) == (1, 0)
    assert notifier.delivered == [sent.json()["message_id"]]
    assert "139****5678" in caplog.text
    assert CONTACT not in caplog.text
    detail = api.client.get(f"/api/v1/prospects/{ids[USCC_A]}", headers=manager).json()
    assert detail["status"] == "contacted"
    assert detail["offer_status"] == "sent"
    assert detail["contact_phone"] == "139****5678"


def test_offers_are_refused_after_an_opt_out_and_to_an_expired_prospect(
    api_on_each_database: Api,
) -> None:
    api = api_on_each_database
    ids = _load(api, [_row(USCC_A, 1), _row(USCC_B, 2, valid_until=date(2026, 3, 1))])
    manager = api.staff_headers(Role.ACCOUNT_MANAGER, "wang")
    opted = api.client.post(
        "/api/v1/marketing-opt-outs", json={"phone": CONTACT, "reason": "asked"}, headers=manager
    )
    assert opted.status_code == 201, opted.text
    refused = api.client.post(
        f"/api/v1/prospects/{ids[USCC_A]}/offer", json={"phone": CONTACT}, headers=manager
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "marketing_opted_out"
    lapsed = api.client.post(
        f"/api/v1/prospects/{ids[USCC_B]}/offer", json={"phone": "13700001111"}, headers=manager
    )
    assert lapsed.status_code == 409
    assert lapsed.json()["code"] == "prospect_expired"
    access = api.deps.prospects
    assert access is not None
    with access.units() as uow:
        assert uow.connection.execute(select(notification_outbox)).all() == []


def test_a_run_that_read_consented_data_sends_no_offer(api: Api) -> None:
    ids = _load(api, [_row(USCC_A, 1)], replace(META, sources=frozenset({"tax_monthly"})))
    manager = api.staff_headers(Role.ACCOUNT_MANAGER, "wang")
    refused = api.client.post(
        f"/api/v1/prospects/{ids[USCC_A]}/offer", json={"phone": CONTACT}, headers=manager
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "pre_consent_violation"
    assert "tax_monthly" in refused.json()["message"]


def _apply(api: Api, uscc: str, manager: dict[str, str]) -> str:
    body = {"uscc": uscc, "id_number": OWNER_ID, "phone": PHONE}
    created = api.client.post("/api/v1/applications", json=body, headers=manager)
    assert created.status_code == 201, created.text
    return str(created.json()["application_id"])


def _decide(api: Api, app_id: str) -> None:
    owner = api.applicant_headers()
    api.client.post(
        f"/api/v1/applications/{app_id}/consents",
        json={"scopes": SCOPES, "purpose": "credit"},
        headers=owner,
    )
    decided = api.client.post(f"/api/v1/applications/{app_id}/decision", headers=owner)
    assert decided.status_code == 200, decided.text


def test_an_application_from_a_prospect_is_fast_tracked_and_its_conversion_recorded(
    api_on_each_database: Api,
) -> None:
    api = api_on_each_database
    ids = _load(api, [_row(USCC_A, 2), _row(USCC_B, 1)])
    manager = api.staff_headers(Role.ACCOUNT_MANAGER, "wang")
    approver = api.staff_headers(Role.APPROVER, "chen")
    lead = api.staff_headers(Role.SUPERVISOR, "lead2")
    api.assessor.outcome = Outcome.REFER
    referred = _apply(api, USCC_A, manager)
    wrong = api.client.post(
        f"/api/v1/prospects/{ids[USCC_B]}/application",
        json={"application_id": referred},
        headers=manager,
    )
    assert wrong.status_code == 422
    linked = api.client.post(
        f"/api/v1/prospects/{ids[USCC_A]}/application",
        json={"application_id": referred},
        headers=manager,
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["status"] == "applied"
    _decide(api, referred)
    queue = api.client.get("/api/v1/prospects/fast-track", headers=approver)
    assert queue.status_code == 200, queue.text
    assert [(i["prospect"]["uscc"], i["application_status"]) for i in queue.json()] == [
        (USCC_A, "referred")
    ]
    assert queue.json()[0]["prospect"]["limit_fen"] == 40_000_000
    approved = api.client.post(
        f"/api/v1/applications/{referred}/review",
        json={"approve": True, "note": "pre-approved prospect"},
        headers=approver,
    )
    assert approved.status_code == 200, approved.text
    recorded = api.client.post("/api/v1/prospect-conversions", headers=lead)
    assert recorded.json() == {"recorded": 1}
    again = api.client.post("/api/v1/prospect-conversions", headers=lead)
    assert again.json() == {"recorded": 0}
    detail = api.client.get(f"/api/v1/prospects/{ids[USCC_A]}", headers=manager).json()
    assert (detail["conversion"], detail["conversion_limit_fen"]) == ("approved", 30_000_000)
    assert [e["action"] for e in detail["history"]][-2:] == ["applied", "converted"]
    assert api.client.get("/api/v1/prospects/fast-track", headers=approver).json() == []


def test_the_map_counts_prospects_need_customers_and_penetration(api: Api) -> None:
    _load(
        api,
        [
            _row(USCC_A, 1),
            _row(USCC_B, 2, park=None, industry_group="retail", region_code="330106"),
        ],
    )
    lead = api.staff_headers(Role.RISK_OFFICER, "risk")
    by_region = api.client.get(
        "/api/v1/prospects/map", params={"dimension": "region"}, headers=lead
    )
    assert by_region.status_code == 200, by_region.text
    assert by_region.json() == {
        "month": "2026-02",
        "dimension": "region",
        "rows": [
            {
                "key": "330102",
                "prospects": 1,
                "need_fen": 60_000_000,
                "customers": 3,
                "penetration": "0.7500",
            },
            {
                "key": "330106",
                "prospects": 1,
                "need_fen": 60_000_000,
                "customers": 0,
                "penetration": "0.0000",
            },
        ],
    }
    by_park = api.client.get(
        "/api/v1/prospects/map", params={"dimension": "park"}, headers=lead
    ).json()
    assert {r["key"] for r in by_park["rows"]} == {"xiaoshan-park", "-"}
    applicant = api.applicant_headers()
    assert api.client.get("/api/v1/prospects/map", headers=applicant).status_code == 403
