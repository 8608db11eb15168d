"""The console's loan-change forms: look a loan up, request an extension or a restructuring,
renew a maturing loan (approved or declined), reject a pending change; bad input and refusals
answer on the page with the API's status and change nothing; roles decide what is offered."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

sys.path.insert(0, str(Path(__file__).parent.parent / "web"))
sys.path.insert(0, str(Path(__file__).parent.parent / "web" / "pages"))
from api_support import Api, build_servicing_api
from ops_pages_support import Staff, sign_in

from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.clock import FixedClock
from puhui.domain.ids import ProductId
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.services.loan_changes.access import LoanChangeAccess
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.lines import draw, open_credit_line
from puhui.services.servicing.products import create_product
from puhui.services.servicing.term_loans import accelerate_term_loan, disburse_term_loan

from .conftest import ENTERPRISE, term_product

FORM_KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
READER = Principal(user_id="reader", role=Role.RISK_OFFICER)
PAGE = "/console/loan-changes"


@dataclass
class World:
    api: Api
    engine: Engine
    clock: FixedClock
    product_id: ProductId
    n: int = 0

    @property
    def access(self) -> LoanChangeAccess:
        access = self.api.deps.loan_changes
        assert access is not None
        return access

    def _units(self) -> ServicingUnitOfWork:
        return ServicingUnitOfWork(self.engine, clock=self.clock, audit_key=b"a" * 32)  # type: ignore[arg-type]

    def loan(self, on: date, term_months: int) -> str:
        self.n += 1
        return disburse_term_loan(
            self._units,
            enterprise_id=ENTERPRISE,
            product_id=self.product_id,
            principal_fen=80_000_00,
            annual_rate=Decimal("0.0435"),
            term_months=term_months,
            on=on,
            idempotency_key=f"loan-{self.n}",
            actor="ops",
        ).loan_id

    def receipt(self) -> str:
        product = LoanProduct(
            code="SUI-CONSOLE",
            name="revolving",
            method=RepaymentMethod.DAILY_REVOLVING,
            min_annual_rate=Decimal("0.03"),
            max_annual_rate=Decimal("0.18"),
            min_term_months=1,
            max_term_months=12,
            min_amount_fen=100_00,
            max_amount_fen=10_000_000_00,
            penalty_uplift=Decimal("0.5"),
        )
        line_id = open_credit_line(
            self._units,
            enterprise_id=ENTERPRISE,
            product_id=create_product(self._units, product, actor="ops"),
            limit_fen=1_000_000_00,
            annual_rate=Decimal("0.0435"),
            opened_on=date(2026, 2, 10),
            expiry_date=date(2026, 6, 30),
            actor="ops",
        )
        drawn = draw(
            self._units,
            line_id,
            amount_fen=300_000_00,
            on=date(2026, 2, 10),
            maturity_date=date(2026, 3, 20),
            idempotency_key="draw-1",
            actor="ops",
        )
        return drawn.receipt_id

    def rows(self) -> tuple[object, ...]:
        with self.engine.connect() as c:
            return tuple(
                tuple(map(tuple, c.execute(text(f"SELECT * FROM {t}")).all()))
                for t in ("loans", "loan_instalments", "loan_changes")
            )

    def staff(self, name: str, role: Role) -> Staff:
        return sign_in(self.api.deps, self.api.client.app, name, role)


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[World]:
    api, engine = build_servicing_api(database_url, clock, tmp_path)

    def units() -> ServicingUnitOfWork:
        return ServicingUnitOfWork(engine, clock=clock, audit_key=b"a" * 32)  # type: ignore[arg-type]

    product_id = create_product(units, term_product(), actor="ops")
    try:
        yield World(api, engine, clock, product_id)  # type: ignore[arg-type]
    finally:
        api.client.close()


def _lookup(staff: Staff, loan_id: str) -> tuple[str, str]:
    """The loan's page and the idempotency key its forms carry (without the form suffix)."""
    page = staff.get(f"{PAGE}?loan={loan_id}")
    found = FORM_KEY.search(page)
    assert found is not None, "the page offers no change form"
    return page, found.group(1).rsplit("-", 1)[0]


