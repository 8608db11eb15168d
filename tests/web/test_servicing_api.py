"""Servicing over HTTP: lines by role and owner, idempotent draws and repayments, schedules."""

from __future__ import annotations

from typing import Any

from api_support import Api
from origination_fakes import OTHER_PHONE, OWNER_ID, PHONE, USCC_A
from test_api_flow import assert_error

from puhui.services.security.permissions import Permission, Role

BODY = {"uscc": USCC_A, "id_number": OWNER_ID, "phone": PHONE, "requested_amount_fen": 20_000_000}
SCOPES = ["registration", "tax", "court"]


def open_line(api: Api) -> tuple[str, dict[str, str]]:
    """The owner applies, consents, is offered and accepts: the line opens in servicing."""
    owner = api.applicant_headers()
    app_id = api.client.post("/api/v1/applications", json=BODY, headers=owner).json()[
        "application_id"
    ]
    api.client.post(
        f"/api/v1/applications/{app_id}/consents",
        json={"scopes": SCOPES, "purpose": "credit"},
        headers=owner,
    )
    assert (
        api.client.post(f"/api/v1/applications/{app_id}/decision", headers=owner).json()["status"]
        == "offered"
    )
    accepted = api.client.post(f"/api/v1/applications/{app_id}/acceptance", headers=owner)
    assert accepted.status_code == 200, accepted.text
    line_id = accepted.json()["credit_line_id"]
    assert line_id
    return str(line_id), owner


def draw(api: Api, line_id: str, headers: dict[str, str], key: str, amount: int) -> Any:
    return api.client.post(
        f"/api/v1/credit-lines/{line_id}/draws",
        json={"amount_fen": amount, "maturity_date": "2026-09-01"},
        headers={**headers, "Idempotency-Key": key},
    )


def test_owner_draws_and_repays_and_sees_the_receipt_schedule(servicing_api: Api) -> None:
    api = servicing_api
    line_id, owner = open_line(api)
    line = api.client.get(f"/api/v1/credit-lines/{line_id}", headers=owner)
    assert line.status_code == 200, line.text
    assert line.json()["limit_fen"] == 30_000_000
    assert line.json()["available_fen"] == 30_000_000
    assert line.json()["enterprise_id"] == USCC_A

    drawn = draw(api, line_id, owner, "draw-1", 5_000_000)
    assert drawn.status_code == 201, drawn.text
    receipt_id = drawn.json()["receipt_id"]
    assert drawn.json()["available_fen"] == 25_000_000
    assert drawn.json()["replayed"] is False

    schedule = api.client.get(f"/api/v1/receipts/{receipt_id}/schedule", headers=owner)
    assert schedule.status_code == 200, schedule.text
    assert schedule.json()["outstanding_principal_fen"] == 5_000_000
    assert schedule.json()["line_id"] == line_id

    repaid = api.client.post(
        f"/api/v1/receipts/{receipt_id}/repayments",
        json={"amount_fen": 1_000_000},
        headers={**owner, "Idempotency-Key": "repay-1"},
    )
    assert repaid.status_code == 201, repaid.text
    assert repaid.json()["principal_fen"] == 1_000_000
    assert repaid.json()["outstanding_principal_fen"] == 4_000_000
    after = api.client.get(f"/api/v1/credit-lines/{line_id}", headers=owner).json()
    assert after["available_fen"] == 26_000_000


def test_a_retried_draw_happens_once_and_a_reused_key_with_another_body_conflicts(
    servicing_api: Api,
) -> None:
    api = servicing_api
    line_id, owner = open_line(api)
    first = draw(api, line_id, owner, "k-1", 2_000_000)
    again = draw(api, line_id, owner, "k-1", 2_000_000)
    assert again.status_code == 201, again.text
    assert again.json()["receipt_id"] == first.json()["receipt_id"]
    assert again.json()["replayed"] is True
    assert_error(draw(api, line_id, owner, "k-1", 3_000_000), 409, "idempotency_conflict")
    line = api.client.get(f"/api/v1/credit-lines/{line_id}", headers=owner).json()
    assert line["drawn_fen"] == 2_000_000


