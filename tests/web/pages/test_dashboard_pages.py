"""The portfolio dashboard over HTTP: who may open it, the figures of a chosen date, and a
clear message before the end of day has built any."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent.parent.parent / "reporting"))

from api_support import PASSWORD, Api, build_servicing_api
from small_book import make_book, write_book

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.domain.clock import FixedClock
from puhui.pipelines.eod import run_end_of_day
from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Role
from puhui.web.pages.i18n import yuan

BOOK_DAY = date(2026, 2, 27)
FIRST = BOOK_DAY + timedelta(days=1)
SECOND = FIRST + timedelta(days=1)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CHART = re.compile(r'<script type="application/json" id="(chart-[a-z-]+)">(.*?)</script>', re.S)
NOT_BUILT = "日终尚未生成"


@pytest.fixture
def site(sqlite_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[Api, Engine]]:
    api, engine = build_servicing_api(sqlite_url, clock, tmp_path / "models")
    try:
        yield api, engine  # type: ignore[misc]
    finally:
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def _client(api: Api, role: Role) -> TestClient:
    client = TestClient(api.client.app, base_url="https://testserver")
    username = f"user-{role.value}"
    accounts.create_user(
        api.deps.security, actor=SYSTEM, username=username, password=PASSWORD, role=role
    )
    match = CSRF.search(client.get("/console/sign-in").text)
    assert match is not None
    response = client.post(
        "/console/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": match.group(1)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    return client


def _close_two_days(engine: Engine, clock: FixedClock) -> None:
    write_book(engine, make_book(BOOK_DAY))
    for day in (FIRST, SECOND):
        run_end_of_day(SqlEndOfDayStore(engine, clock=clock), day)


@pytest.mark.parametrize(
    "role", [Role.RISK_OFFICER, Role.OPERATIONS, Role.SUPERVISOR, Role.AUDITOR]
)
def test_readers_of_reports_see_the_entry_and_the_not_built_message(
    site: tuple[Api, Engine], role: Role
) -> None:
    api, _ = site
    client = _client(api, role)
    assert 'href="/console/dashboard"' in client.get("/console/").text
    page = client.get("/console/dashboard")
    assert page.status_code == 200
    assert NOT_BUILT in page.text
    assert 'data-chart="' not in page.text
    english = client.get("/console/dashboard?lang=en")
    assert "End of day has not built the figures yet" in english.text


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.APPROVER, Role.ADMIN])
def test_other_roles_have_no_entry_and_are_refused(site: tuple[Api, Engine], role: Role) -> None:
    api, _ = site
    client = _client(api, role)
    assert "/console/dashboard" not in client.get("/console/").text
    page = client.get("/console/dashboard")
    assert page.status_code == 403
    assert "无权" in page.text


def test_a_signed_out_visitor_is_sent_to_sign_in(site: tuple[Api, Engine]) -> None:
    api, _ = site
    client = TestClient(api.client.app, base_url="https://testserver")
    response = client.get("/console/dashboard", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in?next=/console/dashboard"


def test_the_dashboard_shows_the_latest_figures_with_charts_and_tables(
    site: tuple[Api, Engine],
) -> None:
    api, engine = site
    _close_two_days(engine, api.clock)
    client = _client(api, Role.RISK_OFFICER)
    snapshot = client.get("/api/v1/reports/portfolio", headers=api.staff_headers(Role.AUDITOR))
    total = snapshot.json()["total"]
    page = client.get("/console/dashboard")
    assert page.status_code == 200, page.text
    assert "style=" not in page.text
    assert "<script>" not in page.text
    # The date selector offers the dates that have figures, the latest chosen.
    assert f'<option value="{SECOND}" selected>' in page.text
    assert f'<option value="{FIRST}">' in page.text
    # KPI tiles in yuan with thousands separators.
    outstanding = yuan(total["outstanding_principal_fen"])
    assert "," in outstanding
    assert f'data-kpi="outstanding">¥{outstanding}<' in page.text
    assert f'data-kpi="available">¥{yuan(total["available_fen"])}<' in page.text
    # Every chart's option is JSON, and a table of its figures sits beside it.
    charts = dict(CHART.findall(page.text))
    assert set(charts) >= {
        "chart-balance",
        "chart-approvals",
        "chart-channel",
        "chart-branch",
        "chart-buckets",
        "chart-categories",
        "chart-vintages",
        "chart-predicted",
    }
    for option in charts.values():
        json.loads(option)
    assert page.text.count("<details>") >= len(charts)
    # Products by their code, not their opaque id.
    assert '<th scope="col">PROD_A</th>' in page.text
    # 五级分类 names in Chinese.
    for name in ("正常", "关注", "次级", "可疑", "损失"):
        assert name in page.text
    buckets = json.loads(charts["chart-buckets"])
    principal = [float(d["value"]) for d in buckets["series"][0]["data"]]
    assert sum(principal) == pytest.approx(total["outstanding_principal_fen"] / 1_000_000, abs=0.1)


def test_an_earlier_date_and_a_period_can_be_chosen(site: tuple[Api, Engine]) -> None:
    api, engine = site
    _close_two_days(engine, api.clock)
    client = _client(api, Role.OPERATIONS)
    page = client.get(f"/console/dashboard?as_of={FIRST}&months=3")
    assert page.status_code == 200
    assert f'<option value="{FIRST}" selected>' in page.text
    assert '<option value="3" selected>' in page.text
    assert f"{FIRST - timedelta(days=0):%Y-%m-%d}" in page.text
    # A date without figures says so, beside the dates that have them.
    missing = client.get("/console/dashboard?as_of=2026-01-15")
    assert missing.status_code == 200
    assert "日终尚未生成 2026-01-15 的数据" in missing.text
    assert f'<option value="{SECOND}">' in missing.text
    # Nonsense is refused as a page in the user's language.
    assert client.get("/console/dashboard?as_of=yesterday").status_code == 422
    assert client.get("/console/dashboard?months=7").status_code == 422


def test_the_english_page_keeps_the_five_category_names_in_chinese(
    site: tuple[Api, Engine],
) -> None:
    api, engine = site
    _close_two_days(engine, api.clock)
    client = _client(api, Role.RISK_OFFICER)
    page = client.get("/console/dashboard?lang=en")
    assert "Portfolio dashboard" in page.text
    assert "正常 (Pass)" in page.text
    assert "次级 (Substandard)" in page.text


def test_the_dashboard_flags_renewed_extended_and_restructured_loans(
    site: tuple[Api, Engine],
) -> None:
    api, engine = site
    _close_two_days(engine, api.clock)
    client = _client(api, Role.RISK_OFFICER)
    page = client.get("/console/dashboard?lang=zh")
    assert page.status_code == 200, page.text
    table = page.text.split('id="loan-changes"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', table)
    # One row per kind of change, in the catalog's Chinese; no change yet: zero loans.
    assert rows == [("无还本续贷", "0"), ("展期", "0"), ("重组", "0")]
    report = client.get("/api/v1/reports/portfolio", headers=api.staff_headers(Role.AUDITOR))
    assert [(c["kind"], c["loans"]) for c in report.json()["loan_changes"]] == [
        ("renewal", 0),
        ("extension", 0),
        ("restructuring", 0),
    ]
    english = client.get("/console/dashboard?lang=en").text
    assert "Renewed, extended and restructured loans" in english


def test_a_short_span_shows_approvals_per_day_a_long_one_per_month(
    site: tuple[Api, Engine],
) -> None:
    api, engine = site
    _close_two_days(engine, api.clock)
    client = _client(api, Role.RISK_OFFICER)
    short = client.get("/console/dashboard?months=1&lang=en")
    assert "2026-02-01 to 2026-03-01, per day." in short.text
    days = json.loads(dict(CHART.findall(short.text))["chart-approvals"])["xAxis"]["data"]
    assert days
    assert all("2026-02-01" <= day <= SECOND.isoformat() and len(day) == 10 for day in days)
    long = client.get("/console/dashboard?months=12&lang=en")
    assert "2025-03-01 to 2026-03-01, per month." in long.text
    months = json.loads(dict(CHART.findall(long.text))["chart-approvals"])["xAxis"]["data"]
    assert months == sorted({day[:7] for day in days} | set(months))
    assert all(len(month) == 7 for month in months)
