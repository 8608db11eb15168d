"""The health report over HTTP and on the H5 page: consent, roles, numbers, the PDF."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent.parent / "web"))
sys.path.insert(0, str(Path(__file__).parent.parent / "origination"))

from api_support import Api, CapturingSender
from origination_fakes import OTHER_PHONE, PHONE, FakeLineOpener, ScriptedAssessor, fast_hasher
from origination_wiring import migrated_engine

from puhui.adapters.sources.market import MarketDataSource
from puhui.adapters.sources.peers import MarketPeers
from puhui.bootstrap.api import ApiKeys, build_api_dependencies
from puhui.domain.clock import FixedClock
from puhui.domain.origination.decision_record import DecisionEvidence
from puhui.services.advisor.ports import MIN_PEERS
from puhui.services.security.permissions import Role
from puhui.web.app import create_app

ALL = ["registration", "tax", "invoice", "utility", "court", "bureau", "settlement"]
MONTH = "2026-02"
EVIDENCE = DecisionEvidence(
    as_of=date(2026, 3, 2),
    licence_type="bank",
    strategy_name="mse-online-credit",
    strategy_version=1,
    strategy_hash="0" * 64,
    model_name=None,
    model_version=None,
    arm="champion",
    inputs={"need_estimate_fen": None},
    features={},
    feature_source="online",
)


@dataclass
class Site:
    api: Api
    uscc: str
    id_number: str
    market: Path


@pytest.fixture
def site(
    database_url: str,
    clock: FixedClock,
    advisor_market: Path,
    trading_enterprise: tuple[str, str],
) -> Iterator[Site]:
    engine = migrated_engine(database_url)
    sender = CapturingSender()
    assessor = ScriptedAssessor(evidence=EVIDENCE)
    deps = build_api_dependencies(
        engine=engine,
        clock=clock,
        keys=ApiKeys(
            audit_key=b"a" * 32,
            data_key=b"d" * 32,
            jwt_secret=b"j" * 32,
            signing_key_seed=bytes(range(32)),
        ),
        assessor=assessor,
        data_source=MarketDataSource(advisor_market),
        line_opener=FakeLineOpener(),
        otp_sender=sender,
        hasher=fast_hasher(),
    )
    assert deps.advisor is not None
    deps.advisor.peers = MarketPeers(advisor_market)
    client = TestClient(
        create_app(deps), raise_server_exceptions=False, base_url="https://testserver"
    )
    uscc, id_number = trading_enterprise
    try:
        yield Site(
            Api(client, deps, sender, assessor, FakeLineOpener(), clock),
            uscc,
            id_number,
            advisor_market,
        )
    finally:
        client.close()
        engine.dispose()


def _apply(site: Site, scopes: list[str], phone: str = PHONE) -> dict[str, str]:
    owner = site.api.applicant_headers(phone)
    body = {"uscc": site.uscc, "id_number": site.id_number, "phone": phone}
    created = site.api.client.post(
        "/api/v1/applications", json={**body, "requested_amount_fen": 50_000_000}, headers=owner
    )
    assert created.status_code == 201, created.text
    app_id = created.json()["application_id"]
    given = site.api.client.post(
        f"/api/v1/applications/{app_id}/consents",
        json={"scopes": scopes, "purpose": "credit assessment", "valid_days": 30},
        headers=owner,
    )
    assert given.status_code == 201, given.text
    decided = site.api.client.post(f"/api/v1/applications/{app_id}/decision", headers=owner)
    assert decided.status_code == 200, decided.text
    return owner


def _url(site: Site, suffix: str = "") -> str:
    return f"/api/v1/enterprises/{site.uscc}/health-report{suffix}?as_of={MONTH}"


def test_the_owner_reads_a_report_built_from_the_market_rows(site: Site) -> None:
    owner = _apply(site, ALL)
    response = site.api.client.get(_url(site), headers=owner)
    assert response.status_code == 200, response.text
    report = response.json()
    tax = pl.read_parquet(site.market / "tables/tax_monthly/*.parquet").filter(
        pl.col("uscc") == site.uscc
    )
    flows = pl.read_parquet(site.market / "tables/settlement_monthly/*.parquet").filter(
        pl.col("uscc") == site.uscc
    )
    months = report["months"]
    assert len(months) == 24
    assert months[-1]["month"] == "2026-02-01"
    assert months[0]["month"] == "2024-03-01"
    for row in months:
        day = date.fromisoformat(row["month"])
        sales = tax.filter(pl.col("month") == day)["declared_sales_fen"].item()
        inflow = flows.filter(pl.col("month") == day)["inflow_fen"].item()
        outflow = flows.filter(pl.col("month") == day)["outflow_fen"].item()
        assert (row["sales_fen"], row["inflow_fen"], row["net_fen"]) == (
            sales,
            inflow,
            inflow - outflow,
        )
    last_12 = sum(r["sales_fen"] for r in months[-12:])
    assert report["sales"]["last_12_fen"] == last_12
    prior = sum(r["sales_fen"] for r in months[:12])
    assert report["sales"]["yoy"] == pytest.approx(last_12 / prior - 1, abs=1e-4)
    # Peers: a shown cell has at least MIN_PEERS enterprises, a suppressed one says its count.
    for bench in report["benchmarks"]:
        if bench["cell"] is None:
            assert bench["peers"] < MIN_PEERS
        else:
            assert bench["cell"]["peers"] >= MIN_PEERS
            assert bench["cell"]["q1"] <= bench["cell"]["median"] <= bench["cell"]["q3"]
    assert set(report["seasonality"]["index_by_month"]) == {str(m) for m in range(1, 13)}
    assert "2025-01-01" in report["seasonality"]["spring_festival_months"]  # 29 Jan 2025
    forecast = report["forecast"]
    assert [m["horizon"] for m in forecast["months"]] == [1, 2, 3]
    for m in forecast["months"]:
        assert m["net_fen"] == m["inflow_fen"] - m["outflow_fen"]
        assert m["net_low_fen"] <= m["net_high_fen"]
    kinds = [r["kind"] for r in report["reminders"]]
    assert kinds[0] == "tax_due"
    assert report["reminders"][0]["due"] == "2026-03-15"
    limit = report["limit"]
    assert limit["grade"] == "B"  # the stored decision's grade
    assert limit["strategy"].startswith("mse-online-credit")
    verified = (
        sum(r["declared_sales_fen"] for r in tax.sort("month").tail(12).iter_rows(named=True)) // 12
    )
    assert limit["caps"]["affordability"] >= verified * 5 // 2
    assert limit["binding"] in limit["caps"]
    assert limit["levers"]


def test_without_consent_to_tax_and_account_the_report_is_refused_naming_them(
    site: Site,
) -> None:
    owner = _apply(site, ["registration", "court", "bureau"])
    response = site.api.client.get(_url(site), headers=owner)
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["code"] == "consent_required"
    assert body["details"]["missing_scopes"] == ["tax", "settlement"]


def test_only_the_owner_and_staff_see_it_and_bad_months_are_refused(site: Site) -> None:
    _apply(site, ALL)
    stranger = site.api.applicant_headers(OTHER_PHONE)
    assert site.api.client.get(_url(site), headers=stranger).status_code == 404
    staff = site.api.staff_headers(Role.APPROVER)
    assert site.api.client.get(_url(site), headers=staff).status_code == 200
    partner = site.api.partner_headers()
    assert site.api.client.get(_url(site), headers=partner).status_code == 403
    future = site.api.client.get(
        f"/api/v1/enterprises/{site.uscc}/health-report?as_of=2026-03", headers=staff
    )
    assert future.status_code == 422
    assert "2026-02" in future.json()["message"]
    bad = site.api.client.get(
        f"/api/v1/enterprises/{site.uscc}/health-report?as_of=2026-13", headers=staff
    )
    assert bad.status_code == 422
    wrong_id = site.api.client.get(
        "/api/v1/enterprises/NOT-A-USCC/health-report?as_of=2026-02", headers=staff
    )
    assert wrong_id.status_code == 422


def test_the_pdf_is_chinese_text_in_an_embedded_font(site: Site) -> None:
    from pypdf import PdfReader

    owner = _apply(site, ALL)
    response = site.api.client.get(_url(site, ".pdf"), headers=owner)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    for words in (
        "企业经营健康报告",
        "销售与现金流趋势",
        "同业对标",
        "季节性",
        "现金流预测",
        "提醒",
        "如何提高额度",
    ):
        assert words in text, words
    assert site.uscc in text
    fonts = [
        font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()
    ]
    assert fonts
    for font in fonts:
        descendant = (
            font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        )
        descriptor = descendant["/FontDescriptor"].get_object()
        assert any(key in descriptor for key in ("/FontFile2", "/FontFile", "/FontFile3"))


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _sign_in_pages(site: Site, client: TestClient, phone: str = PHONE) -> None:
    page = client.get("/h5/sign-in")
    token = CSRF.search(page.text)
    assert token is not None
    sent = client.post("/h5/sign-in/code", data={"phone": phone, "csrf_token": token.group(1)})
    assert sent.status_code == 200, sent.text
    code = next(c for p, c in reversed(site.api.sender.sent) if p == phone)
    signed = client.post(
        "/h5/sign-in",
        data={"phone": phone, "code": code, "csrf_token": token.group(1), "next": "/h5/health"},
        follow_redirects=False,
    )
    assert signed.status_code == 303


def test_the_h5_page_shows_the_report_in_chinese_and_english(site: Site) -> None:
    _apply(site, ALL)
    client = site.api.client
    _sign_in_pages(site, client)
    page = client.get("/h5/health")
    assert page.status_code == 200, page.text
    for words in ("经营健康", "销售与现金流", "同业", "未来三个月", "提醒", "如何提高额度"):
        assert words in page.text, words
    assert "<svg" in page.text
    assert "<polyline" in page.text
    assert f"/h5/health.pdf?uscc={site.uscc}&amp;as_of={MONTH}" in page.text
    english = client.get("/h5/health?lang=en")
    assert english.status_code == 200
    for words in ("Business health", "Against your peers", "What would raise your limit"):
        assert words in english.text, words
    assert "经营健康" not in english.text
    pdf = client.get(f"/h5/health.pdf?uscc={site.uscc}&as_of={MONTH}")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")


def test_a_loan_officer_reads_the_report_in_the_console_read_only(site: Site) -> None:
    sys.path.insert(0, str(Path(__file__).parent.parent / "web" / "pages"))
    from console_support import staff

    _apply(site, ALL)
    officer = staff(site.api, "officer", Role.APPROVER)
    try:
        page = officer.get(f"/console/enterprises/{site.uscc}/health?as_of={MONTH}")
        assert page.status_code == 200, page.text
        assert "只读" in page.text
        assert "如何提高额度" in page.text
        assert f"/console/enterprises/{site.uscc}/health.pdf?as_of={MONTH}" in page.text
        assert "<form" in page.text  # only the month picker: a GET, nothing to change
        assert 'method="post"' not in page.text.split("<main", 1)[1].split("</main>", 1)[0]
        pdf = officer.get(f"/console/enterprises/{site.uscc}/health.pdf?as_of={MONTH}")
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
    finally:
        officer.close()
