"""Supply-chain finance pages over HTTP: the console's core enterprises (freeze, unfreeze),
vouchers by tier with a voucher's provenance, the financing queue (approve, reject), and a
supplier's H5 pages (accept, split with its errors, transfer, request financing with the
indicative discount). Roles allowed and refused, CSRF, zh-CN and English."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parents[2] / "supply_chain" / "platform"))

from api_support import Api, build_api
from ops_pages_support import sign_in
from scf_support import (
    CORE,
    CORE_USER,
    INVOICED_FEN,
    MONTH,
    RISK,
    STRANGER,
    SUPPLIER,
    TIER2,
    TIER2_USER,
    FakePolicy,
    FakeSource,
)

from puhui.adapters.db.supply_chain.unit_of_work import SupplyChainUnitOfWork
from puhui.domain.clock import FixedClock
from puhui.domain.supply_chain import discount
from puhui.services.security.permissions import Principal, Role
from puhui.services.supply_chain.ports import VoucherQuery
from puhui.services.supply_chain.use_cases import SupplyChainService
from puhui.web.pages.i18n import yuan

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
KEY = re.compile(r'name="request_key" value="([^"]+)"')
SUPPLIER_PHONE = "13900001111"
OTHER_PHONE = "13900002222"
MATURITY_DAYS = 90
AUDIT_KEY = b"a" * 32  # build_api's


@dataclass
class World:
    api: Api
    service: SupplyChainService
    clock: FixedClock

    @property
    def app(self) -> object:
        return self.api.client.app


@pytest.fixture
def world(database_url: str, clock: FixedClock) -> Iterator[World]:
    """The app on each database with the service, a core onboarded and its users bound."""
    built, engine = build_api(database_url, clock)

    def units() -> SupplyChainUnitOfWork:
        return SupplyChainUnitOfWork(engine, clock=clock, audit_key=AUDIT_KEY)

    service = SupplyChainService(units=units, clock=clock, source=FakeSource(), policy=FakePolicy())
    app = built.client.app
    deps = app.state.deps
    if "supply_chain" in {f.name for f in fields(deps)}:
        app.state.deps = replace(deps, supply_chain=service)
    else:  # the platform's wiring not merged yet
        object.__setattr__(deps, "supply_chain", service)
    service.onboard_core(
        RISK, uscc=CORE, requested_fen=5_000_000_00, as_of=clock.today(), key="onboard"
    )
    service.name_partner(RISK, core=CORE, partner_uscc=SUPPLIER, relation="supplier", key="p1")
    service.bind_user(RISK, user_id=CORE_USER.user_id, uscc=CORE)
    service.bind_user(RISK, user_id=TIER2_USER.user_id, uscc=TIER2)
    try:
        yield World(built, service, clock)
    finally:
        built.client.close()
        engine.dispose()


def _issue(world: World, *, month: dt.date = MONTH, amount_fen: int = INVOICED_FEN) -> str:
    service = world.service
    payable = service.confirm_payable(
        CORE_USER,
        core=CORE,
        supplier=SUPPLIER,
        invoice_month=month,
        amount_fen=amount_fen,
        key=f"payable-{month}",
    )
    voucher = service.issue_voucher(
        CORE_USER,
        core=CORE,
        payable_id=payable.payable_id,
        maturity=world.clock.today() + dt.timedelta(days=MATURITY_DAYS),
        key=f"issue-{month}",
    )
    return voucher.voucher_id


class Phone:
    """A supplier's user on the H5 pages: cookies, the CSRF token and key of the last form."""

    def __init__(self, world: World, phone: str) -> None:
        self.client = TestClient(world.app, base_url="https://testserver")
        self.csrf = ""
        self.key = ""
        token = self._token(self.client.get("/h5/sign-in").text)
        sent = self.client.post("/h5/sign-in/code", data={"phone": phone, "csrf_token": token})
        assert sent.status_code == 200, sent.text
        code = next(c for p, c in reversed(world.api.sender.sent) if p == phone)
        signed = self.client.post(
            "/h5/sign-in",
            data={"phone": phone, "code": code, "csrf_token": token, "next": "/h5/vouchers"},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        with world.api.deps.security.reader_factory() as uow:
            user = uow.users.applicant_by_phone(phone)
        assert user is not None
        self.user_id = user.user_id

    @staticmethod
    def _token(page: str) -> str:
        found = CSRF.search(page)
        assert found is not None
        return found.group(1)

    def get(self, path: str, status: int = 200) -> str:
        response = self.client.get(path)
        assert response.status_code == status, response.text
        found = CSRF.search(response.text)
        if found is not None:
            self.csrf = found.group(1)
        key = KEY.search(response.text)
        if key is not None:
            self.key = key.group(1)
        return response.text

    def post(
        self, path: str, data: dict[str, object] | None = None, *, csrf: bool = True
    ) -> httpx.Response:
        body: dict[str, object] = {"request_key": self.key, **(data or {})}
        if csrf:
            body["csrf_token"] = self.csrf
        return self.client.post(path, data=body, follow_redirects=False)


def supplier_principal(world: World, supplier: Phone) -> Principal:
    return Principal(user_id=supplier.user_id, role=Role.APPLICANT)


def _supplier(world: World, phone: str = SUPPLIER_PHONE, uscc: str = SUPPLIER) -> Phone:
    signed = Phone(world, phone)
    world.service.bind_user(RISK, user_id=signed.user_id, uscc=uscc)
    return signed


# --- the console ------------------------------------------------------------------------------


def test_the_cores_page_shows_facility_usage_and_a_risk_officer_freezes_and_unfreezes(
    world: World,
) -> None:
    _issue(world)
    risk = sign_in(world.api.deps, world.app, "liu", Role.RISK_OFFICER)
    page = risk.get("/console/supply-chain/cores")
    assert "核心企业" in page
    assert CORE in page
    assert "5,000,000.00" in page  # the facility
    assert "1,000,000.00" in page  # outstanding: the voucher issued
    assert "4,000,000.00" in page  # available
    assert "3.60%" in page  # the discount rate of the core's grade
    assert "有效" in page
    assert "冻结" in page
    # A reason is required, and said so in the page.
    empty = risk.post(f"/console/supply-chain/cores/{CORE}/freeze", {"reason": " "})
    assert empty.status_code == 422
    assert "请简要填写原因" in empty.text
    # No CSRF token: refused, nothing frozen.
    forged = risk.post(f"/console/supply-chain/cores/{CORE}/freeze", {"reason": "x"}, csrf=False)
    assert forged.status_code == 403
    assert world.service.list_cores(RISK)[0].status == "active"
    frozen = risk.post(f"/console/supply-chain/cores/{CORE}/freeze", {"reason": "核心企业涉诉"})
    assert frozen.status_code == 303
    after = risk.get(frozen.headers["location"])
    assert "额度已冻结。" in after
    assert "解冻" in after
    assert world.service.list_cores(RISK)[0].status == "frozen"
    english = risk.get("/console/supply-chain/cores?lang=en")
    assert "Core enterprises" in english
    assert "Frozen" in english
    thawed = risk.post(f"/console/supply-chain/cores/{CORE}/unfreeze", {"reason": "resolved"})
    assert thawed.status_code == 303
    assert "The facility is active again." in risk.get(thawed.headers["location"])
    assert world.service.list_cores(RISK)[0].status == "active"


def test_an_approver_reads_the_facilities_but_may_not_freeze_and_others_are_refused(
    world: World,
) -> None:
    approver = sign_in(world.api.deps, world.app, "chen", Role.APPROVER)
    page = approver.get("/console/supply-chain/cores")
    assert CORE in page
    assert f"/console/supply-chain/cores/{CORE}/freeze" not in page  # no form for a reader
    refused = approver.post(f"/console/supply-chain/cores/{CORE}/freeze", {"reason": "x"})
    assert refused.status_code == 403
    assert world.service.list_cores(RISK)[0].status == "active"
    manager = sign_in(world.api.deps, world.app, "wang", Role.ACCOUNT_MANAGER)
    home = manager.get("/console/")
    assert "/console/supply-chain/cores" not in home  # no entry in the sections
    assert manager.client.get("/console/supply-chain/vouchers").status_code == 403
    assert manager.client.get("/console/supply-chain/financings").status_code == 403


def test_vouchers_by_tier_and_a_vouchers_provenance_tree(world: World) -> None:
    root = _issue(world)
    supplier = _supplier(world)
    service = world.service
    holder = supplier_principal(world, supplier)
    service.accept_voucher(holder, voucher_id=root, key="a")
    split = service.split_voucher(holder, voucher_id=root, parts=[600_000_00, 400_000_00], key="s")
    first, second = (c.voucher_id for c in split.children)
    service.transfer_voucher(holder, voucher_id=first, to=TIER2, key="t")
    ops = sign_in(world.api.deps, world.app, "zhao", Role.OPERATIONS)
    page = ops.get("/console/supply-chain/vouchers")
    assert "各层级凭证" in page
    tiers = page[page.index("data-tiers") : page.index("</table>", page.index("data-tiers"))]
    rows = re.findall(r"<tr>(.*?)</tr>", tiers, flags=re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S) for r in rows]
    assert [c for c in cells if c] == [
        [CORE, "第 1 级", "1", "400,000.00", "0.00"],
        [CORE, "第 2 级", "1", "600,000.00", "0.00"],
    ]
    listed = page[page.index("data-vouchers") :]
    assert re.search(rf"{root}</a>.*?已拆分", listed, flags=re.S)  # listed, counted by its parts
    only_tier1 = ops.get(f"/console/supply-chain/vouchers?core={CORE}&status=outstanding")
    assert second in only_tier1
    detail = ops.get(f"/console/supply-chain/vouchers/{first}")
    assert "流转记录" in detail
    assert root in detail  # the whole tree from the root
    assert second in detail
    assert f"由 {SUPPLIER} 转让给 {TIER2}" in detail
    assert f"{SUPPLIER}:{CORE}:{MONTH:%Y-%m}" in detail  # the invoice behind the root
    english = ops.get(f"/console/supply-chain/vouchers/{first}?lang=en")
    assert f"from {SUPPLIER} to {TIER2}" in english
    assert "Provenance" in english
    assert ops.client.get("/console/supply-chain/vouchers/vch_nonesuch").status_code == 404


