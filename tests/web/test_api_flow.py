"""The three-step application through HTTP, errors as {code, message, details}, idempotency."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from api_support import Api
from origination_fakes import OTHER_PHONE, OWNER_ID, PHONE, USCC_A, USCC_B

from puhui.domain.origination.assessment import Outcome
from puhui.services.security.permissions import Role

BODY = {"uscc": USCC_A, "id_number": OWNER_ID, "phone": PHONE, "requested_amount_fen": 20_000_000}
SCOPES = ["registration", "tax", "invoice", "utility", "court", "bureau", "settlement"]


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert isinstance(body["details"], dict)
    if code is not None:
        assert body["code"] == code
    return body


def test_three_steps_from_application_to_open_credit_line(api_on_each_database: Api) -> None:
    api = api_on_each_database
    owner = api.applicant_headers()
    created = api.client.post("/api/v1/applications", json=BODY, headers=owner)
    assert created.status_code == 201, created.text
    app = created.json()
    assert app["status"] == "created"
    assert app["phone_masked"] == "138****5678"
    assert OWNER_ID not in created.text
    assert PHONE not in created.text
    app_id = app["application_id"]

    consent = api.client.post(
        f"/api/v1/applications/{app_id}/consents",
        json={"scopes": SCOPES, "purpose": "credit assessment", "valid_days": 30},
        headers=owner,
    )
    assert consent.status_code == 201, consent.text
    decided = api.client.post(f"/api/v1/applications/{app_id}/decision", headers=owner)
    assert decided.status_code == 200, decided.text
    detail = decided.json()
    assert detail["status"] == "offered"
    assert detail["offer"]["limit_fen"] == 30_000_000
    assert detail["offer"]["annual_rate"] == "0.0435"
    assert detail["decision"]["trace"] == {}  # model internals are for staff only
    assert detail["consents"][0]["scopes"] == sorted(SCOPES)

    accepted = api.client.post(f"/api/v1/applications/{app_id}/acceptance", headers=owner)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "line_opened"
    assert accepted.json()["credit_line_id"] == "line_0001"
    contract = api.client.get(f"/api/v1/applications/{app_id}/contract", headers=owner).json()
    assert contract["signing_key_id"].startswith("ed25519:")
    assert OWNER_ID not in contract["text"]

    ops = api.staff_headers(Role.OPERATIONS)
    decision = api.client.get(f"/api/v1/applications/{app_id}/decision", headers=ops).json()
    assert decision["outcome"] == "approve"
    assert decision["trace"]["anti_fraud"] == []


def test_referral_is_decided_by_an_approver_not_the_owning_manager(api: Api) -> None:
    api.assessor.outcome = Outcome.REFER
    manager = api.staff_headers(Role.ACCOUNT_MANAGER)
    created = api.client.post("/api/v1/applications", json=BODY, headers=manager).json()
    owner = api.applicant_headers()
    app_id = created["application_id"]
    api.client.post(
        f"/api/v1/applications/{app_id}/consents",
        json={"scopes": SCOPES, "purpose": "credit"},
        headers=owner,
    )
    referred = api.client.post(f"/api/v1/applications/{app_id}/decision", headers=manager)
    assert referred.json()["status"] == "referred"
    assert referred.json()["decision"]["reasons"][0]["code"] == "RF01_BORDERLINE"
    review = {"approve": False, "note": "cash flow does not support the limit"}
    assert_error(
        api.client.post(f"/api/v1/applications/{app_id}/review", json=review, headers=manager),
        403,
        "forbidden",
    )
    approver = api.staff_headers(Role.APPROVER)
    declined = api.client.post(
        f"/api/v1/applications/{app_id}/review", json=review, headers=approver
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["status"] == "declined"
    reasons = declined.json()["decision"]["reasons"]
    assert reasons[-1] == {
        "code": "MR01_MANUAL_DECLINE",
        "zh": "人工审批拒绝",
        "en": "declined on manual review",
    }


def test_same_idempotency_key_and_body_replays_the_response(api: Api) -> None:
    owner = api.applicant_headers()
    headers = {**owner, "Idempotency-Key": "create-1"}
    first = api.client.post("/api/v1/applications", json=BODY, headers=headers)
    second = api.client.post("/api/v1/applications", json=BODY, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    clash = api.client.post(
        "/api/v1/applications", json={**BODY, "requested_amount_fen": 1}, headers=headers
    )
    assert_error(clash, 409, "idempotency_conflict")


def test_duplicate_open_application_is_a_conflict(api: Api) -> None:
    owner = api.applicant_headers()
    assert api.client.post("/api/v1/applications", json=BODY, headers=owner).status_code == 201
    body = assert_error(
        api.client.post("/api/v1/applications", json=BODY, headers=owner),
        409,
        "duplicate_application",
    )
    assert OWNER_ID not in str(body)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"uscc": USCC_A[:-1] + "0"}, "invalid_identifier"),
        ({"id_number": OWNER_ID[:-1] + "1"}, "invalid_identifier"),
        ({"id_number": "11010519491331002X"}, "invalid_identifier"),
        ({"phone": "23812345678"}, "invalid_identifier"),
        ({"requested_amount_fen": 0}, "validation_error"),
        ({"requested_amount_fen": "lots"}, "validation_error"),
        ({"requested_amount_fen": 10**30}, "validation_error"),
        ({"requested_amount_fen": 12.5}, "validation_error"),
        ({"uscc": None}, "validation_error"),
        ({"unexpected": 1}, "validation_error"),
    ],
)
def test_bad_input_is_422_with_code_message_details(
    api: Api, change: dict[str, Any], code: str
) -> None:
    owner = api.applicant_headers()
    response = api.client.post("/api/v1/applications", json={**BODY, **change}, headers=owner)
    assert_error(response, 422, code)
    assert OWNER_ID not in response.text


def test_malformed_json_and_wrong_content_are_422_not_500(api: Api) -> None:
    owner = api.applicant_headers()
    response = api.client.post(
        "/api/v1/applications",
        content=b"{not json",
        headers={**owner, "Content-Type": "application/json"},
    )
    assert_error(response, 422, "validation_error")
    assert_error(api.client.post("/api/v1/applications", json=[1, 2], headers=owner), 422)


def test_unknown_application_and_route_are_404(api: Api) -> None:
    ops = api.staff_headers(Role.OPERATIONS)
    assert_error(api.client.get("/api/v1/applications/app_nope", headers=ops), 404, "not_found")
    assert_error(api.client.get("/api/v1/nothing-here", headers=ops), 404, "not_found")


def test_another_applicants_application_is_404_for_them(api: Api) -> None:
    owner = api.applicant_headers()
    app_id = api.client.post("/api/v1/applications", json=BODY, headers=owner).json()[
        "application_id"
    ]
    stranger = api.applicant_headers(OTHER_PHONE)
    assert_error(api.client.get(f"/api/v1/applications/{app_id}", headers=stranger), 404)


def test_missing_or_bad_credentials_are_401(api: Api) -> None:
    assert_error(api.client.get("/api/v1/applications"), 401, "unauthenticated")
    bad = {"Authorization": "Bearer not.a.token"}
    assert_error(api.client.get("/api/v1/applications", headers=bad), 401)
    assert_error(api.client.get("/api/v1/me", headers={"X-API-Key": "pk_x_y"}), 401)
    wrong = api.client.post("/api/v1/auth/token", data={"username": "x", "password": "y"})
    assert_error(wrong, 401)


def test_login_and_codes_are_rate_limited_with_429(api: Api) -> None:
    for _ in range(5):
        api.client.post("/api/v1/auth/token", data={"username": "ops", "password": "nope"})
    limited = api.client.post("/api/v1/auth/token", data={"username": "ops", "password": "x"})
    assert_error(limited, 429, "rate_limited")
    assert int(limited.headers["Retry-After"]) > 0
    for _ in range(3):
        api.client.post("/api/v1/auth/otp", json={"phone": OTHER_PHONE})
    assert_error(api.client.post("/api/v1/auth/otp", json={"phone": OTHER_PHONE}), 429)


def test_partner_sees_only_its_own_referrals(api: Api) -> None:
    partner = api.partner_headers("channel-1")
    other = api.partner_headers("channel-2")
    created = api.client.post("/api/v1/applications", json=BODY, headers=partner)
    assert created.status_code == 201, created.text
    assert created.json()["partner_id"] == "channel-1"
    app_id = created.json()["application_id"]
    assert api.client.get(f"/api/v1/applications/{app_id}", headers=partner).status_code == 200
    assert_error(api.client.get(f"/api/v1/applications/{app_id}", headers=other), 404)
    mine = api.client.get("/api/v1/applications", headers=other).json()
    assert mine == []
    body_b = {**BODY, "uscc": USCC_B}
    assert api.client.post("/api/v1/applications", json=body_b, headers=other).status_code == 201


def test_openapi_document_is_published(api: Api) -> None:
    doc = api.client.get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "Puhui open API"
    for path in (
        "/api/v1/applications",
        "/api/v1/applications/{application_id}/consents",
        "/api/v1/applications/{application_id}/decision",
        "/api/v1/applications/{application_id}/acceptance",
        "/api/v1/auth/token",
    ):
        assert path in doc["paths"]
    assert "OAuth2PasswordBearer" in doc["components"]["securitySchemes"]


def test_no_clear_personal_data_in_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    owner = api.applicant_headers()
    app_id = api.client.post("/api/v1/applications", json=BODY, headers=owner).json()[
        "application_id"
    ]
    api.client.post("/api/v1/applications", json=BODY, headers=owner)
    api.client.post(
        f"/api/v1/applications/{app_id}/consents",
        json={"scopes": SCOPES, "purpose": "credit"},
        headers=owner,
    )
    api.client.post(f"/api/v1/applications/{app_id}/decision", headers=owner)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert OWNER_ID not in logged
    assert PHONE not in logged
