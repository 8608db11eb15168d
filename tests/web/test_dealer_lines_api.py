"""Dealer lines over HTTP: staff open a line sized from purchases and draw it to the core."""

from __future__ import annotations

import sys
from pathlib import Path

from api_support import Api

sys.path.insert(0, str(Path(__file__).parent.parent / "dealers"))

from dealer_support import CORE, CORE_ACCOUNT, DEALER, WEAK_DEALER, YUAN, TinyMarket

from puhui.adapters.sources.supply_chain import DataSourceEnterprises
from puhui.decision.supply_chain import SupplyChainPolicy
from puhui.services.security.permissions import Role


def on_tiny_market(api: Api, *, dealers: tuple[str, ...] = (DEALER, WEAK_DEALER)) -> None:
    """The API on the tiny market: the core onboarded through the API (its facility decided
    by the shipped strategy on its own data) and ``dealers`` named by it as its dealers."""
    market = TinyMarket()
    api.deps.origination.data_source = market
    service = api.deps.supply_chain
    assert service is not None
    service.source = DataSourceEnterprises(market, api.clock)
    service.policy = SupplyChainPolicy.load()
    risk = api.staff_headers(Role.RISK_OFFICER, "risk-onboarding")
    onboarded = api.client.post(
        "/api/v1/core-enterprises",
        json={"uscc": CORE, "requested": "5000000.00"},
        headers={**risk, "Idempotency-Key": "onboard"},
    )
    assert onboarded.status_code == 201, onboarded.text
    assert onboarded.json()["grade"] == "A"
    for dealer in dealers:
        named = api.client.post(
            f"/api/v1/core-enterprises/{CORE}/partners",
            json={"partner": dealer, "relation": "dealer"},
            headers={**risk, "Idempotency-Key": f"name-{dealer}"},
        )
        assert named.status_code in (200, 201), named.text


def test_staff_open_a_dealer_line_and_draw_it_to_the_core(servicing_api: Api) -> None:
    api = servicing_api
    on_tiny_market(api)
    risk = api.staff_headers(Role.RISK_OFFICER)
    body = {"core_uscc": CORE, "dealer_uscc": DEALER, "commitment": "repurchase"}

    opened = api.client.post(
        "/api/v1/dealer-lines", json=body, headers={**risk, "Idempotency-Key": "open-1"}
    )
    assert opened.status_code == 201, opened.text
    line = opened.json()
    # repurchase: 2.5 x 300,000 = 750,000, capped at 35 % of 1.8 M = 630,000
    assert line["limit_fen"] == 630_000 * YUAN
    assert line["annual_rate"] == "0.0370"
    assert line["seasonal_peak_month"] == 12
    assert line["dealer_uscc"] == DEALER

    drawn = api.client.post(
        f"/api/v1/dealer-lines/{line['line_id']}/draws",
        json={"amount_fen": 100_000 * YUAN, "maturity_date": "2026-06-01"},
        headers={**risk, "Idempotency-Key": "draw-1"},
    )
    assert drawn.status_code == 201, drawn.text
    assert drawn.json()["payee"] == CORE
    assert drawn.json()["payee_account"] == CORE_ACCOUNT
    assert drawn.json()["available_fen"] == 530_000 * YUAN

    # The line is an ordinary servicing line: staff read it and its receipt like any other.
    seen = api.client.get(f"/api/v1/credit-lines/{line['line_id']}", headers=risk)
    assert seen.status_code == 200, seen.text
    assert seen.json()["drawn_fen"] == 100_000 * YUAN


def test_a_dealer_line_needs_an_onboarded_core_that_named_the_dealer(servicing_api: Api) -> None:
    api = servicing_api
    risk = api.staff_headers(Role.RISK_OFFICER)
    body = {"core_uscc": CORE, "dealer_uscc": DEALER, "commitment": "repurchase"}
    api.deps.origination.data_source = TinyMarket()
    not_onboarded = api.client.post(
        "/api/v1/dealer-lines", json=body, headers={**risk, "Idempotency-Key": "open-a"}
    )
    assert not_onboarded.status_code == 404, not_onboarded.text
    assert not_onboarded.json()["code"] == "core_not_found"

    on_tiny_market(api, dealers=(WEAK_DEALER,))
    not_named = api.client.post(
        "/api/v1/dealer-lines", json=body, headers={**risk, "Idempotency-Key": "open-b"}
    )
    assert not_named.status_code == 409, not_named.text
    assert not_named.json()["code"] == "dealer_not_named"

    # A frozen facility backs no dealer line: the strategy declines for want of a grade.
    api.client.post(
        f"/api/v1/core-enterprises/{CORE}/partners",
        json={"partner": DEALER, "relation": "dealer"},
        headers={**risk, "Idempotency-Key": "name-late"},
    )
    frozen = api.client.post(
        f"/api/v1/core-enterprises/{CORE}/freeze",
        json={"reason": "核心企业涉诉 / core under litigation"},
        headers={**risk, "Idempotency-Key": "freeze"},
    )
    assert frozen.status_code == 200, frozen.text
    declined = api.client.post(
        "/api/v1/dealer-lines", json=body, headers={**risk, "Idempotency-Key": "open-c"}
    )
    assert declined.status_code == 422, declined.text
    assert "CORE_NOT_APPROVED" in declined.json()["details"]["reasons"]
    unfrozen = api.client.post(
        f"/api/v1/core-enterprises/{CORE}/unfreeze",
        json={"reason": "诉讼已撤回 / case withdrawn"},
        headers={**risk, "Idempotency-Key": "unfreeze"},
    )
    assert unfrozen.status_code == 200, unfrozen.text
    opened = api.client.post(
        "/api/v1/dealer-lines", json=body, headers={**risk, "Idempotency-Key": "open-d"}
    )
    assert opened.status_code == 201, opened.text
    assert opened.json()["grade"] is not None


