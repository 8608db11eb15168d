"""The signed contract as a PDF: Chinese that any viewer shows, read only by those allowed."""

from __future__ import annotations

import io
import re
from typing import Any

from api_support import Api
from origination_fakes import OTHER_PHONE, OWNER_ID, PHONE, USCC_A
from pypdf import PdfReader

from puhui.domain.privacy import mask_id_number
from puhui.services.security.permissions import Role

BODY = {"uscc": USCC_A, "id_number": OWNER_ID, "phone": PHONE, "requested_amount_fen": 20_000_000}
SCOPES = ["registration", "tax", "invoice", "utility", "court", "bureau", "settlement"]


def _accepted(api: Api, owner: dict[str, str]) -> str:
    app_id = str(
        api.client.post("/api/v1/applications", json=BODY, headers=owner).json()["application_id"]
    )
    consent = {"scopes": SCOPES, "purpose": "credit assessment", "valid_days": 30}
    assert (
        api.client.post(
            f"/api/v1/applications/{app_id}/consents", json=consent, headers=owner
        ).status_code
        == 201
    )
    assert (
        api.client.post(f"/api/v1/applications/{app_id}/decision", headers=owner).json()["status"]
        == "offered"
    )
    accepted = api.client.post(f"/api/v1/applications/{app_id}/acceptance", headers=owner)
    assert accepted.status_code == 200, accepted.text
    return app_id


def _fonts(reader: PdfReader) -> list[dict[str, Any]]:
    found = []
    for page in reader.pages:
        for reference in page["/Resources"]["/Font"].values():
            font = reference.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            found.append({"name": str(font["/BaseFont"]), "descriptor": descriptor.get_object()})
    return found


def test_the_owner_reads_the_contract_as_a_pdf_with_an_embedded_chinese_font(
    api_on_each_database: Api,
) -> None:
    api = api_on_each_database
    owner = api.applicant_headers()
    app_id = _accepted(api, owner)
    contract = api.client.get(f"/api/v1/applications/{app_id}/contract", headers=owner).json()

    response = api.client.get(f"/api/v1/applications/{app_id}/contract.pdf", headers=owner)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert "no-store" in response.headers["cache-control"]
    assert response.content.startswith(b"%PDF-")

    reader = PdfReader(io.BytesIO(response.content))
    fonts = _fonts(reader)
    assert fonts
    for font in fonts:
        # Embedded (a font file in the descriptor) and subset (a "ABCDEF+" tag on the name).
        assert "/FontFile2" in font["descriptor"], font["name"]
        assert re.match(r"^/[A-Z]{6}\+", font["name"]), font["name"]

    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "普惠小微企业授信合同" in text
    assert "Puhui MSE Credit Line Agreement" in text
    assert contract["contract_no"] in text
    assert "人民币 300,000.00 元" in text  # the offer's 30,000,000 fen
    assert "4.35%" in text
    assert "12 个月" in text
    assert api.clock.today().isoformat() in text
    assert contract["sha256"] in text
    assert mask_id_number(OWNER_ID) in text
    assert OWNER_ID not in text


def test_only_those_who_may_read_the_application_get_its_contract(api: Api) -> None:
    owner = api.applicant_headers()
    app_id = _accepted(api, owner)
    url = f"/api/v1/applications/{app_id}/contract.pdf"

    stranger = api.client.get(url, headers=api.applicant_headers(OTHER_PHONE))
    assert stranger.status_code == 404
    assert stranger.json()["code"] == "not_found"
    assert api.client.get(url, headers=api.partner_headers()).status_code == 404
    assert api.client.get(url).status_code == 401
    approver = api.client.get(url, headers=api.staff_headers(Role.APPROVER))
    assert approver.status_code == 200
    assert approver.content.startswith(b"%PDF-")


def test_an_application_without_a_contract_has_no_pdf(api: Api) -> None:
    owner = api.applicant_headers()
    app_id = api.client.post("/api/v1/applications", json=BODY, headers=owner).json()[
        "application_id"
    ]
    missing = api.client.get(f"/api/v1/applications/{app_id}/contract.pdf", headers=owner)
    assert missing.status_code == 404
    assert missing.json()["message"] == "the application has no contract yet"
