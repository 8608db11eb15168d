"""The contract PDF from the pages: the owner's own on the H5 pages, any in the console."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from fastapi.testclient import TestClient
from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).parent.parent))

from api_support import PASSWORD, Api
from origination_fakes import OTHER_PHONE, PHONE
from test_contract_pdf_api import _accepted

from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Role

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _browser(api: Api) -> TestClient:
    return TestClient(api.client.app, base_url="https://testserver")


def _owner_signed_in(api: Api, phone: str) -> TestClient:
    client = _browser(api)
    match = CSRF.search(client.get("/h5/sign-in").text)
    assert match is not None
    token = match.group(1)
    client.post("/h5/sign-in/code", data={"phone": phone, "csrf_token": token})
    code = next(c for p, c in reversed(api.sender.sent) if p == phone)
    signed = client.post(
        "/h5/sign-in",
        data={"phone": phone, "code": code, "csrf_token": token, "next": "/h5/"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    return client


def test_the_owner_downloads_the_signed_contract(api: Api) -> None:
    app_id = _accepted(api, api.applicant_headers())
    owner = _owner_signed_in(api, PHONE)
    page = owner.get(f"/h5/apply/{app_id}/contract")
    assert f"/h5/apply/{app_id}/contract.pdf" in page.text
    pdf = owner.get(f"/h5/apply/{app_id}/contract.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert "普惠小微企业授信合同" in text

    stranger = _owner_signed_in(api, OTHER_PHONE)
    # Another owner is not told the application exists.
    assert stranger.get(f"/h5/apply/{app_id}/contract.pdf").status_code == 404


def test_staff_read_a_contract_in_the_console(api: Api) -> None:
    app_id = _accepted(api, api.applicant_headers())
    accounts.create_user(
        api.deps.security, actor=SYSTEM, username="auditor1", password=PASSWORD, role=Role.AUDITOR
    )
    staff = _browser(api)
    match = CSRF.search(staff.get("/console/sign-in").text)
    assert match is not None
    staff.post(
        "/console/sign-in",
        data={"username": "auditor1", "password": PASSWORD, "csrf_token": match.group(1)},
    )
    pdf = staff.get(f"/console/applications/{app_id}/contract.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    # Signed out, the console sends the browser to sign in instead.
    assert (
        _browser(api)
        .get(f"/console/applications/{app_id}/contract.pdf", follow_redirects=False)
        .status_code
        == 303
    )
