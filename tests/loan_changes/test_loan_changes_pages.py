"""The console's loan changes page: the queue awaiting approval, approve (four eyes, CSRF),
refusals shown on the page, zh-CN and English."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "web"))
sys.path.insert(0, str(Path(__file__).parent.parent / "web" / "pages"))
from api_support import Api, build_servicing_api
from ops_pages_support import sign_in

from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.clock import FixedClock
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.products import create_product
from puhui.services.servicing.term_loans import disburse_term_loan

from .conftest import ENTERPRISE, term_product

REQUESTER = Principal(user_id="wang", role=Role.ACCOUNT_MANAGER)


@pytest.fixture
def api(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[Api, str, str]]:
    built, engine = build_servicing_api(database_url, clock, tmp_path)

    def factory() -> ServicingUnitOfWork:
        return ServicingUnitOfWork(engine, clock=clock, audit_key=b"a" * 32)  # type: ignore[arg-type]

    product_id = create_product(factory, term_product(), actor="ops")
    loan = disburse_term_loan(
        factory,
        enterprise_id=ENTERPRISE,
        product_id=product_id,
        principal_fen=80_000_00,
        annual_rate=Decimal("0.0435"),
        term_months=12,
        on=date(2026, 2, 10),
        idempotency_key="loan",
        actor="ops",
    )
    access = built.deps.loan_changes
    assert access is not None
    change = access.request_extension(
        REQUESTER,
        loan_id=loan.loan_id,
        extension_months=3,
        reason="harvest comes late",
        in_difficulty=False,
        idempotency_key="ext",
    )
    try:
        yield built, change.change_id, loan.loan_id
    finally:
        built.client.close()


def test_approver_sees_the_queue_and_approves_once(api: tuple[Api, str, str]) -> None:
    built, change_id, loan_id = api
    app = built.client.app
    approver = sign_in(built.deps, app, "chen", Role.APPROVER)
    # The home counts what waits for an approver; the requester approves nothing.
    assert "待审批的贷款变更：1 笔" in approver.get("/console/")
    requester = sign_in(built.deps, app, "wang", Role.ACCOUNT_MANAGER)
    assert "待审批的贷款变更：" not in requester.get("/console/")
    assert 'href="/console/loan-changes"' in requester.get("/console/")
    page = approver.get("/console/loan-changes")
    assert "待审批的贷款变更" in page
    assert change_id in page
    assert "展期" in page
    assert "harvest comes late" in page
    forged = approver.post(f"/console/loan-changes/{change_id}/approve", csrf=False)
    assert forged.status_code == 403
    approved = approver.post(f"/console/loan-changes/{change_id}/approve")
    assert approved.status_code == 303
    after = approver.get(approved.headers["location"])
    assert "变更已批准" in after
    assert f"/{change_id}/approve" not in after  # out of the queue
    assert "暂无待审批的贷款变更" in after
    assert 'class="change-status">已批准' in after  # in the loan's history below it
    assert "待审批的贷款变更：" not in approver.get("/console/")
    again = approver.post(f"/console/loan-changes/{change_id}/approve")
    assert again.status_code == 303  # a double submit replays the first approval
    access = built.deps.loan_changes
    assert access is not None
    assert access.pending(REQUESTER, limit=10, offset=0) == []
    (record,) = access.of_loan(REQUESTER, loan_id)
    assert (record.status, record.requested_by) == ("approved", "account_manager:wang")
    missing = approver.post("/console/loan-changes/chg_missing/approve")
    assert missing.status_code == 404
    english = approver.get("/console/loan-changes?lang=en")
    assert "Loan changes awaiting approval" in english
    assert "No loan change is waiting for approval." in english


def test_auditor_may_not_open_the_queue(api: tuple[Api, str, str]) -> None:
    built, _, _ = api
    auditor = sign_in(built.deps, built.client.app, "sun", Role.AUDITOR)
    assert auditor.client.get("/console/loan-changes").status_code == 403
