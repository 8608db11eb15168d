"""The requested term travels from the API to the application and back."""

from __future__ import annotations

from api_support import Api
from origination_fakes import OWNER_ID, PHONE, USCC_A


def test_the_requested_term_is_stored_shown_and_bounded(api: Api) -> None:
    headers = api.applicant_headers()
    body = {"uscc": USCC_A, "id_number": OWNER_ID, "phone": PHONE, "requested_term_months": 12}
    created = api.client.post("/api/v1/applications", json=body, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["requested_term_months"] == 12
    shown = api.client.get(
        f"/api/v1/applications/{created.json()['application_id']}", headers=headers
    )
    assert shown.json()["requested_term_months"] == 12

    for term in (0, 61, "twelve"):
        refused = api.client.post(
            "/api/v1/applications", json={**body, "requested_term_months": term}, headers=headers
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "validation_error"
