"""The console's guarantee page: exposure, agreements and claims for staff who may read them,
in zh-CN and English; refused to others and absent from their sections."""

from __future__ import annotations

import sys
from collections.abc import Iterator
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


@pytest.fixture
def api(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[Api]:
    built, engine = build_servicing_api(database_url, clock, tmp_path)

    def servicing() -> ServicingUnitOfWork:
        return ServicingUnitOfWork(engine, clock=clock, audit_key=b"a" * 32)  # type: ignore[arg-type]

    access = built.deps.guarantees
    assert access is not None
    service = access.service
    agency = service.create_agency(name="国家融资担保基金", uscc=AGENCY_USCC, actor="ops")
    agreement = service.create_agreement(terms(agency.agency_id), actor="ops")
    loan_id = draw_loan(servicing, open_line(servicing, "91350100M000100Y43"), 100_000_00, "d1")
    service.cover_loan(
        loan_id=loan_id, agreement_id=agreement.agreement_id, on=DRAWN_ON, actor="ops"
    )
    set_past_due_on(engine, loan_id, 90)  # type: ignore[arg-type]
    service.raise_claim(loan_id=loan_id, on=date(2026, 6, 1), actor="ops")
    try:
        yield built
    finally:
        built.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def test_staff_read_exposure_agreements_and_claims_in_both_languages(api: Api) -> None:
    risk = sign_in(api.deps, api.client.app, "liu", Role.RISK_OFFICER)
    page = risk.get("/console/guarantees")
    assert "担保敞口与代偿" in page
    assert "国家融资担保基金" in page
    assert "80,000.00" in page  # covered: 0.8 x 100,000.00, and the claim
    assert "免反担保" in page
    assert "已申请" in page
    english = risk.get("/console/guarantees?lang=en")
    assert "Exposure and claims" in english
    assert "Counter-guarantee waived" in english
    assert "/console/guarantees" in risk.get("/console/")


def test_an_account_manager_is_refused_and_sees_no_entry(api: Api) -> None:
    manager = sign_in(api.deps, api.client.app, "wang", Role.ACCOUNT_MANAGER)
    assert "/console/guarantees" not in manager.get("/console/")
    assert manager.client.get("/console/guarantees").status_code == 403
