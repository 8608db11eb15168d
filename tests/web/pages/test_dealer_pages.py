"""Dealer lines on the pages over HTTP: the dealer's own H5 pages (its line, its receipts, a
draw paid to the core; refusals in zh-CN and English that change nothing; another
enterprise's line is 404) and the console (list by core, a line with its receipts, decide and
draw by risk officers and operations; others refused)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parents[2] / "dealers"))

from api_support import Api
from dealer_support import CORE, CORE_NAME, DEALER, DEALER_NAME, WEAK_DEALER, YUAN
from ops_pages_support import sign_in
from test_dealer_lines_api import on_tiny_market

from puhui.domain.ids import CreditLineId
from puhui.services.security.permissions import Role

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY = re.compile(r'name="request_key" value="([^"]+)"')


class Phone:
    """An enterprise user on the H5 pages: its cookies, the CSRF token and key of its forms."""

    def __init__(self, api: Api, phone: str, uscc: str) -> None:
        self.client = TestClient(api.client.app, base_url="https://testserver")
        self.csrf = ""
        self.key = ""
        token = CSRF.search(self.client.get("/h5/sign-in").text)
        assert token is not None
        sent = self.client.post(
            "/h5/sign-in/code", data={"phone": phone, "csrf_token": token.group(1)}
        )
        assert sent.status_code == 200, sent.text
        code = next(c for p, c in reversed(api.sender.sent) if p == phone)
        signed = self.client.post(
            "/h5/sign-in",
            data={"phone": phone, "code": code, "csrf_token": token.group(1), "next": "/h5/line"},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        with api.deps.security.reader_factory() as uow:
            user = uow.users.applicant_by_phone(phone)
        assert user is not None
        risk = api.staff_headers(Role.RISK_OFFICER, f"risk-{phone}")
        bound = api.client.post(
            "/api/v1/enterprise-users", json={"user_id": user.user_id, "uscc": uscc}, headers=risk
        )
        assert bound.status_code == 204, bound.text

    def get(self, path: str, status: int = 200) -> str:
        response = self.client.get(path)
        assert response.status_code == status, response.text
        for pattern, name in ((CSRF, "csrf"), (KEY, "key")):
            found = pattern.search(response.text)
            if found is not None:
                setattr(self, name, found.group(1))
        return response.text

    def post(self, path: str, data: dict[str, str], *, csrf: bool = True) -> httpx.Response:
        body = {"request_key": self.key, **data}
        if csrf:
            body["csrf_token"] = self.csrf
        return self.client.post(path, data=body, follow_redirects=False)


def _open(api: Api) -> str:
    opened = api.client.post(
        "/api/v1/dealer-lines",
        json={"core_uscc": CORE, "dealer_uscc": DEALER, "commitment": "guarantee"},
        headers={**api.staff_headers(Role.RISK_OFFICER, "risk-open"), "Idempotency-Key": "o"},
    )
    assert opened.status_code == 201, opened.text
    return str(opened.json()["line_id"])


def _drawn(api: Api, line_id: str) -> int:
    assert api.deps.credit is not None
    with api.deps.credit.servicing_uow() as uow:
        line = uow.lines.get(CreditLineId(line_id))
    assert line is not None
    return line.drawn_fen


def test_the_dealer_sees_its_line_and_draws_to_the_core_once(servicing_api: Api) -> None:
    api = servicing_api
    on_tiny_market(api)
    line_id = _open(api)
    dealer = Phone(api, "13900003333", DEALER)

    listed = dealer.get("/h5/dealer-lines")
    assert "我的经销商额度" in listed
    assert f"/h5/dealer-lines/{line_id}" in listed
    assert f"收款核心企业 {CORE_NAME} ({CORE})" in listed
    page = dealer.get(f"/h5/dealer-lines/{line_id}")
    assert "¥540,000.00" in page  # available = the limit
    assert "2027-03-02" in page  # the expiry
    assert "尚无支用" in page

    over = dealer.post(f"/h5/dealer-lines/{line_id}/draws", {"amount": "540000.01"})
    assert over.status_code == 409
    assert "金额超过该经销商额度的可用额度（¥540,000.00）" in over.text
    bad = dealer.post(f"/h5/dealer-lines/{line_id}/draws", {"amount": "-1"})
    assert bad.status_code == 422
    assert "请输入大于零的金额" in bad.text
    forged = dealer.post(f"/h5/dealer-lines/{line_id}/draws", {"amount": "10"}, csrf=False)
    assert forged.status_code == 403
    assert _drawn(api, line_id) == 0

    dealer.get(f"/h5/dealer-lines/{line_id}")
    form = {"amount": "100000", "maturity": "2026-05-31"}
    done = dealer.post(f"/h5/dealer-lines/{line_id}/draws", form)
    assert done.status_code == 303, done.text
    again = dealer.post(f"/h5/dealer-lines/{line_id}/draws", form)  # the same form, sent twice
    assert again.status_code == 303
    assert _drawn(api, line_id) == 100_000 * YUAN
    after = dealer.get(done.headers["location"])
    assert "已完成。款项已支付给核心企业" in after
    assert "¥440,000.00" in after
    assert f"已支付给 {CORE_NAME} ({CORE})" in after
    english = dealer.get(f"/h5/dealer-lines/{line_id}?lang=en")
    assert f"Paid to {CORE_NAME} ({CORE})" in english
    assert "Available to draw" in english
    refused = dealer.post(f"/h5/dealer-lines/{line_id}/draws", {"amount": "440000.01"})
    assert refused.status_code == 409
    assert "more than what is available on this dealer line (¥440,000.00)" in refused.text


def test_another_enterprise_user_cannot_see_or_draw_the_line(servicing_api: Api) -> None:
    api = servicing_api
    on_tiny_market(api)
    line_id = _open(api)
    other = Phone(api, "13900004444", WEAK_DEALER)
    assert f"/h5/dealer-lines/{line_id}" not in other.get("/h5/dealer-lines")
    other.get(f"/h5/dealer-lines/{line_id}", status=404)
    other.get("/h5/dealer-lines")
    stolen = other.post(f"/h5/dealer-lines/{line_id}/draws", {"amount": "1000"})
    assert stolen.status_code == 404
    assert _drawn(api, line_id) == 0


def test_the_console_lists_decides_and_draws(servicing_api: Api) -> None:
    api = servicing_api
    on_tiny_market(api)
    risk = sign_in(api.deps, api.client.app, "wang", Role.RISK_OFFICER)
    empty = risk.get("/console/dealer-lines")
    assert "尚无经销商额度" in empty
    declined = risk.post(
        "/console/dealer-lines",
        {"core": CORE, "dealer": WEAK_DEALER, "commitment": "none", "amount": ""},
    )
    assert declined.status_code == 422
    assert "策略拒绝了该经销商额度" in declined.text
    bad = risk.post("/console/dealer-lines", {"core": "x", "dealer": DEALER, "commitment": "none"})
    assert bad.status_code == 422
    assert "18 位统一社会信用代码" in bad.text
    opened = risk.post(
        "/console/dealer-lines",
        {"core": CORE, "dealer": DEALER, "commitment": "guarantee", "amount": "600000"},
    )
    assert opened.status_code == 303, opened.text
    line_id = opened.headers["location"].split("/")[-1].split("?")[0]
    page = risk.get(opened.headers["location"])
    assert "经销商额度已开立" in page
    assert "540,000.00" in page
    assert (
        risk.post(
            f"/console/dealer-lines/{line_id}/draws", {"amount": "20000", "request_key": "k1"}
        ).status_code
        == 303
    )
    detail = risk.get(f"/console/dealer-lines/{line_id}?lang=en")
    assert "Receipts" in detail
    assert "20,000.00" in detail
    for shown in (CORE_NAME, CORE, DEALER_NAME, DEALER):  # both firms by name and code
        assert shown in detail
    by_core = risk.get(f"/console/dealer-lines?core={CORE}")
    assert line_id in by_core
    assert CORE_NAME in by_core
    assert DEALER_NAME in by_core
    assert line_id not in risk.get(f"/console/dealer-lines?core={DEALER}")
    assert _drawn(api, line_id) == 20_000 * YUAN

    approver = sign_in(api.deps, api.client.app, "zhao", Role.APPROVER)
    seen = approver.get(f"/console/dealer-lines/{line_id}")
    assert "按经销商指令支用" not in seen  # no draw form for an approver
    refused = approver.post(f"/console/dealer-lines/{line_id}/draws", {"amount": "10"})
    assert refused.status_code == 403
    assert _drawn(api, line_id) == 20_000 * YUAN