def test_refusals_are_named(servicing_api: Api) -> None:
    api = servicing_api
    on_tiny_market(api)
    risk = api.staff_headers(Role.RISK_OFFICER)
    declined = api.client.post(
        "/api/v1/dealer-lines",
        json={"core_uscc": CORE, "dealer_uscc": WEAK_DEALER, "commitment": "none"},
        headers={**risk, "Idempotency-Key": "open-2"},
    )
    assert declined.status_code == 422, declined.text
    assert declined.json()["code"] == "dealer_line_declined"
    approver = api.staff_headers(Role.APPROVER)
    forbidden = api.client.post(
        "/api/v1/dealer-lines",
        json={"core_uscc": CORE, "dealer_uscc": DEALER, "commitment": "none"},
        headers={**approver, "Idempotency-Key": "open-3"},
    )
    assert forbidden.status_code == 403, forbidden.text
    no_key = api.client.post(
        "/api/v1/dealer-lines",
        json={"core_uscc": CORE, "dealer_uscc": DEALER, "commitment": "none"},
        headers=risk,
    )
    assert no_key.status_code == 422
    missing = api.client.post(
        "/api/v1/dealer-lines/line_nope/draws",
        json={"amount_fen": 100, "maturity_date": "2026-06-01"},
        headers={**risk, "Idempotency-Key": "draw-9"},
    )
    assert missing.status_code == 404, missing.text


def _enterprise_user(api: Api, phone: str, uscc: str) -> dict[str, str]:
    """An applicant login bound to ``uscc`` as its enterprise user."""
    headers = api.applicant_headers(phone)
    me = api.client.get("/api/v1/me", headers=headers).json()["user_id"]
    bound = api.client.post(
        "/api/v1/enterprise-users",
        json={"user_id": me, "uscc": uscc},
        headers=api.staff_headers(Role.RISK_OFFICER, f"risk-bind-{phone}"),
    )
    assert bound.status_code == 204, bound.text
    return headers


def test_the_dealer_user_reads_and_draws_its_own_line_only(servicing_api: Api) -> None:
    api = servicing_api
    on_tiny_market(api)
    risk = api.staff_headers(Role.RISK_OFFICER)
    opened = api.client.post(
        "/api/v1/dealer-lines",
        json={"core_uscc": CORE, "dealer_uscc": DEALER, "commitment": "guarantee"},
        headers={**risk, "Idempotency-Key": "open-own"},
    )
    assert opened.status_code == 201, opened.text
    line_id = opened.json()["line_id"]
    dealer = _enterprise_user(api, "13800000011", DEALER)
    other = _enterprise_user(api, "13800000012", WEAK_DEALER)

    mine = api.client.get("/api/v1/dealer-lines", headers=dealer)
    assert mine.status_code == 200, mine.text
    assert [(v["line_id"], v["core_uscc"]) for v in mine.json()] == [(line_id, CORE)]
    assert api.client.get("/api/v1/dealer-lines", headers=other).json() == []
    by_core = api.client.get(f"/api/v1/dealer-lines?core={CORE}", headers=risk)
    assert [v["line_id"] for v in by_core.json()] == [line_id]

    body = {"amount_fen": 50_000 * YUAN, "maturity_date": "2026-06-01"}
    stolen = api.client.post(
        f"/api/v1/dealer-lines/{line_id}/draws",
        json=body,
        headers={**other, "Idempotency-Key": "steal"},
    )
    assert stolen.status_code == 404, stolen.text
    assert stolen.json()["code"] == "dealer_line_not_found"
    assert api.client.get(f"/api/v1/dealer-lines/{line_id}", headers=other).status_code == 404
    over = api.client.post(
        f"/api/v1/dealer-lines/{line_id}/draws",
        json={**body, "amount_fen": 540_000 * YUAN + 1},
        headers={**dealer, "Idempotency-Key": "over"},
    )
    assert over.status_code == 409, over.text
    assert over.json()["code"] == "insufficient_limit"

    drawn = api.client.post(
        f"/api/v1/dealer-lines/{line_id}/draws",
        json=body,
        headers={**dealer, "Idempotency-Key": "own-1"},
    )
    assert drawn.status_code == 201, drawn.text
    assert (drawn.json()["payee"], drawn.json()["payee_account"]) == (CORE, CORE_ACCOUNT)
    replay = api.client.post(
        f"/api/v1/dealer-lines/{line_id}/draws",
        json=body,
        headers={**dealer, "Idempotency-Key": "own-1"},
    )
    assert replay.json()["receipt_id"] == drawn.json()["receipt_id"]
    shown = api.client.get(f"/api/v1/dealer-lines/{line_id}", headers=dealer)
    assert shown.status_code == 200, shown.text
    line = shown.json()
    assert (line["drawn_fen"], line["available_fen"]) == (50_000 * YUAN, 490_000 * YUAN)
    assert [(r["receipt_id"], r["payee"]) for r in line["receipts"]] == [
        (drawn.json()["receipt_id"], CORE)
    ]
    # Opening lines stays with staff.
    refused = api.client.post(
        "/api/v1/dealer-lines",
        json={"core_uscc": CORE, "dealer_uscc": DEALER, "commitment": "guarantee"},
        headers={**dealer, "Idempotency-Key": "open-self"},
    )
    assert refused.status_code == 403, refused.text