def test_manager_requests_an_extension_once_and_an_approver_sees_it_to_decide(
    world: World,
) -> None:
    loan_id = world.loan(date(2026, 2, 10), 12)
    manager = world.staff("wang", Role.ACCOUNT_MANAGER)
    assert f'href="{PAGE}"' in manager.get("/console/")  # the section is offered to requesters
    page, key = _lookup(manager, loan_id)
    assert "正常" in page  # the 2023 category of the loan today
    assert "该贷款尚无变更。" in page
    form = {"idempotency_key": f"{key}-e", "months": "3", "reason": "harvest comes late"}
    first = manager.post(f"{PAGE}/loans/{loan_id}/extension", form)
    assert first.status_code == 303, first.text
    again = manager.post(f"{PAGE}/loans/{loan_id}/extension", form)
    assert again.status_code == 303  # a double submit replays the first request
    (pending,) = world.access.pending(READER, limit=10, offset=0)
    assert (pending.loan_id, pending.kind.value, pending.extension_months) == (
        loan_id,
        "extension",
        3,
    )
    assert pending.requested_by.startswith("account_manager:")
    after = manager.get(first.headers["location"])
    assert "变更已申请" in after
    assert pending.change_id in after
    assert "待审批" in after  # its status in the loan's history
    assert f"/{pending.change_id}/approve" not in after  # a requester does not decide

    approver = world.staff("chen", Role.APPROVER)
    queue = approver.get(PAGE)
    assert f"/{pending.change_id}/approve" in queue
    assert f"/{pending.change_id}/reject" in queue
    assert approver.get(f"{PAGE}?loan={loan_id}").count('name="idempotency_key"') == 0


def test_a_pending_change_is_rejected_with_a_reason_and_nothing_is_applied(world: World) -> None:
    loan_id = world.loan(date(2026, 2, 10), 12)
    manager = world.staff("wang", Role.ACCOUNT_MANAGER)
    _, key = _lookup(manager, loan_id)
    requested = manager.post(
        f"{PAGE}/loans/{loan_id}/restructuring",
        {"idempotency_key": f"{key}-r", "months": "24", "reason": "sales collapsed"},
    )
    assert requested.status_code == 303, requested.text
    (change,) = world.access.pending(READER, limit=10, offset=0)
    assert (change.kind.value, change.new_term_months, change.in_difficulty) == (
        "restructuring",
        24,
        True,
    )
    assert manager.post(f"{PAGE}/{change.change_id}/reject", {"reason": "no"}).status_code == 403

    approver = world.staff("chen", Role.APPROVER)
    approver.get(PAGE)
    before = world.rows()
    no_reason = approver.post(f"{PAGE}/{change.change_id}/reject", {"reason": "  "})
    assert no_reason.status_code == 422
    assert "请填写原因" in no_reason.text
    assert world.rows() == before
    rejected = approver.post(f"{PAGE}/{change.change_id}/reject", {"reason": "not in difficulty"})
    assert rejected.status_code == 303, rejected.text
    # Back on the queue with the loan below it: its history says who rejected it and why.
    assert rejected.headers["location"].endswith(f"loan={loan_id}&done=rejected")
    shown = approver.get(rejected.headers["location"])
    assert "变更已驳回" in shown
    (record,) = world.access.of_loan(READER, loan_id)
    assert record.status == "rejected"
    assert record.maturity_after is None  # nothing applied
    assert record.rejection_reason == "not in difficulty"
    assert record.rejected_by.startswith("approver:usr_")
    line = "2026-03-02 09:30 由 chen 驳回：not in difficulty"  # the user's name, not the id
    assert line in shown
    history = manager.get(f"{PAGE}?loan={loan_id}")
    assert line in history  # the requester sees why
    assert '<td class="actor">wang</td>' in history
    late = approver.post(f"{PAGE}/{change.change_id}/approve")
    assert late.status_code == 409
    assert "此变更已不在待审批状态" in late.text


