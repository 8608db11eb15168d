"""The console's partners page: agreements with each partner's position, zh-CN and English;
risk officers create and activate agreements, operations run the day's settlement, and a
refusal changes nothing."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "web"))
sys.path.insert(0, str(Path(__file__).parent.parent / "web" / "pages"))
sys.path.insert(0, str(Path(__file__).parent.parent / "origination"))

from api_support import Api, build_servicing_api
from console_support import CSRF, staff
from fastapi.testclient import TestClient
from httpx import Response
from partner_support import joint

from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.clock import FixedClock
from puhui.domain.lending.product import EarlyRepaymentMode, LoanProduct, RepaymentMethod
from puhui.domain.partners.agreements import AgreementStatus
from puhui.services.partners.access import PartnerAccess
from puhui.services.security.permissions import Role
from puhui.services.servicing.products import create_product
from puhui.services.servicing.term_loans import disburse_term_loan

LOAN_DAY = date(2026, 3, 2)
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
TERMS = {
    "agreement_id": "AG-NEW",
    "partner_id": "P-NEW",
    "partner_name": "New Partner Bank",
    "kind": "joint-lending",
    "funding_share": "30",
    "approver": "both",
    "max_outstanding": "0",
    "max_portfolio_share": "12.5",
    "fee_per_loan": "0",
    "fee_interest_share": "0",
    "valid_from": "2026-01-01",
    "valid_to": "2027-12-31",
}


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[Api, object]]:
    built, engine = build_servicing_api(database_url, clock, tmp_path)
    try:
        yield built, engine
    finally:
        built.client.close()
        engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def api(world: tuple[Api, object]) -> Api:
    return world[0]


def _partners(api: Api) -> PartnerAccess:
    partners = api.deps.partners
    assert partners is not None
    return partners


def _post(browser: TestClient, path: str, form: dict[str, str]) -> Response:
    """Post a form of the partners page as the browser would: its CSRF token and form key."""
    page = browser.get("/console/partners?lang=en").text
    csrf, key = CSRF.search(page), KEY.search(page)
    assert csrf is not None
    fields = {"csrf_token": csrf.group(1), **form}
    if key is not None:
        fields.setdefault("idempotency_key", key.group(1))
    return browser.post(path, data=fields, follow_redirects=False)


def _disburse(engine: object, clock: FixedClock, principal_fen: int) -> str:
    def units() -> ServicingUnitOfWork:
        return ServicingUnitOfWork(engine, clock=clock, audit_key=b"a" * 32)  # type: ignore[arg-type]

    product = LoanProduct(
        code="TERM-EI",
        name="term",
        method=RepaymentMethod.EQUAL_INSTALMENT,
        min_annual_rate=Decimal("0.03"),
        max_annual_rate=Decimal("0.18"),
        min_term_months=1,
        max_term_months=36,
        min_amount_fen=100_00,
        max_amount_fen=10_000_000_00,
        penalty_uplift=Decimal("0.5"),
        early_repayment=EarlyRepaymentMode.REDUCE_INSTALMENT,
    )
    return disburse_term_loan(
        units,
        enterprise_id="91350100M000100Y43",
        product_id=create_product(units, product, actor="ops"),
        principal_fen=principal_fen,
        annual_rate=Decimal("0.0435"),
        term_months=12,
        on=LOAN_DAY,
        idempotency_key="loan-1",
        actor="ops",
    ).loan_id


def test_staff_see_agreements_and_positions_in_both_languages(api: Api) -> None:
    partners = api.deps.partners
    assert partners is not None
    partners.service.create_agreement(joint("0.3"), actor="risk")
    browser = staff(api, "ops1", Role.OPERATIONS)
    chinese = browser.get("/console/partners?lang=zh-CN")
    assert chinese.status_code == 200
    assert "联合贷款" in chinese.text
    assert "AG-JL-1" in chinese.text
    assert "30%" in chinese.text
    # The terms of each agreement, its position and each partner's, in tables that fit.
    assert "各协议头寸" in chinese.text
    assert 'data-agreement="AG-JL-1"' in chinese.text
    assert "合作方与协议" in chinese.text
    english = browser.get("/console/partners?lang=en")
    assert "Joint lending" in english.text
    assert "Principal outstanding (yuan)" in english.text


def test_the_page_needs_a_signed_in_staff_user(api: Api) -> None:
    anonymous = api.client.get("/console/partners", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)


def test_staff_download_an_agreements_settlement_file_of_a_day(api: Api) -> None:
    partners = api.deps.partners
    assert partners is not None
    partners.service.create_agreement(joint("0.3"), actor="risk")
    browser = staff(api, "ops1", Role.OPERATIONS)
    page = browser.get("/console/partners?lang=zh-CN")
    assert 'action="/console/partners/AG-JL-1/settlement-file"' in page.text
    assert "下载 CSV" in page.text
    got = browser.get("/console/partners/AG-JL-1/settlement-file?on=2026-03-02")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"] == (
        'attachment; filename="settlement-AG-JL-1-2026-03-02.csv"'
    )
    # The partner's own file of that day, byte for byte.
    assert got.text == partners.service.settlement_file("AG-JL-1", date(2026, 3, 2))
    assert got.text.startswith("settled_on,agreement_id,loan_id,component,")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/console/partners/AG-JL-1/settlement-file", 422),
        ("/console/partners/AG-JL-1/settlement-file?on=2026-02-30", 422),
        ("/console/partners/AG-NONE/settlement-file?on=2026-03-02", 404),
    ],
)
def test_a_file_without_a_valid_date_or_of_an_unknown_agreement_is_refused(
    api: Api, path: str, status: int
) -> None:
    partners = api.deps.partners
    assert partners is not None
    partners.service.create_agreement(joint("0.3"), actor="risk")
    browser = staff(api, "ops1", Role.OPERATIONS)
    refused = browser.get(path + ("&" if "?" in path else "?") + "lang=en")
    assert refused.status_code == status
    assert "settled_on,agreement_id" not in refused.text


def test_a_risk_officer_creates_a_draft_agreement_then_activates_it(api: Api) -> None:
    risk = staff(api, "liu", Role.RISK_OFFICER)
    created = _post(risk, "/console/partners/agreements", TERMS)
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/console/partners?done=created"
    stored = _partners(api).service.agreement("AG-NEW")
    assert stored.status is AgreementStatus.DRAFT
    assert stored.funding_share == Decimal("0.3")
    assert stored.limits.max_portfolio_share == Decimal("0.125")
    page = risk.get("/console/partners?done=created&lang=en").text
    assert "The agreement is created as a draft" in page
    assert 'data-status="draft"' in page
    assert 'action="/console/partners/agreements/AG-NEW/activate"' in page
    assert "New Partner Bank" in page

    activated = _post(risk, "/console/partners/agreements/AG-NEW/activate", {})
    assert activated.status_code == 303
    assert _partners(api).service.agreement("AG-NEW").status is AgreementStatus.ACTIVE
    page = risk.get("/console/partners?done=activated&lang=en").text
    assert 'data-status="active"' in page
    assert "/console/partners/agreements/AG-NEW/activate" not in page


def test_sending_the_create_form_twice_records_one_agreement(api: Api) -> None:
    risk = staff(api, "liu", Role.RISK_OFFICER)
    page = risk.get("/console/partners").text
    csrf, key = CSRF.search(page), KEY.search(page)
    assert csrf is not None
    assert key is not None
    form = {"csrf_token": csrf.group(1), "idempotency_key": key.group(1), **TERMS}
    first = risk.post("/console/partners/agreements", data=form, follow_redirects=False)
    again = risk.post("/console/partners/agreements", data=form, follow_redirects=False)
    assert (first.status_code, again.status_code) == (303, 303)
    assert [a.agreement_id for a in _partners(api).service.agreements()] == ["AG-NEW"]
    other = {**form, "partner_name": "Someone Else"}
    assert risk.post("/console/partners/agreements", data=other).status_code == 409


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"funding_share": "thirty"},
            "Partner&#39;s funding share, percent: A share is a percentage from 0 to 100",
        ),
        ({"funding_share": "80"}, "The partner may fund at most 70%"),
        (
            {"max_portfolio_share": "120"},
            "Maximum share of the book, percent: A share is a percentage",
        ),
        ({"fee_per_loan": "1.234"}, "Fee per loan (yuan): The amount is not valid."),
        ({"valid_from": "2026-02-30"}, "Valid from: The date is not valid."),
        ({"partner_name": " "}, "Partner name: Some of what you entered is not valid."),
        ({"partner_id": "P NEW"}, "Partner id: An identifier is not valid."),
        ({"kind": "facilitation"}, "The agreement&#39;s terms are not valid."),
    ],
)
def test_bad_terms_are_refused_with_a_message_and_nothing_is_created(
    api: Api, change: dict[str, str], message: str
) -> None:
    risk = staff(api, "liu", Role.RISK_OFFICER)
    refused = _post(risk, "/console/partners/agreements?lang=en", {**TERMS, **change})
    assert refused.status_code == 422
    assert message in refused.text
    assert _partners(api).service.agreements() == []
    # What was typed stays in the form, to be corrected.
    assert 'value="AG-NEW"' in refused.text


def test_activating_an_unknown_agreement_is_404(api: Api) -> None:
    risk = staff(api, "liu", Role.RISK_OFFICER)
    refused = _post(risk, "/console/partners/agreements/AG-NONE/activate?lang=en", {})
    assert refused.status_code == 404
    assert "There is no agreement with this id." in refused.text


def test_operations_may_not_create_or_activate_and_see_no_such_forms(api: Api) -> None:
    _partners(api).service.create_agreement(joint("0.3"), actor="risk")
    ops = staff(api, "ops1", Role.OPERATIONS)
    page = ops.get("/console/partners?lang=en").text
    assert 'action="/console/partners/agreements"' not in page
    assert "/activate" not in page
    assert _post(ops, "/console/partners/agreements", TERMS).status_code == 403
    assert _post(ops, "/console/partners/agreements/AG-JL-1/activate", {}).status_code == 403
    assert [a.status for a in _partners(api).service.agreements()] == [AgreementStatus.DRAFT]


def test_a_risk_officer_may_not_run_the_settlement(api: Api) -> None:
    risk = staff(api, "liu", Role.RISK_OFFICER)
    assert 'action="/console/partners/settlements"' not in risk.get("/console/partners").text
    refused = _post(risk, "/console/partners/settlements", {"on": "2026-03-02"})
    assert refused.status_code == 403


def test_operations_settle_a_day_and_the_partners_position_shows_it(
    world: tuple[Api, object], clock: FixedClock
) -> None:
    api, engine = world
    partners = _partners(api).service
    partners.create_agreement(joint("0.3"), actor="risk")
    partners.activate("AG-JL-1", actor="risk")
    loan_id = _disburse(engine, clock, 100_000_00)
    partners.link_loan("AG-JL-1", loan_id, channel="partner-app", on=LOAN_DAY, actor="ops")
    ops = staff(api, "ops1", Role.OPERATIONS)
    assert "30,000.00" not in ops.get("/console/partners").text

    bad = _post(ops, "/console/partners/settlements?lang=en", {"on": "2026-3-2"})
    assert bad.status_code == 422
    assert "Settlement date: The date is not valid." in bad.text
    assert partners.position("AG-JL-1").principal_funded_fen == 0

    settled = _post(ops, "/console/partners/settlements", {"on": "2026-03-02"})
    assert settled.status_code == 303
    assert settled.headers["location"] == "/console/partners?done=settled"
    assert partners.position("AG-JL-1").principal_funded_fen == 30_000_00
    page = ops.get("/console/partners?done=settled&lang=en").text
    assert "The day's settlement has run" in page
    positions = page[page.index("data-partner-positions") :]
    assert 'data-partner="P-WEBANK"' in positions
    assert "30,000.00" in positions  # the partner funded 30% of 100,000.00


def test_settling_a_draft_agreement_is_a_conflict(api: Api) -> None:
    _partners(api).service.create_agreement(joint("0.3"), actor="risk")
    ops = staff(api, "ops1", Role.OPERATIONS)
    refused = _post(
        ops,
        "/console/partners/settlements?lang=en",
        {"on": "2026-03-02", "settle_agreement": "AG-JL-1"},
    )
    assert refused.status_code == 409
    assert "The agreement is not active on that day." in refused.text


def test_operations_route_loans_and_the_page_says_how_many(api: Api) -> None:
    partners = _partners(api).service
    partners.create_agreement(joint("0.3"), actor="risk")
    partners.activate("AG-JL-1", actor="risk")
    ops = staff(api, "ops1", Role.OPERATIONS)
    assert 'action="/console/partners/routing"' in ops.get("/console/partners").text
    bad = _post(ops, "/console/partners/routing?lang=en", {"route_on": "yesterday"})
    assert bad.status_code == 422
    routed = _post(ops, "/console/partners/routing", {"route_on": "2026-03-02"})
    assert routed.status_code == 303
    assert routed.headers["location"] == "/console/partners?done=routed&linked=0&held=0"
    page = ops.get(routed.headers["location"]).text
    assert "Routing has run: 0 loans put under their partners' agreements, 0 not" in page
    risk = staff(api, "liu", Role.RISK_OFFICER)
    assert _post(risk, "/console/partners/routing", {"route_on": "2026-03-02"}).status_code == 403