def test_the_financing_queue_is_approved_and_rejected_by_staff_who_may(world: World) -> None:
    first_id = _issue(world)
    second_id = _issue(world, month=dt.date(2026, 2, 1), amount_fen=500_000_00)
    supplier = _supplier(world)
    holder = supplier_principal(world, supplier)
    for n, voucher in enumerate((first_id, second_id)):
        world.service.accept_voucher(holder, voucher_id=voucher, key=f"a{n}")
        world.service.request_financing(holder, voucher_id=voucher, key=f"f{n}")
    queued = world.service.financing_queue(RISK)
    by_voucher = {f.voucher_id: f.financing_id for f in queued}
    expected = discount(
        INVOICED_FEN,
        financed_on=world.clock.today(),
        maturity=world.clock.today() + dt.timedelta(days=MATURITY_DAYS),
        annual_rate=Decimal("0.036"),
        fee_rate=Decimal("0.001"),
    )
    approver = sign_in(world.api.deps, world.app, "chen", Role.APPROVER)
    page = approver.get("/console/supply-chain/financings")
    assert "凭证融资审批队列" in page
    assert yuan(expected.proceeds_fen) in page
    assert yuan(expected.interest_fen) in page
    risk = sign_in(world.api.deps, world.app, "liu", Role.RISK_OFFICER)
    read_only = risk.get("/console/supply-chain/financings")  # staff may read the queue
    assert first_id in read_only
    assert "/approve" not in read_only  # but has no buttons to decide
    refused = risk.post(f"/console/supply-chain/financings/{by_voucher[first_id]}/approve")
    assert refused.status_code == 403
    forged = approver.post(
        f"/console/supply-chain/financings/{by_voucher[first_id]}/approve", csrf=False
    )
    assert forged.status_code == 403
    approved = approver.post(f"/console/supply-chain/financings/{by_voucher[first_id]}/approve")
    assert approved.status_code == 303
    assert "融资已批准" in approver.get(approved.headers["location"])
    no_reason = approver.post(f"/console/supply-chain/financings/{by_voucher[second_id]}/reject")
    assert no_reason.status_code == 422
    assert "请简要填写原因" in no_reason.text
    rejected = approver.post(
        f"/console/supply-chain/financings/{by_voucher[second_id]}/reject",
        {"reason": "资料不全"},
    )
    assert rejected.status_code == 303
    after = approver.get(rejected.headers["location"] + "&lang=en")
    assert "The financing request is rejected." in after
    assert "No financing request is waiting." in after
    again = approver.post(
        f"/console/supply-chain/financings/{by_voucher[first_id]}/reject", {"reason": "late"}
    )
    assert again.status_code == 409  # decided already: said so, nothing changes
    assert "This request was decided already" in again.text
    tree = world.service.voucher_tree(RISK, voucher_id=first_id)
    assert {v.voucher_id: v.status for v in tree.vouchers}[first_id] == "financed"
    # The voucher's page tells its financing, then its settlement to the bank at maturity.
    detail = approver.get(f"/console/supply-chain/vouchers/{first_id}?lang=zh-CN")
    assert "申请融资：已批准，融资款已发放" in detail
    assert f"实付 ¥{yuan(expected.proceeds_fen)}" in detail
    maturity = world.clock.today() + dt.timedelta(days=MATURITY_DAYS)
    ops = Principal(user_id="ops-1", role=Role.OPERATIONS)
    world.service.settle_due(ops, on=maturity, key="settle")
    settled = approver.get(f"/console/supply-chain/vouchers/{first_id}")
    assert f"{maturity:%Y-%m-%d} 向 本行 兑付 ¥1,000,000.00" in settled
    assert "已兑付" in settled