def test_money_requests_without_an_idempotency_key_are_refused(servicing_api: Api) -> None:
    api = servicing_api
    line_id, owner = open_line(api)
    response = api.client.post(
        f"/api/v1/credit-lines/{line_id}/draws",
        json={"amount_fen": 100, "maturity_date": "2026-09-01"},
        headers=owner,
    )
    assert_error(response, 422, "validation_error")
    assert_error(draw(api, line_id, owner, "k", 40_000_000), 409, "insufficient_limit")
    assert_error(draw(api, line_id, owner, "k2", -5), 422, "validation_error")


def test_other_applicants_and_partners_do_not_see_a_line_staff_do(servicing_api: Api) -> None:
    api = servicing_api
    line_id, owner = open_line(api)
    receipt_id = draw(api, line_id, owner, "d", 1_000_000).json()["receipt_id"]
    stranger = api.applicant_headers(OTHER_PHONE)
    partner = api.partner_headers("channel-9", extra=(Permission.LINE_READ,))
    for headers in (stranger, partner):
        assert_error(api.client.get(f"/api/v1/credit-lines/{line_id}", headers=headers), 404)
        assert_error(
            api.client.get(f"/api/v1/receipts/{receipt_id}/schedule", headers=headers), 404
        )
    assert_error(draw(api, line_id, stranger, "s", 1_000), 404)
    assert_error(api.client.get("/api/v1/credit-lines/line_nope", headers=owner), 404)
    ops = api.staff_headers(Role.OPERATIONS)
    assert api.client.get(f"/api/v1/credit-lines/{line_id}", headers=ops).status_code == 200


def test_risk_freezes_and_cuts_a_line_and_a_frozen_line_takes_no_draws(
    servicing_api: Api,
) -> None:
    api = servicing_api
    line_id, owner = open_line(api)
    risk = api.staff_headers(Role.RISK_OFFICER)
    reason = {"reason": "tax filings dropped 60%"}
    assert_error(
        api.client.post(f"/api/v1/credit-lines/{line_id}/freeze", json=reason, headers=owner),
        403,
    )
    frozen = api.client.post(f"/api/v1/credit-lines/{line_id}/freeze", json=reason, headers=risk)
    assert frozen.status_code == 200, frozen.text
    assert frozen.json()["status"] == "frozen"
    assert_error(draw(api, line_id, owner, "f", 1_000), 409, "line_frozen")
    api.client.post(f"/api/v1/credit-lines/{line_id}/unfreeze", json=reason, headers=risk)
    cut = api.client.post(
        f"/api/v1/credit-lines/{line_id}/limit-reduction",
        json={"new_limit_fen": 10_000_000, **reason},
        headers=risk,
    )
    assert cut.status_code == 200, cut.text
    assert (cut.json()["status"], cut.json()["limit_fen"]) == ("active", 10_000_000)
    raised = api.client.post(
        f"/api/v1/credit-lines/{line_id}/limit-reduction",
        json={"new_limit_fen": 20_000_000, **reason},
        headers=risk,
    )
    assert_error(raised, 422)


def test_strategies_and_models_are_read_by_risk_not_by_applicants(servicing_api: Api) -> None:
    api = servicing_api
    risk = api.staff_headers(Role.RISK_OFFICER)
    owner = api.applicant_headers()
    assert api.client.get("/api/v1/strategies", headers=risk).json() == []
    assert api.client.get("/api/v1/models", headers=risk).json() == []
    assert_error(api.client.get("/api/v1/strategies/none/1", headers=risk), 404)
    assert_error(api.client.get("/api/v1/models/v-none", headers=risk), 404)
    assert_error(api.client.get("/api/v1/strategies", headers=owner), 403)
    assert_error(api.client.get("/api/v1/models", headers=owner), 403)


def test_without_servicing_wired_its_routes_are_absent(api: Api) -> None:
    paths = api.client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/credit-lines/{line_id}" not in paths
    assert "/api/v1/applications" in paths
