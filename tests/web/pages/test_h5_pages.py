"""The SME owner's H5 pages over HTTP: three steps, contract, line, draw, repay, consents."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response

sys.path.insert(0, str(Path(__file__).parent.parent))

from api_support import Api, build_servicing_api
from origination_fakes import OTHER_PHONE, OWNER_ID, PHONE, USCC_A, USCC_B

from puhui.bootstrap.api import owner_phone
from puhui.domain.clock import FixedClock
from puhui.domain.ids import CreditLineId, ReceiptId
from puhui.domain.origination.assessment import Outcome
from puhui.services.origination import owner_views
from puhui.services.origination import use_cases as uc
from puhui.services.security import accounts
from puhui.services.security.permissions import Principal
from puhui.services.servicing.lines import accelerate_line
from puhui.services.servicing.receipts import write_off

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY = re.compile(r'name="request_key" value="([^"]+)"')
ALL_SCOPES = ["registration", "tax", "invoice", "utility", "court", "bureau", "settlement"]


@pytest.fixture
def site(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[Api, TestClient]]:
    built, engine = build_servicing_api(database_url, clock, tmp_path / "models")
    client = TestClient(built.client.app, base_url="https://testserver")
    try:
        yield built, client
    finally:
        client.close()
        built.client.close()
        engine.dispose()


def _csrf(client: TestClient, path: str) -> str:
    match = CSRF.search(client.get(path).text)
    assert match is not None, path
    return match.group(1)


def _sign_in(api: Api, client: TestClient, phone: str = PHONE) -> None:
    token = _csrf(client, "/h5/sign-in")
    sent = client.post("/h5/sign-in/code", data={"phone": phone, "csrf_token": token})
    assert sent.status_code == 200, sent.text
    code = next(c for p, c in reversed(api.sender.sent) if p == phone)
    signed = client.post(
        "/h5/sign-in",
        data={"phone": phone, "code": code, "csrf_token": token, "next": "/h5/apply"},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/h5/apply"


def _post(client: TestClient, form_page: str, action: str, data: dict[str, object]) -> Response:
    token = _csrf(client, form_page)
    return client.post(action, data={**data, "csrf_token": token}, follow_redirects=False)


def _apply(client: TestClient, uscc: str = USCC_A, id_number: str = OWNER_ID) -> str:
    response = _post(
        client,
        "/h5/apply",
        "/h5/apply",
        {"uscc": uscc, "id_number": id_number, "amount": "200000", "term": "12"},
    )
    assert response.status_code == 303, response.text
    location = str(response.headers["location"])
    assert location.startswith("/h5/apply/app_")
    return location.rsplit("/", 1)[1]


def _consent(client: TestClient, app_id: str, scopes: list[str]) -> Response:
    return _post(client, f"/h5/apply/{app_id}", f"/h5/apply/{app_id}/consent", {"scope": scopes})


def _owner(api: Api, phone: str = PHONE) -> Principal:
    headers = api.applicant_headers(phone)
    return accounts.authenticate_token(
        api.deps.security, headers["Authorization"].removeprefix("Bearer ")
    )


def test_the_three_steps_answer_with_the_offer_and_record_the_application(
    site: tuple[Api, TestClient],
) -> None:
    api, client = site
    _sign_in(api, client)
    client.get("/h5/?branch=TZ-001&channel=h5_qr")
    step1 = client.get("/h5/apply")
    assert "统一社会信用代码" in step1.text
    assert "138****5678" in step1.text  # the signed-in phone, masked
    app_id = _apply(client)
    step2 = client.get(f"/h5/apply/{app_id}")
    for words in ("工商登记信息", "纳税记录", "征信报告", "有效期至"):
        assert words in step2.text
    answer = _consent(client, app_id, ALL_SCOPES)
    assert answer.status_code == 303
    page = client.get(f"/h5/apply/{app_id}")
    assert "已获批" in page.text
    assert "300,000.00" in page.text  # the offered limit
    assert "4.35%" in page.text
    assert "12 个月" in page.text
    view = uc.get_application(api.deps.origination, actor=_owner(api), application_id=app_id)
    assert view.application.status.value == "offered"
    assert {s.value for c in view.consents for s in c.scopes} == set(ALL_SCOPES)
    assert view.application.requested_amount_fen == 20_000_000
    assert view.application.requested_term_months == 12
    # Back to step 1 while the application is open: the owner is taken to it.
    again = client.get("/h5/apply", follow_redirects=False)
    assert again.headers["location"] == f"/h5/apply/{app_id}"


def test_invalid_identifiers_are_explained_next_to_their_fields(
    site: tuple[Api, TestClient],
) -> None:
    api, client = site
    _sign_in(api, client)
    bad = _post(
        client,
        "/h5/apply",
        "/h5/apply",
        {"uscc": "91350100M000100Y44", "id_number": OWNER_ID, "amount": "12.345"},
    )
    assert bad.status_code == 422
    text = bad.text
    assert 'id="amount-error"' in text
    assert "元" in text
    assert "91350100M000100Y44" in text  # what the owner typed is kept
    wrong_code = _post(
        client, "/h5/apply", "/h5/apply", {"uscc": "91350100M000100Y44", "id_number": OWNER_ID}
    )
    assert wrong_code.status_code == 422
    assert 'id="uscc-error"' in wrong_code.text
    assert "营业执照" in wrong_code.text
    wrong_id = _post(
        client, "/h5/apply", "/h5/apply", {"uscc": USCC_A, "id_number": "110105194912310021"}
    )
    assert 'id="id_number-error"' in wrong_id.text
    owner = _owner(api)
    assert owner_views.own_applications(api.deps.origination, actor=owner) == []


def test_a_form_without_csrf_is_refused_and_nothing_is_created(
    site: tuple[Api, TestClient],
) -> None:
    api, client = site
    _sign_in(api, client)
    response = client.post(
        "/h5/apply", data={"uscc": USCC_A, "id_number": OWNER_ID}, follow_redirects=False
    )
    assert response.status_code == 403
    assert owner_views.own_applications(api.deps.origination, actor=_owner(api)) == []


def test_a_second_application_of_the_enterprise_is_explained(
    site: tuple[Api, TestClient],
) -> None:
    api, _ = site
    owner = _owner(api)
    uc.create_application(
        api.deps.origination,
        actor=owner,
        request=uc.NewApplication(uscc=USCC_A, id_number=OWNER_ID, phone=PHONE),
    )
    other_client = TestClient(api.client.app, base_url="https://testserver")
    _sign_in(api, other_client, OTHER_PHONE)
    response = _post(
        other_client, "/h5/apply", "/h5/apply", {"uscc": USCC_A, "id_number": OWNER_ID}
    )
    assert response.status_code == 409
    assert "已有一笔正在办理的申请" in response.text
    other_client.close()


def test_consent_without_a_ticked_source_is_refused(site: tuple[Api, TestClient]) -> None:
    api, client = site
    _sign_in(api, client)
    app_id = _apply(client)
    response = _consent(client, app_id, [])
    assert response.status_code == 422
    assert "勾选" in response.text
    assert api.assessor.requests == []


def test_a_declined_owner_reads_what_happens_next(site: tuple[Api, TestClient]) -> None:
    api, client = site
    api.assessor.outcome = Outcome.DECLINE
    _sign_in(api, client)
    app_id = _apply(client)
    _consent(client, app_id, ALL_SCOPES)
    page = client.get(f"/h5/apply/{app_id}")
    assert "暂时无法" in page.text
    assert "接下来" in page.text
    english = client.get(f"/h5/apply/{app_id}?lang=en")
    assert "We cannot offer you a line now" in english.text
    assert "What happens next" in english.text


def test_accept_draw_repay_statement_and_revoke(site: tuple[Api, TestClient]) -> None:
    api, client = site
    _sign_in(api, client)
    app_id = _apply(client)
    _consent(client, app_id, ALL_SCOPES)
    contract_page = client.get(f"/h5/apply/{app_id}/contract")
    assert contract_page.status_code == 200
    assert "授信合同" in contract_page.text
    unread = _post(client, f"/h5/apply/{app_id}/contract", f"/h5/apply/{app_id}/acceptance", {})
    assert unread.status_code == 422
    assert "请勾选确认您已阅读合同" in unread.text
    accepted = _post(
        client,
        f"/h5/apply/{app_id}/contract",
        f"/h5/apply/{app_id}/acceptance",
        {"read": "yes"},
    )
    assert accepted.status_code == 303
    line_path = str(accepted.headers["location"]).split("?")[0]
    assert line_path.startswith("/h5/line/")
    view = uc.get_application(api.deps.origination, actor=_owner(api), application_id=app_id)
    assert view.contract is not None
    signed_page = client.get(f"/h5/apply/{app_id}/contract").text
    assert view.contract.contract_no in signed_page
    assert view.contract.sha256 in signed_page
    assert client.get("/h5/line", follow_redirects=False).headers["location"] == line_path

    line_page = client.get(line_path)
    assert "300,000.00" in line_page.text
    key = KEY.search(line_page.text)
    assert key is not None
    token = CSRF.search(line_page.text)
    assert token is not None
    draw = {"amount": "50000", "term": "3", "request_key": key.group(1)}
    drawn = client.post(
        f"{line_path}/draws", data={**draw, "csrf_token": token.group(1)}, follow_redirects=False
    )
    assert drawn.status_code == 303, drawn.text
    # The same form sent twice draws once.
    client.post(f"{line_path}/draws", data={**draw, "csrf_token": token.group(1)})
    after = client.get(line_path)
    assert "250,000.00" in after.text
    receipt_id = re.search(r'href="/h5/receipts/([^"]+)"', after.text)
    assert receipt_id is not None

    too_much = _post(client, line_path, f"{line_path}/draws", {"amount": "999999", "term": "3"})
    assert too_much.status_code == 409
    assert "可用额度" in too_much.text

    receipt_path = f"/h5/receipts/{receipt_id.group(1)}"
    repaid = _post(client, receipt_path, f"{receipt_path}/repayments", {"amount": "10000"})
    assert repaid.status_code == 303
    assert "40,000.00" in client.get(receipt_path).text

    statement = client.get(f"{line_path}/statement")
    assert statement.status_code == 200, statement.text
    assert "借款" in statement.text
    assert "还款" in statement.text
    assert "50,000.00" in statement.text

    consents = client.get("/h5/consents")
    match = re.search(r'action="(/h5/consents/[^"]+/revocation)"', consents.text)
    assert match is not None
    revoked = _post(client, "/h5/consents", match.group(1), {})
    assert revoked.status_code == 303
    view = uc.get_application(api.deps.origination, actor=_owner(api), application_id=app_id)
    assert all(c.revoked_at is not None for c in view.consents)
    assert "已撤回" in client.get("/h5/consents").text


def test_staff_and_strangers_do_not_open_an_owners_pages(site: tuple[Api, TestClient]) -> None:
    api, client = site
    _sign_in(api, client)
    app_id = _apply(client)
    stranger = TestClient(api.client.app, base_url="https://testserver")
    _sign_in(api, stranger, OTHER_PHONE)
    assert stranger.get(f"/h5/apply/{app_id}").status_code == 404
    stranger.close()
    nobody = TestClient(api.client.app, base_url="https://testserver")
    response = nobody.get("/h5/line", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/h5/sign-in?next=/h5/line"
    nobody.close()


def test_a_receipt_called_in_by_the_bank_says_so_and_what_to_repay(
    site: tuple[Api, TestClient],
) -> None:
    api, client = site
    _sign_in(api, client)
    app_id = _apply(client)
    _consent(client, app_id, ALL_SCOPES)
    accepted = _post(
        client, f"/h5/apply/{app_id}/contract", f"/h5/apply/{app_id}/acceptance", {"read": "yes"}
    )
    line_path = str(accepted.headers["location"]).split("?")[0]
    line_id = line_path.rsplit("/", 1)[1]
    for amount in ("50000", "20000"):
        drawn = _post(client, line_path, f"{line_path}/draws", {"amount": amount, "term": "3"})
        assert drawn.status_code == 303, drawn.text
    receipt_ids = re.findall(r'href="/h5/receipts/([^"]+)"', client.get(line_path).text)
    assert len(receipt_ids) == 2
    assert "called-in" not in client.get(f"/h5/receipts/{receipt_ids[0]}").text
    assert "called-in" not in client.get(line_path).text

    today = api.clock.today()
    called = accelerate_line(
        api.deps.credit.servicing_uow,  # type: ignore[union-attr]
        CreditLineId(line_id),
        on=today,
        actor="risk",
        reason="post-loan task",
    )
    by_amount = {c.called_fen: c.receipt_id for c in called}
    assert sorted(by_amount.values()) == sorted(receipt_ids)
    receipt_id, other_id = by_amount[50_000_00], by_amount[20_000_00]
    receipt_path = f"/h5/receipts/{receipt_id}"
    # A post-loan task's recall notice would go to the phone the owner applied with.
    phone_of = owner_phone(api.deps.credit.origination_uow)  # type: ignore[union-attr]
    assert phone_of(USCC_A) == PHONE
    assert phone_of(USCC_B) is None  # never applied: no phone on file

    day = today.isoformat()
    line_page = client.get(line_path).text
    assert "银行已提前收回" in line_page
    assert f"{day} 提前收回" in line_page  # the receipt's mark in the list
    assert "已冻结" in line_page
    assert f'action="{line_path}/draws"' not in line_page  # a frozen line offers no draw
    assert "银行已冻结您的额度" in line_page
    assert '<p class="amount">¥0.00</p>' in line_page  # nothing to draw on a frozen line
    receipt_page = client.get(receipt_path).text
    assert "银行已提前收回" in receipt_page
    assert f"{day}，银行依据借款合同提前收回本笔借据" in receipt_page
    assert "请立即归还 ¥50,000.00" in receipt_page
    english = client.get(f"{receipt_path}?lang=en").text
    assert "Called in by the bank" in english
    assert f"On {day} the bank called this receipt in early" in english
    assert "Repay ¥50,000.00 now, below." in english
    # The borrower's API says it too.
    schedule = client.get(
        f"/api/v1/receipts/{receipt_id}/schedule", headers=api.applicant_headers()
    )
    assert schedule.status_code == 200, schedule.text
    assert schedule.json()["called_in_on"] == day

    repaid = _post(client, receipt_path, f"{receipt_path}/repayments", {"amount": "50000"})
    assert repaid.status_code == 303, repaid.text
    settled = client.get(f"{receipt_path}?lang=en").text
    assert "It is settled: nothing more is owed on it." in settled
    assert "Repay ¥" not in settled
    assert "银行已依据借款合同提前收回下列标注的借据" in client.get(f"{line_path}?lang=zh-CN").text
    # The other one is written off (核销): the claim stays owed, so it is not "settled".
    write_off(
        api.deps.credit.servicing_uow,  # type: ignore[union-attr]
        ReceiptId(other_id),
        on=today,
        idempotency_key="w-1",
        actor="ops",
        reason="uncollectable",
    )
    written_off = client.get(f"/h5/receipts/{other_id}?lang=en").text
    assert f"On {day} the bank called this receipt in early." in written_off
    assert "settled" not in written_off
    assert "Repay ¥" not in written_off
    assert "called-in" not in client.get(line_path).text  # nothing called in is owed now