# --- H5: the supplier -------------------------------------------------------------------------


def test_a_supplier_accepts_splits_with_errors_shown_and_transfers(world: World) -> None:
    root = _issue(world)
    supplier = _supplier(world)
    mine = supplier.get("/h5/vouchers")
    assert "我的凭证" in mine
    assert "1,000,000.00" in mine
    assert "待签收" in mine
    page = supplier.get(f"/h5/vouchers/{root}")
    assert "签收凭证" in page
    assert "拆分凭证" not in page  # not accepted yet: nothing else to do
    forged = supplier.post(f"/h5/vouchers/{root}/accept", csrf=False)
    assert forged.status_code == 403
    accepted = supplier.post(f"/h5/vouchers/{root}/accept")
    assert accepted.status_code == 303
    page = supplier.get(accepted.headers["location"])
    assert "凭证已签收" in page
    assert "拆分凭证" in page
    # Parts that do not add up: the sum and the face are told, nothing is split.
    short = supplier.post(f"/h5/vouchers/{root}/split", {"part": ["600000", "300000"]})
    assert short.status_code == 422
    assert "各份之和为 ¥900,000.00，不等于 ¥1,000,000.00" in short.text
    assert 'value="600000"' in short.text  # the parts are kept for correcting
    zero = supplier.post(f"/h5/vouchers/{root}/split", {"part": ["1000000", "0"]})
    assert zero.status_code == 422
    assert "请输入大于零的金额" in zero.text
    one = supplier.post(f"/h5/vouchers/{root}/split", {"part": ["1000000", ""]})
    assert one.status_code == 422
    assert "请至少填写两份" in one.text
    english = supplier.client.get(f"/h5/vouchers/{root}?lang=en&parts=3")
    assert english.text.count('name="part"') == 3
    supplier.get(f"/h5/vouchers/{root}")
    wrong_en = supplier.post(f"/h5/vouchers/{root}/split", {"part": ["1", "2", "3"]})
    assert "The parts add up to ¥6.00, not ¥1,000,000.00" in wrong_en.text
    tree = world.service.voucher_tree(RISK, voucher_id=root)
    assert [v.status for v in tree.vouchers] == ["outstanding"]  # nothing changed
    supplier.client.get("/h5/vouchers?lang=zh-CN")
    supplier.get(f"/h5/vouchers/{root}")
    done = supplier.post(f"/h5/vouchers/{root}/split", {"part": ["600000", "399999.50", "0.50"]})
    assert done.status_code == 303, done.text
    listed = supplier.get(done.headers["location"])
    assert "凭证已拆分" in listed
    assert "399,999.50" in listed
    children = [
        v for v in world.service.voucher_tree(RISK, voucher_id=root).vouchers if v.parent_id
    ]
    assert sorted(c.amount_fen for c in children) == [50, 399_999_50, 600_000_00]
    part = next(c.voucher_id for c in children if c.amount_fen == 600_000_00)
    supplier.get(f"/h5/vouchers/{part}")
    stranger = supplier.post(f"/h5/vouchers/{part}/transfer", {"to": STRANGER})
    assert stranger.status_code == 422
    assert "最近 12 个月没有向持有人销售过" in stranger.text
    bad = supplier.post(f"/h5/vouchers/{part}/transfer", {"to": "123"})
    assert bad.status_code == 422
    assert "请输入供应商 18 位的统一社会信用代码" in bad.text
    moved = supplier.post(f"/h5/vouchers/{part}/transfer", {"to": TIER2.lower()})
    assert moved.status_code == 303
    assert "凭证已转给您的供应商" in supplier.get(moved.headers["location"])
    assert part not in supplier.get("/h5/vouchers")  # it is the supplier's supplier's now
    tier2 = world.service.list_vouchers(TIER2_USER, query=VoucherQuery(holder=TIER2))
    assert [(v.voucher_id, v.tier) for v in tier2] == [(part, 2)]