def test_bad_input_is_refused_on_the_page_and_changes_nothing(world: World) -> None:
    loan_id = world.loan(date(2026, 2, 10), 12)
    manager = world.staff("wang", Role.ACCOUNT_MANAGER)
    _, key = _lookup(manager, loan_id)
    before = world.rows()
    target = f"{PAGE}/loans/{loan_id}/extension"
    good = {
        "form": "extension",
        "idempotency_key": f"{key}-e",
        "months": "3",
        "reason": "late harvest",
    }
    for field, value, words in (
        ("months", "three", "请输入 1 到 600 之间的整数月数"),
        ("months", "0", "请输入 1 到 600 之间的整数月数"),
        ("months", "-2", "请输入 1 到 600 之间的整数月数"),
        ("reason", "", "请填写原因"),
        ("idempotency_key", "", "表单已过期"),
    ):
        refused = manager.post(target, {**good, field: value})
        assert refused.status_code == 422, (field, value)
        assert words in refused.text, (field, value)
        assert 'value="late harvest"' in refused.text or field == "reason"  # kept for retry
    beyond = manager.post(target, {**good, "months": "13"})
    assert (beyond.status_code, "展期政策" in beyond.text) == (422, True)
    renewal = f"{PAGE}/loans/{loan_id}/renewal"
    bad_day = manager.post(renewal, {**good, "idempotency_key": f"{key}-n", "on": "2026-13-01"})
    assert bad_day.status_code == 422
    assert "YYYY-MM-DD" in bad_day.text
    malformed = manager.post(f"{PAGE}/loans/bad%20id!/extension", good)
    assert malformed.status_code == 422
    assert "不是有效的贷款编号" in malformed.text
    assert manager.client.get(f"{PAGE}?loan=%3Cscript%3E").status_code == 422
    missing = manager.client.get(f"{PAGE}?loan=loan_missing")
    assert missing.status_code == 404
    assert manager.post(f"{PAGE}/loans/loan_missing/extension", good).status_code == 404
    assert world.rows() == before
    assert world.access.pending(READER, limit=10, offset=0) == []


def test_refusals_answer_with_the_api_status_and_change_nothing(world: World) -> None:
    in_arrears = world.loan(date(2026, 2, 20), 1)
    long_loan = world.loan(date(2026, 2, 10), 12)
    with world.engine.begin() as c:
        c.execute(
            text("UPDATE loans SET days_past_due = 5, overdue_since = :d WHERE loan_id = :l"),
            {"d": date(2026, 2, 25), "l": in_arrears},
        )
    manager = world.staff("wang", Role.ACCOUNT_MANAGER)
    _, key = _lookup(manager, in_arrears)
    before = world.rows()
    form = {"months": "3", "reason": "good standing"}
    extension = manager.post(
        f"{PAGE}/loans/{in_arrears}/extension", {**form, "idempotency_key": f"{key}-e"}
    )
    assert extension.status_code == 409
    assert "该贷款有逾期欠款" in extension.text
    renewal = manager.post(
        f"{PAGE}/loans/{in_arrears}/renewal", {**form, "idempotency_key": f"{key}-n"}
    )
    assert renewal.status_code == 409
    assert "该贷款有逾期欠款" in renewal.text
    early = manager.post(
        f"{PAGE}/loans/{long_loan}/renewal", {**form, "idempotency_key": f"{key}-x"}
    )
    assert early.status_code == 422
    assert "续贷须在贷款到期前的受理期内决定" in early.text
    assert world.rows() == before

    auditor = world.staff("sun", Role.AUDITOR)
    assert f'href="{PAGE}"' not in auditor.get("/console/")
    forbidden = auditor.post(
        f"{PAGE}/loans/{long_loan}/extension", {**form, "idempotency_key": "page-a-e"}
    )
    assert forbidden.status_code == 403
    assert auditor.post(f"{PAGE}/loans/{long_loan}/renewal", form).status_code == 403
    approver = world.staff("chen", Role.APPROVER)  # approves, never requests
    approver.get(PAGE)
    assert (
        approver.post(
            f"{PAGE}/loans/{long_loan}/extension", {**form, "idempotency_key": "page-b-e"}
        ).status_code
        == 403
    )
    assert world.rows() == before


