"""Identifiers written in full-width or other compatibility forms are the same person."""

from __future__ import annotations

from api_support import Api
from origination_fakes import OWNER_ID, PHONE, USCC_A

from puhui.services.security.permissions import Role

FULL_WIDTH = str.maketrans({str(n): chr(0xFF10 + n) for n in range(10)} | {"X": "Ｘ"})
SCOPES = ["registration", "tax", "invoice", "utility", "court", "bureau", "settlement"]


def test_a_full_width_copy_of_a_listed_id_number_is_declined_as_the_listed_person(
    api: Api,
) -> None:
    risk = api.staff_headers(Role.RISK_OFFICER)
    listed = api.client.post(
        "/api/v1/fraud-lists/executed_person/entries",
        json={"id_number": OWNER_ID, "note": "被执行人"},
        headers=risk,
    )
    assert listed.status_code == 201, listed.text
    owner = api.applicant_headers()
    body = {
        "uscc": USCC_A,
        "id_number": OWNER_ID.translate(FULL_WIDTH),
        "phone": PHONE.translate(FULL_WIDTH),
        "requested_amount_fen": 20_000_000,
    }
    created = api.client.post("/api/v1/applications", json=body, headers=owner)
    assert created.status_code == 201, created.text
    app_id = created.json()["application_id"]
    api.client.post(
        f"/api/v1/applications/{app_id}/consents",
        json={"scopes": SCOPES, "purpose": "credit assessment", "valid_days": 30},
        headers=owner,
    )
    decided = api.client.post(f"/api/v1/applications/{app_id}/decision", headers=owner)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "declined"
    reasons = [r["code"] for r in decided.json()["decision"]["reasons"]]
    assert "AF03_EXECUTED_PERSON" in reasons


def test_an_id_number_in_another_script_is_refused_by_name(api: Api) -> None:
    arabic_indic = str.maketrans({str(n): chr(0x0660 + n) for n in range(10)})
    body = {
        "uscc": USCC_A,
        "id_number": OWNER_ID.translate(arabic_indic),
        "phone": PHONE,
    }
    refused = api.client.post("/api/v1/applications", json=body, headers=api.applicant_headers())
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "invalid_identifier"
