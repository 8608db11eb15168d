"""An application records its channel and branch; staff list applications by them."""

from __future__ import annotations

from api_support import Api
from origination_fakes import OTHER_PHONE, OWNER_ID, PHONE, USCC_A, USCC_B

from puhui.services.security.permissions import Role

APPS = "/api/v1/applications"


def _body(**extra: object) -> dict[str, object]:
    return {"uscc": USCC_A, "id_number": OWNER_ID, "phone": PHONE, **extra}


def test_a_qr_application_keeps_its_channel_and_branch_and_staff_filter_by_them(
    api_on_each_database: Api,
) -> None:
    api = api_on_each_database
    owner = api.applicant_headers()
    created = api.client.post(
        APPS, json=_body(channel="h5_qr", branch_code="tz-jy01"), headers=owner
    )
    assert created.status_code == 201, created.text
    assert created.json()["channel"] == "h5_qr"
    assert created.json()["branch_code"] == "TZ-JY01"
    app_id = created.json()["application_id"]
    shown = api.client.get(f"{APPS}/{app_id}", headers=owner).json()
    assert (shown["channel"], shown["branch_code"]) == ("h5_qr", "TZ-JY01")

    manager = api.staff_headers(Role.ACCOUNT_MANAGER)
    other = api.client.post(
        APPS,
        json={"uscc": USCC_B, "id_number": OWNER_ID, "phone": OTHER_PHONE},
        headers=manager,
    )
    assert other.status_code == 201, other.text
    assert (other.json()["channel"], other.json()["branch_code"]) == ("branch", None)

    def listed(query: str) -> list[str]:
        response = api.client.get(f"{APPS}?{query}", headers=manager)
        assert response.status_code == 200, response.text
        return [a["application_id"] for a in response.json()]

    assert listed("channel=h5_qr") == [app_id]
    assert listed("branch_code=TZ-JY01") == [app_id]
    assert listed("branch_code=tz-jy01&channel=h5_qr") == [app_id]
    assert listed("channel=branch") == [other.json()["application_id"]]
    assert listed("channel=partner") == []
    assert len(listed("")) == 2


def test_unknown_channels_and_malformed_branch_codes_are_refused_with_422(api: Api) -> None:
    owner = api.applicant_headers()
    for extra in (
        {"channel": "wechat"},
        {"channel": "h5_qr", "branch_code": "X"},
        {"channel": "h5_qr", "branch_code": "TZ_JY01"},
        {"channel": "h5_qr", "branch_code": "A" * 17},
        {"channel": "h5_qr", "branch_code": "-TZ"},
        {"branch_code": 42},
    ):
        refused = api.client.post(APPS, json=_body(**extra), headers=owner)
        assert refused.status_code == 422, (extra, refused.text)
        assert refused.json()["code"] == "validation_error"
    staff = api.staff_headers(Role.APPROVER)
    for query in ("channel=wechat", "branch_code=%E6%B1%9F", "branch_code=A"):
        assert api.client.get(f"{APPS}?{query}", headers=staff).status_code == 422


def test_a_qr_code_application_must_name_its_branch(api: Api) -> None:
    refused = api.client.post(APPS, json=_body(channel="h5_qr"), headers=api.applicant_headers())
    assert refused.status_code == 422
    assert refused.json()["code"] == "invalid_branch_code"


def test_the_channel_defaults_by_role_and_a_partner_cannot_claim_another(api: Api) -> None:
    owner = api.applicant_headers()
    created = api.client.post(APPS, json=_body(), headers=owner)
    assert created.status_code == 201, created.text
    assert (created.json()["channel"], created.json()["branch_code"]) == ("api", None)

    partner = api.partner_headers()
    body = {"uscc": USCC_B, "id_number": OWNER_ID, "phone": OTHER_PHONE}
    claimed = api.client.post(
        APPS, json={**body, "channel": "h5_qr", "branch_code": "TZ01"}, headers=partner
    )
    assert claimed.status_code == 422
    assert claimed.json()["code"] == "invalid_channel"
    referred = api.client.post(APPS, json={**body, "branch_code": "TZ01"}, headers=partner)
    assert referred.status_code == 201, referred.text
    assert (referred.json()["channel"], referred.json()["branch_code"]) == ("partner", "TZ01")