def test_an_approved_renewal_shows_the_new_loan_once(world: World) -> None:
    loan_id = world.loan(date(2026, 2, 20), 1)  # matures 2026-03-20: today is in the window
    manager = world.staff("wang", Role.ACCOUNT_MANAGER)
    _, key = _lookup(manager, loan_id)
    form = {"idempotency_key": f"{key}-n", "months": "12", "reason": "seasonal stock"}
    answer = manager.post(f"{PAGE}/loans/{loan_id}/renewal", form)
    assert answer.status_code == 200, answer.text
    (renewal,) = world.access.of_loan(READER, loan_id)
    assert renewal.kind.value == "renewal"
    assert renewal.new_loan_id is not None
    assert 'data-renewal="approved"' in answer.text
    assert renewal.new_loan_id in answer.text
    assert "80,000.00" in answer.text
    assert "2026-03-20" in answer.text  # the new loan starts on the old one's maturity
    assert "2027-03-20" in answer.text
    replay = manager.post(f"{PAGE}/loans/{loan_id}/renewal", form)
    assert replay.status_code == 200
    assert renewal.new_loan_id in replay.text
    assert len(world.access.of_loan(READER, loan_id)) == 1  # a double submit renews once
    new_loan = manager.get(f"{PAGE}?loan={renewal.new_loan_id}")
    assert f'data-loan="{renewal.new_loan_id}"' in new_loan
    assert f"?loan={loan_id}" in new_loan  # renewed from the old loan


def test_a_declined_renewal_shows_its_reasons_and_changes_nothing(world: World) -> None:
    loan_id = world.loan(date(2026, 2, 20), 1)
    with world.engine.begin() as c:
        c.execute(
            text("UPDATE loans SET category = 'substandard' WHERE loan_id = :l"), {"l": loan_id}
        )
    manager = world.staff("wang", Role.ACCOUNT_MANAGER)
    _, key = _lookup(manager, loan_id)
    before = world.rows()
    form = {"idempotency_key": f"{key}-n", "months": "12", "reason": "seasonal stock"}
    declined = manager.post(f"{PAGE}/loans/{loan_id}/renewal", form)
    assert declined.status_code == 200  # a decline is a result, not an error
    assert 'data-renewal="declined"' in declined.text
    assert "贷款风险分类低于策略允许续贷的档次" in declined.text
    assert world.rows() == before
    english = manager.post(f"{PAGE}/loans/{loan_id}/renewal?lang=en", form)
    assert "The loan's risk category is worse than the strategy renews." in english.text


def test_a_receipt_on_a_credit_line_is_renewed_from_the_console(world: World) -> None:
    receipt_id = world.receipt()
    risk = world.staff("li", Role.RISK_OFFICER)
    page, key = _lookup(risk, receipt_id)
    # A receipt is renewed; the term-loan forms are not offered, and the page says why.
    assert "data-term-only" in page
    assert "授信额度项下的借据请办理续贷" in page
    assert f"/loans/{receipt_id}/extension" not in page
    assert f"/loans/{receipt_id}/restructuring" not in page
    assert f"/loans/{receipt_id}/renewal" in page
    answer = risk.post(
        f"{PAGE}/loans/{receipt_id}/renewal",
        {"idempotency_key": f"{key}-n", "months": "3", "reason": "line renewed", "on": ""},
    )
    assert answer.status_code == 200, answer.text
    (renewal,) = world.access.of_loan(READER, receipt_id)
    assert renewal.new_loan_id is not None
    assert renewal.new_loan_id.startswith("rcpt_")
    assert renewal.new_loan_id in answer.text
    assert "2026-03-02" in answer.text  # a receipt's principal moves on the decision day
    assert "2026-06-20" in answer.text


