"""The pages' foundation over HTTP: headers, cookies, CSRF, faces, languages, catalogs, formats."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent.parent))

from api_support import PASSWORD, Api, build_api
from origination_fakes import OWNER_ID, PHONE, USCC_A

from puhui.domain.clock import FixedClock
from puhui.services.origination.graph_check import NOT_CONFIGURED
from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Role
from puhui.web.pages import catalogs, i18n
from puhui.web.pages.session import Face, safe_next

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def site(sqlite_url: str, clock: FixedClock) -> Iterator[tuple[Api, TestClient]]:
    built, engine = build_api(sqlite_url, clock)
    # Secure cookies travel over https only, as a browser keeps them.
    client = TestClient(built.client.app, base_url="https://testserver")
    try:
        yield built, client
    finally:
        client.close()
        engine.dispose()  # type: ignore[attr-defined]


GRAPH_MISSING = NOT_CONFIGURED.health.to_dict()
"""What the health check says of the graph when no PUHUI_GRAPH_DIR is set."""


def _csrf(client: TestClient, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match is not None
    return match.group(1)


def _sign_in(api: Api, client: TestClient, role: Role = Role.OPERATIONS) -> None:
    accounts.create_user(
        api.deps.security, actor=SYSTEM, username="staff1", password=PASSWORD, role=role
    )
    token = _csrf(client, "/console/sign-in")
    response = client.post(
        "/console/sign-in",
        data={"username": "staff1", "password": PASSWORD, "csrf_token": token, "next": "/console/"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/"


def test_pages_carry_a_strict_content_security_policy(site: tuple[Api, TestClient]) -> None:
    _, client = site
    response = client.get("/console/sign-in")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    # No inline script or style anywhere in the page.
    assert "<script>" not in response.text
    assert "style=" not in response.text


def test_the_api_keeps_its_plain_json_answers(site: tuple[Api, TestClient]) -> None:
    _, client = site
    response = client.get("/api/v1/health")
    assert "content-security-policy" not in response.headers
    assert response.json() == {"status": "ok", "graph": GRAPH_MISSING}


def test_session_cookie_is_httponly_secure_strict_and_scoped(
    site: tuple[Api, TestClient],
) -> None:
    api, client = site
    _sign_in(api, client)
    cookie = next(c for c in client.cookies.jar if c.name == "puhui_console")
    assert cookie.secure
    assert cookie.path == "/console"
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite") == "Strict"
    assert client.get("/console/").status_code == 200


def test_a_form_without_its_csrf_token_is_refused(site: tuple[Api, TestClient]) -> None:
    api, client = site
    accounts.create_user(
        api.deps.security, actor=SYSTEM, username="staff1", password=PASSWORD, role=Role.ADMIN
    )
    _csrf(client, "/console/sign-in")  # the browser has its CSRF cookie
    response = client.post(
        "/console/sign-in",
        data={"username": "staff1", "password": PASSWORD, "csrf_token": "forged.token"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "表单已过期" in response.text
    assert not any(c.name == "puhui_console" for c in client.cookies.jar)


def test_a_signed_out_visitor_is_sent_to_sign_in(site: tuple[Api, TestClient]) -> None:
    _, client = site
    response = client.get("/console/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in?next=/console/"
    htmx = client.get("/console/", headers={"HX-Request": "true"}, follow_redirects=False)
    assert htmx.headers["HX-Redirect"] == "/console/sign-in?next=/console/"


def test_an_applicant_token_does_not_open_the_console(site: tuple[Api, TestClient]) -> None:
    api, client = site
    token = api.applicant_headers()["Authorization"].removeprefix("Bearer ")
    client.cookies.set("puhui_console", token, domain="testserver.local", path="/console")
    response = client.get("/console/", follow_redirects=False)
    assert response.status_code == 403
    assert "无权" in response.text


def test_staff_sign_out_revokes_the_token(site: tuple[Api, TestClient]) -> None:
    api, client = site
    _sign_in(api, client)
    token = next(c.value for c in client.cookies.jar if c.name == "puhui_console")
    response = client.post(
        "/console/sign-out", data={"csrf_token": _csrf(client, "/console/")}, follow_redirects=False
    )
    assert response.status_code == 303
    # The token itself no longer works, even if someone kept a copy of the cookie.
    api_call = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api_call.status_code == 401


def test_language_is_chosen_once_and_remembered(site: tuple[Api, TestClient]) -> None:
    _, client = site
    assert "用户名" in client.get("/console/sign-in").text
    assert "Username" in client.get("/console/sign-in?lang=en").text
    assert "Username" in client.get("/console/sign-in").text
    assert "用户名" in client.get("/console/sign-in?lang=zh-CN").text


def test_errors_on_pages_are_pages(site: tuple[Api, TestClient]) -> None:
    _, client = site
    response = client.get("/console/no-such-page")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "页面不存在" in response.text
    bad_qr = client.get("/h5/?branch=not a code")
    assert bad_qr.status_code == 422
    assert "二维码无效" in bad_qr.text


def test_qr_landing_remembers_channel_and_branch(site: tuple[Api, TestClient]) -> None:
    _, client = site
    response = client.get("/h5/?branch=tz-001&channel=h5_qr")
    assert response.status_code == 200
    assert "TZ-001" in response.text
    cookie = next(c for c in client.cookies.jar if c.name == "puhui_h5_origin")
    assert cookie.value == "h5_qr:TZ-001"
    assert cookie.path == "/h5"


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        ("/console/applications?status=referred", "/console/applications?status=referred"),
        ("https://evil.example/console/", "/console/"),
        ("//evil.example/console/", "/console/"),
        ("/console//evil.example", "/console/"),
        ("/h5/apply", "/console/"),
        (None, "/console/"),
    ],
)
def test_sign_in_returns_only_to_a_page_of_its_face(asked: str | None, expected: str) -> None:
    assert safe_next(asked, Face.CONSOLE) == expected


def test_every_page_message_has_a_chinese_translation() -> None:
    assert catalogs.untranslated() == []


def test_every_translation_keeps_the_messages_placeholders_and_no_stray_percent() -> None:
    assert catalogs.misformatted() == []


@pytest.mark.parametrize(
    ("message", "translation", "bad"),
    [
        ("%(n)s loans", "%(n)s 笔贷款", False),
        ("%(n)s loans", "贷款", True),  # a placeholder lost
        ("Rate, percent", "利率（%）", True),  # a stray % the English message has not
        ("Approved %", "批准 %", False),  # as bare in the message: never formatted
        ("100%% covered", "全额 100%% 担保", False),
    ],
)
def test_the_placeholder_rule(message: str, translation: str, bad: bool) -> None:
    assert catalogs.mismatched(message, translation) is bad


def test_amounts_dates_and_shares_in_the_pages_formats() -> None:
    assert i18n.yuan(123456789) == "1,234,567.89"
    assert i18n.yuan(-5) == "-0.05"
    assert i18n.yuan(150, decimals=False) == "2"
    assert i18n.yuan(None) == "—"
    assert i18n.percent(0.1234) == "12.3%"
    assert i18n.percent(0.0125) == "1.3%"  # half-up, as the charts round
    assert i18n.percent(Decimal("0.0125"), 2) == "1.25%"
    assert i18n.parse_locale("en-GB") == "en"
    assert i18n.parse_locale("fr") == "zh-CN"


def test_an_areas_error_messages_speak_to_its_own_face(site: tuple[Api, TestClient]) -> None:
    _, client = site
    messages = client.app.state.error_messages  # type: ignore[attr-defined]
    # The H5 pages word a duplicate application for an owner; the console keeps staff wording.
    assert "duplicate_application" in messages["/h5"]
    assert "duplicate_application" not in messages["/console"]
    assert "invalid_qr_code" in messages["/h5"]


def test_an_area_words_a_message_its_own_way() -> None:
    # An owner draws (借款) on the H5 pages; the loan officer's ledger shows a disbursement (放款).
    assert i18n.translations("zh-CN", "h5").gettext("Draw") == "借款"
    assert i18n.translations("zh-CN", "lines").gettext("Draw") == "放款"
    # What an area does not hold comes from the others (the layout's "Home").
    assert i18n.translations("zh-CN", "h5").gettext("Home") == "首页"
    assert i18n.translations("en", "h5").gettext("Draw") == "Draw"


@pytest.mark.parametrize("query", ["channel=partner&branch=TZ-001", "channel=h5_qr", "branch="])
def test_a_link_cannot_set_another_channel_or_a_qr_code_without_its_branch(
    site: tuple[Api, TestClient], query: str
) -> None:
    _, client = site
    response = client.get(f"/h5/?{query}")
    assert response.status_code == 422
    assert "二维码无效" in response.text
    assert not any(c.name == "puhui_h5_origin" for c in client.cookies.jar)


def test_a_forged_origin_cookie_counts_as_no_qr_code(site: tuple[Api, TestClient]) -> None:
    _, client = site
    client.cookies.set("puhui_h5_origin", "partner:TZ-001", domain="testserver.local", path="/h5")
    page = client.get("/h5/")
    assert page.status_code == 200
    assert "TZ-001" not in page.text


def test_an_owner_cannot_book_an_application_on_a_partners_channel(
    site: tuple[Api, TestClient],
) -> None:
    api, _ = site
    owner = api.applicant_headers()
    body = {"uscc": USCC_A, "id_number": OWNER_ID, "phone": PHONE, "channel": "partner"}
    response = api.client.post("/api/v1/applications", json=body, headers=owner)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_channel"


def test_times_are_shown_in_the_banks_time() -> None:
    from datetime import UTC, datetime

    assert i18n.iso_date(datetime(2026, 3, 1, 17, 5, tzinfo=UTC)) == "2026-03-02 01:05"
