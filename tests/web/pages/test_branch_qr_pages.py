"""The console's branch QR codes: who may print them, what they encode, bad codes."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent.parent))

from api_support import PASSWORD, Api, build_api

from puhui.domain.clock import FixedClock
from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Role

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def api(sqlite_url: str, clock: FixedClock) -> Iterator[Api]:
    built, engine = build_api(sqlite_url, clock)
    try:
        yield built
    finally:
        engine.dispose()  # type: ignore[attr-defined]


def _signed_in(api: Api, role: Role) -> TestClient:
    client = TestClient(api.client.app, base_url="https://testserver")
    name = f"user-{role.value}"
    accounts.create_user(
        api.deps.security, actor=SYSTEM, username=name, password=PASSWORD, role=role
    )
    match = CSRF.search(client.get("/console/sign-in").text)
    assert match is not None
    response = client.post(
        "/console/sign-in",
        data={"username": name, "password": PASSWORD, "csrf_token": match.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return client


def test_an_account_manager_makes_the_code_of_a_branch(api: Api) -> None:
    client = _signed_in(api, Role.ACCOUNT_MANAGER)
    page = client.get("/console/qr?branch=tz-001")
    assert page.status_code == 200
    assert "https://testserver/h5/?branch=TZ-001&amp;channel=h5_qr" in page.text
    image = client.get("/console/qr/code.png?branch=TZ-001&download=1")
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert image.headers["content-disposition"] == 'attachment; filename="qr-TZ-001.png"'


def test_the_configured_public_address_is_what_the_code_opens(api: Api) -> None:
    from dataclasses import replace

    api.client.app.state.deps = replace(api.deps, public_base_url="https://loans.example.cn")
    client = _signed_in(api, Role.OPERATIONS)
    assert "https://loans.example.cn/h5/?branch=VP-7" in client.get("/console/qr?branch=VP-7").text


def test_a_bad_branch_code_is_explained(api: Api) -> None:
    client = _signed_in(api, Role.ADMIN)
    page = client.get("/console/qr?branch=-x")
    assert page.status_code == 200
    assert "网点代码为 2 至 16 位大写字母" in page.text
    assert client.get("/console/qr/code.png?branch=-x").status_code == 422


def test_roles_that_do_not_meet_owners_cannot_print_codes(api: Api) -> None:
    client = _signed_in(api, Role.AUDITOR)
    assert client.get("/console/qr?branch=TZ-001").status_code == 403
    assert "二维码" not in client.get("/console/").text