def test_a_restructuring_may_carry_a_new_rate_typed_as_a_percentage(world: World) -> None:
    loan_id = world.loan(date(2026, 2, 10), 12)
    manager = world.staff("wang", Role.ACCOUNT_MANAGER)
    _, key = _lookup(manager, loan_id)
    before = world.rows()
    form = {"idempotency_key": f"{key}-r", "months": "24", "reason": "sales collapsed"}
    bad = manager.post(f"{PAGE}/loans/{loan_id}/restructuring", {**form, "rate": "3,85"})
    assert bad.status_code == 422
    assert "请以百分数填写新的年利率" in bad.text
    assert world.rows() == before
    requested = manager.post(f"{PAGE}/loans/{loan_id}/restructuring", {**form, "rate": "3.85"})
    assert requested.status_code == 303, requested.text
    (change,) = world.access.pending(READER, limit=10, offset=0)
    assert change.new_annual_rate == Decimal("0.0385")


def test_the_loans_history_shows_the_arrears_a_restructuring_brought_forward(
    world: World,
) -> None:
    loan_id = world.loan(date(2026, 2, 10), 12)
    with world.engine.begin() as c:  # the first instalment unpaid: 8 days past due
        c.execute(
            text(
                "UPDATE loans SET billed_principal_fen = 900000, overdue_principal_fen = 900000,"
                " interest_billed_fen = 40000, overdue_interest_fen = 40000,"
                " penalty_billed_fen = 1234, billed_due_on = :due, overdue_since = :since,"
                " days_past_due = 8 WHERE loan_id = :l"
            ),
            {"due": date(2026, 3, 10), "since": date(2026, 3, 11), "l": loan_id},
        )
    manager = world.staff("wang", Role.ACCOUNT_MANAGER)
    page, key = _lookup(manager, loan_id)
    assert "逾期本金）按新的期数重新摊还" in page  # the form says what a restructuring does
    assert "data-term-only" not in page
    form = {"idempotency_key": f"{key}-r", "months": "18", "reason": "orders lost"}
    assert manager.post(f"{PAGE}/loans/{loan_id}/restructuring", form).status_code == 303
    (change,) = world.access.pending(READER, limit=10, offset=0)
    approver = world.staff("chen", Role.APPROVER)
    queue = approver.get(PAGE)  # the approver sees the arrears without opening the loan
    assert 'data-days-past-due="8"' in queue
    assert "本金余额 80,000.00" in queue
    assert "逾期 8 天：逾期本息 9,400.00，罚息 12.34" in queue
    english = approver.get(f"{PAGE}?lang=en")
    assert "8 days past due: 9,400.00 past due, penalties 12.34" in english
    assert "正常 (Pass)" in english  # the category end of day stored, in both languages
    assert approver.post(f"{PAGE}/{change.change_id}/approve").status_code == 303
    assert "data-days-past-due" not in approver.get(PAGE)  # decided: off the queue
    history = manager.get(f"{PAGE}?loan={loan_id}")
    assert 'data-arrears-days="8"' in history
    assert (
        "已将逾期 8 天的欠款纳入新还款计划：本金 9,000.00，利息 400.00，罚息复利 12.34" in history
    )


def test_a_loan_the_bank_called_in_says_so_on_its_page(world: World) -> None:
    loan_id = world.loan(date(2026, 2, 10), 12)
    manager = world.staff("wang", Role.ACCOUNT_MANAGER)
    assert "data-called-in" not in manager.get(f"{PAGE}?loan={loan_id}")
    servicing = world.api.deps.credit.servicing_uow  # type: ignore[union-attr]
    called = accelerate_term_loan(
        servicing, loan_id, on=date(2026, 2, 10), actor="risk", reason="post-loan task"
    )
    assert called is not None
    page = manager.get(f"{PAGE}?loan={loan_id}")
    assert 'data-called-in="2026-02-10"' in page
    assert "其全部欠款已于当日到期；可重组，不可展期。" in page
    english = manager.get(f"{PAGE}?loan={loan_id}&lang=en")
    assert "it can be restructured, not extended" in english
    found = world.api.client.get(
        f"/api/v1/loans/{loan_id}/classification",
        headers=world.api.staff_headers(Role.ACCOUNT_MANAGER),
    )
    assert found.status_code == 200, found.text
    assert found.json()["called_in_on"] == "2026-02-10"