def test_a_supplier_sees_the_indicative_discount_and_requests_financing(world: World) -> None:
    root = _issue(world)
    supplier = _supplier(world)
    world.service.accept_voucher(supplier_principal(world, supplier), voucher_id=root, key="accept")
    page = supplier.get(f"/h5/vouchers/{root}")
    expected = discount(
        INVOICED_FEN,
        financed_on=world.clock.today(),
        maturity=world.clock.today() + dt.timedelta(days=MATURITY_DAYS),
        annual_rate=Decimal("0.036"),
        fee_rate=Decimal("0.001"),
    )
    quote = page[page.index('class="facts quote"') : page.index("</dl>", page.index("quote"))]
    assert f"<dd>{expected.days}</dd>" in quote
    assert "3.60%" in quote
    assert f"¥{yuan(expected.interest_fen)}" in quote
    assert f"¥{yuan(expected.fee_fen)}" in quote
    assert f"¥{yuan(expected.proceeds_fen)}" in quote
    asked = supplier.post(f"/h5/vouchers/{root}/finance")
    assert asked.status_code == 303
    after = supplier.get(asked.headers["location"])
    assert "申请已提交银行" in after
    assert "银行审批中" in after
    assert "拆分凭证" not in after  # pending at the bank: neither split nor transferred
    assert f"¥{yuan(expected.proceeds_fen)}" in after
    (queued,) = world.service.financing_queue(RISK)
    assert queued.voucher_id == root
    english = supplier.get(f"/h5/vouchers/{root}?lang=en")
    assert "Waiting for the bank" in english


def test_a_supplier_sees_only_its_own_vouchers(world: World) -> None:
    root = _issue(world)
    _supplier(world)
    other = _supplier(world, OTHER_PHONE, STRANGER)
    assert root not in other.get("/h5/vouchers")
    assert "您还没有凭证" in other.get("/h5/vouchers")
    refused = other.client.get(f"/h5/vouchers/{root}")
    assert refused.status_code == 403
    unbound = Phone(world, "13900003333")
    assert "您还没有凭证" in unbound.get("/h5/vouchers")
    # A staff session is no H5 session.
    ops = sign_in(world.api.deps, world.app, "zhao", Role.OPERATIONS)
    assert ops.client.get("/h5/vouchers", follow_redirects=False).status_code == 303
