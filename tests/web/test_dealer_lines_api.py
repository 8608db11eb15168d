"""Dealer lines over HTTP: staff open a line sized from purchases and draw it to the core."""

from __future__ import annotations

import sys
from pathlib import Path

from api_support import Api

sys.path.insert(0, str(Path(__file__).parent.parent / "dealers"))

from dealer_support import CORE, CORE_ACCOUNT, DEALER, WEAK_DEALER, YUAN, TinyMarket

from puhui.services.security.permissions import Role


def test_staff_open_a_dealer_line_and_draw_it_to_the_core(servicing_api: Api) -> None:
    api = servicing_api
    api.deps.origination.data_source = TinyMarket()
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


def test_refusals_are_named(servicing_api: Api) -> None:
    api = servicing_api
    api.deps.origination.data_source = TinyMarket()
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
