"""Repayments in suspense (挂账) in the console over HTTP, on SQLite and PostgreSQL: held from
the reconciliation's page, the item's page with its two forms, applied or refunded once (a
refund requested by one operator, approved or rejected by another), the list by status, the
home's count; refusals shown with their reason; roles that may only read."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from api_support import Api, build_servicing_api
from ops_pages_support import Staff, sign_in
from sqlalchemy import Engine
from test_servicing_api import draw, open_line

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.domain.clock import FixedClock
from puhui.domain.ledger import Account, JournalEntry
from puhui.pipelines.eod import run_end_of_day
from puhui.services.security.permissions import Role

ITEM_PATH = re.compile(r"/console/suspense/(sus_[0-9A-Z]{26})")
HEADER = "order_id,loan_id,amount,value_date,channel_ref\n"


@pytest.fixture
def world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[tuple[Api, Engine]]:
    api, engine = build_servicing_api(database_url, clock, tmp_path / "models")
    try:
        yield api, engine  # type: ignore[misc]
    finally:
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def _reconciled(api: Api, engine: Engine, clock: FixedClock, ops: Staff) -> tuple[str, str, str]:
    """Two receipts, a repayment of the first posted today, the day closed, and the channel's
    file reconciled: it has the posted order and two it collected that were never posted. The
    run's path, the channel's loan, the other receipt."""
    line_id, owner = open_line(api)
    receipt = draw(api, line_id, owner, "draw-1", 5_000_000).json()["receipt_id"]
    second = draw(api, line_id, owner, "draw-2", 1_000_000).json()["receipt_id"]
    paid = api.client.post(
        f"/api/v1/receipts/{receipt}/repayments",
        json={"amount_fen": 1_000_000},
        headers={**owner, "Idempotency-Key": "ORD-1"},
    )
    assert paid.status_code == 201, paid.text
    run_end_of_day(SqlEndOfDayStore(engine, clock=clock), clock.today())
    today = clock.today().isoformat()
    text = (
        HEADER
        + f"ORD-1,{receipt},10000.00,{today},CH-1\n"
        + f"ORD-8,{receipt},8.00,{today},CH-8\n"
        + f"ORD-9,{receipt},12.00,{today},CH-9\n"
    )
    ops.get("/console/reconciliation")
    run = ops.client.post(
        "/console/reconciliation",
        data={"csrf_token": ops.csrf, "value_date": today},
        files={"file": ("channel.csv", text.encode(), "text/csv")},
    )
    assert run.status_code == 200, run.text
    return str(run.url).removeprefix(str(ops.client.base_url)), receipt, second


def _hold(ops: Staff, run_path: str, order: str) -> httpx.Response:
    ops.get(run_path)
    return ops.post("/console/suspense", {"run_id": run_path.rsplit("/", 1)[-1], "order_id": order})


def test_operations_hold_apply_and_refund_from_the_console(
    world: tuple[Api, Engine], clock: FixedClock
) -> None:
    api, engine = world
    ops = sign_in(api.deps, api.client.app, "operations", Role.OPERATIONS)
    run_path, receipt, _ = _reconciled(api, engine, clock, ops)
    page = ops.get(run_path)
    assert "有 2 笔差错待处理。" in page
    assert page.count('action="/console/suspense"') == 2  # one form per unposted order
    assert "先挂账，再入账到贷款或退回付款人" in page
    assert "待处理的挂账还款：" not in ops.get("/console/")

    held = _hold(ops, run_path, "ORD-9")
    assert held.status_code == 303
    found = ITEM_PATH.search(held.headers["location"])
    assert found is not None
    item_path = found.group(0)
    assert held.headers["location"].endswith("?done=held")
    item = ops.get(held.headers["location"])
    assert "款项已挂账。" in item
    assert "挂账中" in item
    assert "12.00" in item
    assert "CH-9" in item
    assert "经办人 operations" in item  # who held it, by name
    assert f"以全部金额作为 {receipt} 的一笔还款" in item  # the channel's loan, by the button
    # A second click shows the same item, without saying it was held again.
    again = _hold(ops, run_path, "ORD-9")
    assert again.headers["location"] == item_path
    # The run's page links the held order; the other still has its form.
    page = ops.get(run_path)
    assert page.count('action="/console/suspense"') == 1
    assert f'<a href="{item_path}">已挂账：查看处理情况</a>' in page
    assert "待处理的挂账还款：1 笔" in ops.get("/console/")
    listed = ops.get("/console/suspense")
    assert item_path in listed
    assert "ORD-9" in listed

    applied = ops.post(f"{item_path}/apply", {})
    assert applied.status_code == 303
    assert applied.headers["location"] == f"{item_path}?done=applied"
    shown = ops.get(applied.headers["location"])
    assert "款项已作为还款入账到贷款。" in shown
    assert "已入账" in shown
    assert f"suspense:{item_path.rsplit('/', 1)[-1]}:1" in shown  # the repayment's key
    assert 'action="' + item_path + '/apply"' not in shown  # resolved: no forms
    twice = ops.post(f"{item_path}/apply", {})
    assert twice.status_code == 409
    assert "只能处理一次" in twice.text
    assert "待处理的挂账还款：" not in ops.get("/console/")
    assert "没有此状态的挂账款。" in ops.get("/console/suspense")
    assert item_path in ops.get("/console/suspense?status=applied")

    other = _hold(ops, run_path, "ORD-8").headers["location"]
    other_path = other.split("?")[0]
    ops.get(other)
    no_reason = ops.post(f"{other_path}/refund", {"reason": "  "})
    assert no_reason.status_code == 422
    assert "reason must be 1 to 200" in no_reason.text
    unknown = ops.post(f"{other_path}/transfer", {"loan_id": "rcpt_none", "reason": "typo"})
    assert unknown.status_code == 404
    assert 'value="rcpt_none"' in unknown.text  # what was typed is given back
    assert 'value="typo"' in unknown.text
    requested = ops.post(f"{other_path}/refund", {"reason": "the payer's duplicate"})
    assert requested.status_code == 303
    assert requested.headers["location"] == f"{other_path}?done=refund_requested"
    shown = ops.get(requested.headers["location"])
    assert "已申请退回。另一位运营人员复核通过前，款项仍在挂账中。" in shown
    assert "退回待复核" in shown
    assert "the payer&#39;s duplicate" in shown
    # Its requester is told another operator approves it, and may only withdraw it.
    assert "此退回由您申请" in shown
    assert f'action="{other_path}/refund/approve"' not in shown
    assert f'action="{other_path}/refund/reject"' in shown
    same = ops.post(f"{other_path}/refund/approve", {})
    assert same.status_code == 409
    assert "此操作须由另一人完成：您不能审批自己提交的事项。" in same.text
    assert "待处理的挂账还款：1" in ops.get("/console/")  # still waiting for operations
    assert other_path in ops.get("/console/suspense?status=refund_requested")

    checker = sign_in(api.deps, api.client.app, "checker", Role.OPERATIONS)
    page = checker.get(other_path)
    assert f'action="{other_path}/refund/approve"' in page
    assert "驳回退回申请" in page
    blank = checker.post(f"{other_path}/refund/reject", {"reason": ""})
    assert blank.status_code == 422
    rejected = checker.post(f"{other_path}/refund/reject", {"reason": "payer unknown"})
    assert rejected.headers["location"] == f"{other_path}?done=refund_rejected"
    assert "退回申请已驳回：款项继续挂账。" in checker.get(rejected.headers["location"])
    nothing = checker.post(f"{other_path}/refund/approve", {})
    assert nothing.status_code == 409
    assert "没有待复核的退回申请" in nothing.text

    ops.get(other_path)
    ops.post(f"{other_path}/refund", {"reason": "the payer's duplicate"})
    checker.get(other_path)
    approved = checker.post(f"{other_path}/refund/approve", {})
    assert approved.status_code == 303
    assert approved.headers["location"] == f"{other_path}?done=refunded"
    shown = checker.get(approved.headers["location"])
    assert "退回已复核通过：款项已退回付款人。" in shown
    assert "复核通过" in shown
    assert "/refund/" not in shown  # resolved: no forms
    everything = ops.get("/console/suspense?status=all")
    assert item_path in everything
    assert other_path in everything
    english = ops.get(f"{other_path}?lang=en")
    assert "Refunded" in english
    assert "approved by checker" in english
    assert "the reconciliation of" in english


def test_a_transfer_to_another_loan_is_requested_and_approved_by_two_operators(
    world: tuple[Api, Engine], clock: FixedClock
) -> None:
    api, engine = world
    ops = sign_in(api.deps, api.client.app, "operations", Role.OPERATIONS)
    run_path, receipt, other = _reconciled(api, engine, clock, ops)
    item_path = _hold(ops, run_path, "ORD-9").headers["location"].split("?")[0]
    page = ops.get(item_path)
    assert "转入其他贷款" in page
    assert f'action="{item_path}/transfer"' in page

    own = ops.post(f"{item_path}/transfer", {"loan_id": receipt, "reason": "wrong"})
    assert own.status_code == 422
    assert "no transfer is needed" in own.text
    blank = ops.post(f"{item_path}/transfer", {"loan_id": other, "reason": " "})
    assert blank.status_code == 422
    assert f'value="{other}"' in blank.text  # what was typed is given back
    asked = ops.post(f"{item_path}/transfer", {"loan_id": other, "reason": "payer's 2nd loan"})
    assert asked.status_code == 303
    assert asked.headers["location"] == f"{item_path}?done=transfer_requested"
    shown = ops.get(asked.headers["location"])
    assert "已申请转入。另一位运营人员复核通过前，款项仍在挂账中。" in shown
    assert "转入待复核" in shown
    assert f'<dt>转入贷款</dt><dd><span class="id">{other}</span>' in shown
    assert "payer&#39;s 2nd loan" in shown
    assert "此转入由您申请" in shown
    assert f'action="{item_path}/transfer/approve"' not in shown
    assert f'action="{item_path}/transfer/reject"' in shown
    assert f'action="{item_path}/apply"' not in shown  # waiting: no other way out meanwhile
    same = ops.post(f"{item_path}/transfer/approve", {})
    assert same.status_code == 409
    assert "此操作须由另一人完成" in same.text
    waiting = ops.post(f"{item_path}/apply", {})
    assert waiting.status_code == 409
    assert "转入其他贷款的申请正在等待复核" in waiting.text
    assert "待处理的挂账还款：1 笔" in ops.get("/console/")
    listed = ops.get("/console/suspense?status=transfer_requested")
    assert item_path in listed
    assert '<span class="badge warn">转入待复核</span>' in listed

    checker = sign_in(api.deps, api.client.app, "checker", Role.OPERATIONS)
    page = checker.get(item_path)
    assert f"复核通过后，12.00 元将用于偿还 {other}，而不是渠道所列的贷款。" in page
    assert "复核通过，转入该贷款" in page
    # Both receipts are drawn on the same line: the checker is told so, with what each owes.
    assert re.search(r"两笔贷款属于同一家企业（\S+）。", page)
    # What each owes: 50,000 drawn and 10,000 repaid, and 10,000 drawn; with interest to date.
    assert re.findall(r"尚欠 ([0-9,]+)\.\d\d 元", page) == ["40,004", "10,001"]
    assert "所属授信额度" in page
    rejected = checker.post(f"{item_path}/transfer/reject", {"reason": "ask the payer"})
    assert rejected.headers["location"] == f"{item_path}?done=transfer_rejected"
    shown = checker.get(rejected.headers["location"])
    assert "转入申请已驳回：款项继续挂账。" in shown
    assert "<dt>最近一次被驳回的申请</dt>" in shown
    assert "转入申请，" in shown
    assert "由 checker 驳回：ask the payer" in shown
    assert f'action="{item_path}/apply"' in shown  # held again

    ops.get(item_path)
    ops.post(f"{item_path}/transfer", {"loan_id": other, "reason": "payer confirmed"})
    checker.get(item_path)
    approved = checker.post(f"{item_path}/transfer/approve", {})
    assert approved.status_code == 303
    assert approved.headers["location"] == f"{item_path}?done=transferred"
    shown = checker.get(approved.headers["location"])
    assert "转入已复核通过：款项已作为还款入账到另一笔贷款。" in shown
    assert f'<dt>入账贷款</dt><dd><span class="id">{other}</span>' in shown
    assert "由 checker 复核通过" in shown
    assert "经办人 operations" in shown  # who asked for it
    assert "最近一次被驳回的申请" not in shown  # resolved: the old rejection is not news
    assert "/transfer" not in shown  # resolved: no forms
    english = checker.get(f"{item_path}?lang=en")
    assert "Transfer requested" in english
    assert "approved by checker" in english
    checker.get(f"{item_path}?lang=zh-CN")
    assert "待处理的挂账还款：" not in ops.get("/console/")


def test_a_hold_refused_goes_back_to_the_reconciliation_with_its_reason(
    world: tuple[Api, Engine], clock: FixedClock
) -> None:
    api, engine = world
    ops = sign_in(api.deps, api.client.app, "operations", Role.OPERATIONS)
    run_path, _, _ = _reconciled(api, engine, clock, ops)
    matched = _hold(ops, run_path, "ORD-1")  # matched: not money to hold
    assert matched.status_code == 303
    assert matched.headers["location"] == f"{run_path}?refused=invalid_input"
    assert "未能挂账：" in ops.get(matched.headers["location"])
    unknown = ops.post("/console/suspense", {"run_id": "rcn_x", "order_id": "ORD-9"})
    assert unknown.headers["location"] == "/console/reconciliation/rcn_x?refused=invalid_identifier"
    forged = ops.post("/console/suspense", {"run_id": "r", "order_id": "ORD-9"}, csrf=False)
    assert forged.status_code == 403
    assert ops.client.get("/console/suspense/sus_01M97GEBT7CCJTMT31HSJDFZQ4").status_code == 404
    assert ops.client.get("/console/suspense/nope").status_code == 422


def test_readers_see_the_items_and_cannot_resolve_them(
    world: tuple[Api, Engine], clock: FixedClock
) -> None:
    api, engine = world
    ops = sign_in(api.deps, api.client.app, "operations", Role.OPERATIONS)
    run_path, receipt, _ = _reconciled(api, engine, clock, ops)
    item_path = _hold(ops, run_path, "ORD-9").headers["location"].split("?")[0]

    # A day later the item has been on hold one day (挂账天数).
    run_end_of_day(SqlEndOfDayStore(engine, clock=clock), clock.today() + timedelta(days=1))
    auditor = sign_in(api.deps, api.client.app, "auditor", Role.AUDITOR)
    listed = auditor.get("/console/suspense")
    assert item_path in listed
    assert "挂账天数" in listed
    row = listed[listed.index(item_path) :].split("</tr>", 1)[0]
    assert row.rstrip().endswith('<td class="num">1</td>')
    # The suspense account ties out to the one item held (12.00 yuan).
    assert "挂账科目（2245）余额 12.00 元，与挂账中的 1 笔款项合计一致。" in listed
    assert "<dt>挂账天数</dt><dd>1</dd>" in auditor.get(item_path)
    assert "超期" not in listed
    # Where a bank allows one day on hold, one day is not overdue, two are.
    assert api.deps.credit is not None
    api.deps.credit.suspense_max_days = 1
    assert "超期" not in auditor.get("/console/suspense")
    run_end_of_day(SqlEndOfDayStore(engine, clock=clock), clock.today() + timedelta(days=2))
    overdue = auditor.get("/console/suspense")
    assert "有 1 笔挂账（12.00 元）超过 1 天未处理：请尽快入账或退回。" in overdue
    assert '<span class="badge bad">2（超期）</span>' in overdue
    english = auditor.get("/console/suspense?lang=en")
    assert "On hold over the limit of 1 day(s): 1 item(s), 12.00 yuan." in english
    auditor.get("/console/suspense?lang=zh-CN")  # the language chosen is kept: back to Chinese
    page = auditor.get(item_path)
    assert "挂账中" in page
    assert "/apply" not in page
    assert 'action="/console/suspense"' not in auditor.get(run_path)  # no hold forms either
    assert "待处理的挂账还款：" not in auditor.get("/console/")  # they do not act on it
    for path, data in (
        ("/console/suspense", {"run_id": run_path.rsplit("/", 1)[-1], "order_id": "ORD-8"}),
        (f"{item_path}/apply", {"loan_id": receipt}),
        (f"{item_path}/refund", {"reason": "no"}),
        (f"{item_path}/refund/approve", {}),
        (f"{item_path}/refund/reject", {"reason": "no"}),
        (f"{item_path}/transfer", {"loan_id": receipt, "reason": "no"}),
        (f"{item_path}/transfer/approve", {}),
        (f"{item_path}/transfer/reject", {"reason": "no"}),
    ):
        assert auditor.post(path, data).status_code == 403, path
    assert "挂账中" in auditor.get(item_path)  # nothing changed

    # An entry on the account that no item explains is shown as a difference.
    assert api.deps.credit is not None
    with api.deps.credit.servicing_uow() as uow:
        uow.ledger.post(
            JournalEntry.build(
                "manual-suspense",
                clock.today(),
                "posted by hand",
                [(Account.SETTLEMENT, 3_00), (Account.REPAYMENT_SUSPENSE, -3_00)],
            )
        )
        uow.commit()
    differs = auditor.get("/console/suspense")
    assert "挂账科目（2245）余额 15.00 元，但挂账中的 1 笔款项合计 12.00 元" in differs
    assert "有 3.00 元无法对应到任何挂账款项" in differs
    assert "The suspense account (2245) holds 15.00 yuan" in auditor.get(
        "/console/suspense?lang=en"
    )

    manager = sign_in(api.deps, api.client.app, "manager", Role.ACCOUNT_MANAGER)
    assert manager.client.get("/console/suspense").status_code == 403
    assert manager.client.get(item_path).status_code == 403
    assert 'href="/console/suspense"' not in manager.get("/console/")


def test_the_excess_of_an_order_is_held_from_the_reconciliation(
    world: tuple[Api, Engine], clock: FixedClock
) -> None:
    api, engine = world
    ops = sign_in(api.deps, api.client.app, "operations", Role.OPERATIONS)
    _, receipt, _ = _reconciled(api, engine, clock, ops)
    today = clock.today().isoformat()
    # The channel collected 10,000.40 under ORD-1; the books credited 10,000.00.
    text = HEADER + f"ORD-1,{receipt},10000.40,{today},CH-1\n"
    ops.get("/console/reconciliation")
    run = ops.client.post(
        "/console/reconciliation",
        data={"csrf_token": ops.csrf, "value_date": today},
        files={"file": ("channel.csv", text.encode(), "text/csv")},
    )
    assert run.status_code == 200, run.text
    assert "多收部分（0.40 元）挂账" in run.text
    assert "渠道多收的，将多收部分挂账。" in run.text
    excess_run = str(run.url).removeprefix(str(ops.client.base_url))
    held = _hold(ops, excess_run, "ORD-1")
    assert held.status_code == 303
    item = ops.get(held.headers["location"])
    assert "<dt>金额（元）</dt><dd>0.40</dd>" in item
    assert "10,000.00 元：本笔挂账为渠道多收的部分" in item
    assert "Held in suspense: see the item" in ops.get(f"{excess_run}?lang=en")
    assert "多收部分（0.40 元）挂账" not in ops.get(excess_run)  # held: the link, no button
