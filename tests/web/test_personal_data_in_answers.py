"""Device ids, IP addresses and addresses never leave the API; ID numbers and phones masked."""

from __future__ import annotations

from api_support import Api
from origination_fakes import OWNER_ID, PHONE, USCC_A

from puhui.services.security.permissions import Role

DEVICE = "DV-0a1b2c3d4e5f"
ADDRESS = "深圳市南山区科技园南区 12 栋"
BODY = {
    "uscc": USCC_A,
    "id_number": OWNER_ID,
    "phone": PHONE,
    "requested_amount_fen": 20_000_000,
    "device_id": DEVICE,
    "address": ADDRESS,
}
SCOPES = ["registration", "tax", "bureau"]


def test_no_answer_carries_the_device_address_or_clear_identifiers(api: Api) -> None:
    owner = api.applicant_headers()
    created = api.client.post("/api/v1/applications", json=BODY, headers=owner)
    assert created.status_code == 201, created.text
    app_id = created.json()["application_id"]
    api.client.post(
        f"/api/v1/applications/{app_id}/consents",
        json={"scopes": SCOPES, "purpose": "credit assessment", "valid_days": 30},
        headers=owner,
    )
    api.client.post(f"/api/v1/applications/{app_id}/decision", headers=owner)
    answers = [created.text]
    staff = {
        role: api.staff_headers(role) for role in Role if role not in (Role.APPLICANT, Role.PARTNER)
    }
    for headers in (owner, *staff.values()):
        for path in (f"/api/v1/applications/{app_id}", f"/api/v1/applications/{app_id}/decision"):
            response = api.client.get(path, headers=headers)
            if response.status_code == 200:
                answers.append(response.text)
    staff_list = api.client.get("/api/v1/applications", headers=staff[Role.ADMIN])
    assert staff_list.status_code == 200
    answers.append(staff_list.text)
    assert len(answers) >= 4
    for text in answers:
        for clear in (DEVICE, ADDRESS, OWNER_ID, PHONE, "testclient"):
            assert clear not in text
    detail = api.client.get(f"/api/v1/applications/{app_id}", headers=owner).json()
    assert detail["phone_masked"] == PHONE[:3] + "****" + PHONE[-4:]
