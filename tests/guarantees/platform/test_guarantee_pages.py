"""The console's guarantee page: exposure, agreements and claims for staff who may read them,
in zh-CN and English; refused to others and absent from their sections. Operations raise a
claim, record its payment and run the claims job from the page; a refusal changes nothing."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "web" / "pages"))
sys.path.insert(0, str(Path(__file__).parents[2] / "web"))
sys.path.insert(0, str(Path(__file__).parents[2] / "origination"))

from api_support import Api, build_servicing_api
from ops_pages_support import sign_in
from tests.guarantees.platform.conftest import (
    AGENCY_USCC,
    DRAWN_ON,
    draw_loan,
    open_line,
    set_past_due_on,
    terms,
)

from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.clock import FixedClock
from puhui.services.security.permissions import Role

CoverLoan = Callable[[str, int], str]
"""Draw a loan of a new borrower (its USCC), cover it, set its days past due; its id."""
TRIGGER = date(2026, 6, 1)


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[Api, CoverLoan]]:
    """The API with one agency and agreement, and one covered loan claimed on ``TRIGGER``."""
    built, engine = build_servicing_api(database_url, clock, tmp_path)

    def servicing() -> ServicingUnitOfWork:
        return ServicingUnitOfWork(engine, clock=clock, audit_key=b"a" * 32)  # type: ignore[arg-type]

    access = built.deps.guarantees
    assert access is not None
    service = access.service
    agency = service.create_agency(name="国家融资担保基金", uscc=AGENCY_USCC, actor="ops")
    agreement = service.create_agreement(terms(agency.agency_id), actor="ops")

    def cover_loan(uscc: str, days_past_due: int) -> str:
        loan_id = draw_loan(servicing, open_line(servicing, uscc), 100_000_00, f"d-{uscc}")
        service.cover_loan(
            loan_id=loan_id, agreement_id=agreement.agreement_id, on=DRAWN_ON, actor="ops"
        )
        set_past_due_on(engine, loan_id, days_past_due)  # type: ignore[arg-type]
        return loan_id

    claimed = cover_loan("91350100M000100Y43", 90)
    service.raise_claim(loan_id=claimed, on=TRIGGER, actor="ops")
    try:
        yield built, cover_loan
    finally:
        built.client.close()
        engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def api(world: tuple[Api, CoverLoan]) -> Api:
    return world[0]


def _claims(api: Api) -> dict[str, str]:
    access = api.deps.guarantees
    assert access is not None
    return {c.loan_id: c.status for c in access.service.claims()}


def test_staff_read_exposure_agreements_and_claims_in_both_languages(api: Api) -> None:
    risk = sign_in(api.deps, api.client.app, "liu", Role.RISK_OFFICER)
    page = risk.get("/console/guarantees")
    assert "担保敞口与代偿" in page
    assert "国家融资担保基金" in page
    assert "80,000.00" in page  # covered: 0.8 x 100,000.00, and the claim
    assert "免反担保" in page
    assert "已申请" in page
    # The exposure, the fees and claims, and the terms of each agreement, in tables that fit.
    assert page.count("担保机构与协议") == 3
    assert "担保费（元）" in page
    english = risk.get("/console/guarantees?lang=en")
    assert "Exposure and claims" in english
    assert english.count("Agency and agreement") == 3
    assert "Counter-guarantee waived" in english
    assert "/console/guarantees" in risk.get("/console/")


def test_an_account_manager_is_refused_and_sees_no_entry(api: Api) -> None:
    manager = sign_in(api.deps, api.client.app, "wang", Role.ACCOUNT_MANAGER)
    assert "/console/guarantees" not in manager.get("/console/")
    assert manager.client.get("/console/guarantees").status_code == 403


def test_shares_are_shown_as_percentages(api: Api) -> None:
    page = sign_in(api.deps, api.client.app, "liu", Role.RISK_OFFICER).get(
        "/console/guarantees?lang=en"
    )
    assert '<td class="num">80%</td>' in page  # coverage 0.8
    assert '<td class="num">1%</td>' in page  # fee rate 0.01
    assert ">0.8<" not in page


def test_operations_raise_a_claim_at_the_trigger_and_it_is_listed(
    world: tuple[Api, CoverLoan],
) -> None:
    api, cover_loan = world
    loan_id = cover_loan("91350100M000200Y21", 90)
    ops = sign_in(api.deps, api.client.app, "zhao", Role.OPERATIONS)
    page = ops.get("/console/guarantees?lang=en")
    assert 'action="/console/guarantees/claims"' in page
    done = ops.post("/console/guarantees/claims", {"loan_id": loan_id, "raised_on": "2026-06-01"})
    assert done.status_code == 303
    assert done.headers["location"] == "/console/guarantees?done=claim_raised"
    assert _claims(api)[loan_id] == "raised"
    listed = ops.get("/console/guarantees?done=claim_raised&lang=en")
    assert "The claim is raised: the agency owes it." in listed
    assert loan_id in listed
    assert f'action="/console/guarantees/claims/{loan_id}/pay"' in listed


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        (
            {"raised_on": "2026-06-31"},
            422,
            "Raised on: The date is not valid. Use the form YYYY-MM-DD.",
        ),
        ({"raised_on": ""}, 422, "Raised on: The date is not valid."),
        ({"loan_id": ""}, 422, "Loan: Some of what you entered is not valid."),
        ({"loan_id": "LN-NONE"}, 404, "This loan is not covered by a guarantee agreement."),
        ({"days": "10"}, 409, "The loan has not reached the agreement&#39;s claim trigger yet."),
    ],
)
def test_a_refused_claim_says_why_and_raises_nothing(
    world: tuple[Api, CoverLoan], form: dict[str, str], status: int, message: str
) -> None:
    api, cover_loan = world
    form = dict(form)  # the parameter is shared by the SQLite and PostgreSQL runs
    loan_id = cover_loan("91350100M000200Y21", int(form.pop("days", "90")))
    before = _claims(api)
    ops = sign_in(api.deps, api.client.app, "zhao", Role.OPERATIONS)
    ops.get("/console/guarantees?lang=en")
    refused = ops.post(
        "/console/guarantees/claims?lang=en",
        {"loan_id": loan_id, "raised_on": "2026-06-01", **form},
    )
    assert refused.status_code == status
    assert message in refused.text
    assert _claims(api) == before
    assert loan_id not in before


def test_operations_record_the_payment_of_a_raised_claim(api: Api) -> None:
    [(loan_id, status)] = _claims(api).items()
    assert status == "raised"
    ops = sign_in(api.deps, api.client.app, "zhao", Role.OPERATIONS)
    ops.get("/console/guarantees?lang=en")
    early = ops.post(f"/console/guarantees/claims/{loan_id}/pay?lang=en", {"paid_on": "2026-05-01"})
    assert early.status_code == 422  # paid before it was raised
    assert _claims(api)[loan_id] == "raised"
    paid = ops.post(f"/console/guarantees/claims/{loan_id}/pay", {"paid_on": "2026-06-10"})
    assert paid.status_code == 303
    assert _claims(api)[loan_id] == "paid"
    page = ops.get("/console/guarantees?done=claim_paid&lang=en")
    assert "The agency&#39;s payment of the claim is recorded." in page
    assert "2026-06-10" in page
    assert f"/console/guarantees/claims/{loan_id}/pay" not in page  # paid: no button left


def test_the_claims_job_raises_every_claim_due_as_of_a_day(
    world: tuple[Api, CoverLoan],
) -> None:
    api, cover_loan = world
    due = cover_loan("91350100M000200Y21", 90)
    not_due = cover_loan("91350100M000300Y10", 5)
    ops = sign_in(api.deps, api.client.app, "zhao", Role.OPERATIONS)
    ops.get("/console/guarantees?lang=en")
    bad = ops.post("/console/guarantees/claims/run?lang=en", {"as_of": "01/06/2026"})
    assert bad.status_code == 422
    assert "As of: The date is not valid." in bad.text
    assert due not in _claims(api)
    ran = ops.post("/console/guarantees/claims/run", {"as_of": "2026-06-01"})
    assert ran.status_code == 303
    assert _claims(api)[due] == "raised"
    assert not_due not in _claims(api)
    notice = ops.get(ran.headers["location"] + "&lang=zh-CN")
    assert "1" in notice
    english = ops.get(ran.headers["location"] + "&lang=en")
    assert "The claims job has run: 1 claims raised, 0 released, 0 withdrawn" in english


@pytest.mark.parametrize("role", [Role.RISK_OFFICER, Role.AUDITOR])
def test_staff_who_may_only_read_get_no_forms_and_are_refused(
    world: tuple[Api, CoverLoan], role: Role
) -> None:
    api, cover_loan = world
    loan_id = cover_loan("91350100M000200Y21", 90)
    reader = sign_in(api.deps, api.client.app, "reader", role)
    page = reader.get("/console/guarantees?lang=en")
    assert 'action="/console/guarantees/claims"' not in page
    assert "/pay" not in page
    before = _claims(api)
    for path, form in [
        ("/console/guarantees/claims", {"loan_id": loan_id, "raised_on": "2026-06-01"}),
        ("/console/guarantees/claims/run", {"as_of": "2026-06-01"}),
        (f"/console/guarantees/claims/{next(iter(before))}/pay", {"paid_on": "2026-06-10"}),
    ]:
        assert reader.post(path, form).status_code == 403
    assert _claims(api) == before


def test_a_form_without_its_csrf_token_is_refused(world: tuple[Api, CoverLoan]) -> None:
    api, cover_loan = world
    loan_id = cover_loan("91350100M000200Y21", 90)
    ops = sign_in(api.deps, api.client.app, "zhao", Role.OPERATIONS)
    ops.get("/console/guarantees")
    refused = ops.post(
        "/console/guarantees/claims", {"loan_id": loan_id, "raised_on": "2026-06-01"}, csrf=False
    )
    assert refused.status_code == 403
    assert loan_id not in _claims(api)
