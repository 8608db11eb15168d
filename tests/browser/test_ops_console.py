"""Operations in a real browser: end of day and a balanced trial balance; an admin creates a
user who then signs in, and an auditor finds that creation in the audit log; API keys; a failed
notice sent again from the outbox; a demo day's repayments reconciled with a channel's file; an
unposted order held in suspense and refunded by two operators, another transferred by two to
the loan the channel should have named."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from browser_support import (
    axe_violations,
    cjk_on_page,
    screenshot,
    sign_in_staff,
    untranslated_on_page,
)
from live_site import PASSWORD, Site
from playwright.sync_api import Page, expect

from puhui.domain.ids import new_id
from puhui.domain.lending.account import LoanStatus
from puhui.domain.lending.reconciliation import PostedRepayment
from puhui.domain.lending.suspense import acknowledged
from puhui.domain.money import format_yuan
from puhui.services.monitoring.tasks import RECALL_NOTICE_TEMPLATE
from puhui.services.notifications import (
    Channel,
    MessageStatus,
    NotificationFailed,
    OutboxMessage,
)
from puhui.services.prospects import offers
from puhui.services.security.permissions import SYSTEM

NEWCOMER = "browser.newcomer"
NEWCOMER_PASSWORD = "a-long-browser-password"
USER_ID = re.compile(r"usr_[0-9A-Z]+")


def test_end_of_day_shows_the_runs_and_a_balanced_trial_balance(desktop: Page, site: Site) -> None:
    sign_in_staff(desktop, "ops", PASSWORD)
    desktop.get_by_role("link", name="日终").first.click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("日终")
    expect(desktop.get_by_text("借贷平衡：借方与贷方相等。")).to_be_visible()
    day = (site.today.date() - timedelta(days=1)).isoformat()  # the last date closed
    expect(desktop.get_by_label("截至日期")).to_have_value(day)
    runs = desktop.get_by_role("table", name="批处理记录")
    expect(runs.get_by_role("row").nth(1)).to_contain_text(day)
    expect(runs.get_by_role("row").nth(1)).to_contain_text("总账记账")
    expect(runs.get_by_role("row").nth(1)).to_contain_text("已完成")
    balance = desktop.get_by_role("table", name="试算平衡")
    expect(balance.get_by_role("row").filter(has_text="1303")).to_contain_text("贷款本金")
    expect(balance.locator("tfoot")).to_contain_text("0.00")
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-eod")
    # The demo reconciled its last days with the channel: each run is a link to it.
    expect(runs.get_by_role("row").nth(1)).to_contain_text("一致")
    # An earlier date, from the runs list.
    runs.get_by_role("row").nth(3).get_by_role("link").first.click()
    expect(desktop.get_by_text("借贷平衡：借方与贷方相等。")).to_be_visible()
    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_text("Balanced: debits and credits are equal.")).to_be_visible()
    assert cjk_on_page(desktop) == []
    english_runs = desktop.get_by_role("table", name="Runs")
    english_runs.get_by_role("row").nth(1).get_by_role("link", name="Agrees").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text(f"Reconciliation of {day}")
    desktop.goto("/console/?lang=zh-CN")


def test_an_admin_creates_a_user_who_signs_in_and_an_auditor_finds_it(
    desktop: Page, site: Site
) -> None:
    sign_in_staff(desktop, "admin", PASSWORD)
    desktop.get_by_role("link", name="用户").first.click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("用户")
    form = desktop.locator("form", has=desktop.get_by_role("heading", name="新建用户"))
    form.get_by_label("用户名").fill(NEWCOMER)
    form.get_by_label("初始密码（至少 12 个字符）").fill(NEWCOMER_PASSWORD)
    form.get_by_label("角色", exact=True).select_option("operations")
    form.get_by_role("button", name="创建用户").click()
    expect(desktop.get_by_role("status")).to_have_text("用户已创建，现在可以登录。")
    desktop.get_by_label("角色").first.select_option("operations")
    row = desktop.get_by_role("row").filter(has_text=NEWCOMER)
    expect(row).to_contain_text("运营")
    expect(row).to_contain_text("有效")
    found = USER_ID.search(row.inner_text())
    assert found is not None
    user_id = found.group(0)
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    desktop.goto("/console/users")
    screenshot(desktop, site, "console-users")
    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", name="Create a user")).to_be_visible()
    assert cjk_on_page(desktop) == []
    desktop.goto("/console/users?lang=zh-CN")

    desktop.get_by_role("button", name="退出登录").click()
    sign_in_staff(desktop, NEWCOMER, NEWCOMER_PASSWORD)
    expect(desktop.get_by_role("heading", level=1)).to_contain_text(f"欢迎，{NEWCOMER}")
    desktop.get_by_role("button", name="退出登录").click()

    sign_in_staff(desktop, "auditor", PASSWORD)
    desktop.get_by_role("link", name="审计日志").first.click()
    desktop.get_by_label("操作（前缀匹配）").fill("user.created")
    desktop.get_by_label("对象编号").fill(user_id)
    desktop.get_by_role("button", name="查询").click()
    event = desktop.get_by_role("row").filter(has_text=user_id)
    expect(event).to_have_count(1)
    expect(event).to_contain_text("user.created")
    expect(event).to_contain_text("admin:")
    # The details are a digest: the username the admin typed is not on the page.
    expect(desktop.get_by_role("main")).not_to_contain_text(NEWCOMER)
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-audit")
    desktop.get_by_role("link", name="English").click()
    # The language link keeps the path, not the search: every event shows, the creation too.
    created = desktop.get_by_role("row").filter(has_text=user_id).filter(has_text="user.created")
    expect(created).to_have_count(1)
    assert cjk_on_page(desktop) == []
    desktop.goto("/console/?lang=zh-CN")


def test_an_admin_issues_an_api_key_shown_once(desktop: Page, site: Site) -> None:
    sign_in_staff(desktop, "admin", PASSWORD)
    desktop.get_by_role("link", name="API 密钥").first.click()
    desktop.get_by_label("合作机构编号").fill("browser-channel")
    desktop.get_by_role("button", name="签发").click()
    secret = desktop.locator(".secret")
    expect(secret).to_contain_text("pk_")
    key = secret.inner_text()
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-api-keys")
    desktop.goto("/console/api-keys")
    expect(desktop.locator(".secret")).to_have_count(0)
    assert key not in desktop.locator("body").inner_text()
    row = desktop.get_by_role("row").filter(has_text="browser-channel")
    row.get_by_role("button", name=re.compile("吊销密钥")).click()
    expect(desktop.get_by_role("status")).to_have_text("API 密钥已吊销，立即失效。")
    expect(desktop.get_by_role("row").filter(has_text="browser-channel")).to_contain_text("已吊销")
    desktop.get_by_role("link", name="English").click()
    assert cjk_on_page(desktop) == []
    desktop.goto("/console/?lang=zh-CN")


@dataclass
class _DownProvider:
    def deliver(self, message: OutboxMessage) -> None:
        raise NotificationFailed("gateway down")


def test_operations_send_a_failed_notice_again_from_the_outbox(desktop: Page, site: Site) -> None:
    platform = site.platform()
    try:
        notice = OutboxMessage(
            message_id=new_id("msg"),
            channel=Channel.SMS,
            recipient="13912345678",
            template=RECALL_NOTICE_TEMPLATE,
            payload={"customer_id": "91330100MA0000BR01", "principal_fen": 100},
            subject_id="91330100MA0000BR01",
            status=MessageStatus.PENDING,
            attempts=0,
            created_at=platform.clock.now(),
        )
        with platform.prospects_uow() as uow:
            uow.prospects.add_message(notice)
            uow.commit()
        for _ in range(offers.MAX_ATTEMPTS):
            offers.dispatch_outbox(platform.prospect_access(), _DownProvider(), actor=SYSTEM)
    finally:
        platform.close()
    sign_in_staff(desktop, "ops", PASSWORD)
    desktop.get_by_role("link", name="消息发件箱").first.click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("消息发件箱")
    expect(desktop.get_by_role("status")).to_contain_text("条消息发送失败：客户尚未收到")
    row = desktop.get_by_role("row").filter(has_text=notice.message_id)
    expect(row).to_contain_text("提前收回通知")
    expect(row).to_contain_text("139****5678")
    expect(row).to_contain_text("发送失败")
    expect(row).to_contain_text("gateway down")
    assert "13912345678" not in desktop.locator("body").inner_text()
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-outbox")
    row.get_by_role("button", name=f"重新发送 {notice.message_id}").click()
    expect(desktop.get_by_role("status").first).to_have_text(
        "消息已重新排队：下一次发送任务将发出。"
    )
    expect(desktop.get_by_role("link", name=re.compile("^待发送"))).to_have_attribute(
        "aria-current", "page"
    )
    expect(desktop.get_by_role("row").filter(has_text=notice.message_id)).to_contain_text("待发送")
    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Outbox")
    assert cjk_on_page(desktop) == []
    assert axe_violations(desktop) == []
    desktop.goto("/console/?lang=zh-CN")


def _day_with_repayments(site: Site) -> tuple[str, list[PostedRepayment]]:
    """The latest closed day of the demo's book on which owners repaid, and those repayments as
    the books acknowledge them (with money held in suspense that the channel collected then)."""
    platform = site.platform()
    try:
        with platform.servicing_uow() as uow:
            day = uow.business_days.last_completed()
            assert day is not None
            for _ in range(60):
                found = acknowledged(uow.ledger.repayments_on(day), uow.suspense.valued_on(day))
                if len(found) >= 2:
                    return day.isoformat(), found
                day -= timedelta(days=1)
    finally:
        platform.close()
    raise AssertionError("no closed day of the demo has two repayments")


def test_operations_reconcile_a_day_with_the_channels_file(
    desktop: Page, site: Site, tmp_path: Path
) -> None:
    day, posted = _day_with_repayments(site)
    rows = [
        f"{p.order_id},{p.loan_id},{format_yuan(p.amount_fen)},{day},CH-{n}"
        for n, p in enumerate(posted[1:])
    ]
    rows.append(f"ORD-ONLY-AT-CHANNEL,{posted[0].loan_id},12.00,{day},CH-X")
    channel = tmp_path / "channel.csv"
    channel.write_text("order_id,loan_id,amount,value_date,channel_ref\n" + "\n".join(rows) + "\n")
    sign_in_staff(desktop, "ops", PASSWORD)
    desktop.get_by_role("link", name="还款对账").first.click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("还款对账")
    desktop.get_by_label("对账日期").fill(day)
    desktop.get_by_label("渠道对账文件（CSV）").set_input_files(str(channel))
    desktop.get_by_role("button", name="对账", exact=True).click()
    # The run is recorded and shown on its own page.
    expect(desktop.get_by_role("heading", level=1)).to_have_text(f"{day} 对账")
    expect(desktop).to_have_url(re.compile(r"/console/reconciliation/rcn_[0-9A-Z]{26}$"))
    expect(desktop.get_by_role("status")).to_have_text("有 2 笔差错待处理。")
    expect(desktop.get_by_text("channel.csv")).to_be_visible()
    breaks = desktop.get_by_role("table", name="差错")
    expect(breaks.get_by_role("row").filter(has_text=posted[0].order_id)).to_contain_text(
        "已入账，渠道未收"
    )
    expect(breaks.get_by_role("row").filter(has_text="ORD-ONLY-AT-CHANNEL")).to_contain_text(
        "渠道已收，未入账"
    )
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-reconciliation")
    run_page = desktop.url
    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text(f"Reconciliation of {day}")
    assert cjk_on_page(desktop) == []
    # Listed among the recorded reconciliations, the latest first, linked to its page.
    desktop.get_by_role("link", name="Repayment reconciliation").first.click()
    recorded = desktop.get_by_role("table", name="Recorded reconciliations")
    latest = recorded.get_by_role("row").nth(1)
    expect(latest).to_contain_text("2 breaks")
    expect(latest).to_contain_text("channel.csv")
    expect(latest).to_contain_text("ops")
    assert cjk_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-reconciliations")
    latest.get_by_role("link", name=day).click()
    expect(desktop).to_have_url(run_page.split("?")[0])
    desktop.goto("/console/?lang=zh-CN")


def _reconciled_with_one_more(
    desktop: Page, tmp_path: Path, day: str, posted: list[PostedRepayment], order: str
) -> str:
    """Reconcile ``day`` with the books' repayments and one order more the channel collected
    (36.50 yuan on the first repayment's loan); the run's page."""
    rows = [f"{p.order_id},{p.loan_id},{format_yuan(p.amount_fen)},{day}," for p in posted]
    rows.append(f"{order},{posted[0].loan_id},36.50,{day},CH-S")
    channel = tmp_path / f"{order}.csv"
    channel.write_text("order_id,loan_id,amount,value_date,channel_ref\n" + "\n".join(rows) + "\n")
    desktop.goto("/console/reconciliation")
    desktop.get_by_label("对账日期").fill(day)
    desktop.get_by_label("渠道对账文件（CSV）").set_input_files(str(channel))
    desktop.get_by_role("button", name="对账", exact=True).click()
    expect(desktop.get_by_role("status")).to_have_text("有 1 笔差错待处理。")
    return desktop.url


def test_operations_hold_an_unposted_order_in_suspense_and_two_refund_it(
    desktop: Page, site: Site, tmp_path: Path
) -> None:
    day, posted = _day_with_repayments(site)
    order = f"ORD-{new_id('x')[-10:]}"
    sign_in_staff(desktop, "ops", PASSWORD)
    run_page = _reconciled_with_one_more(desktop, tmp_path, day, posted, order)
    desktop.get_by_role("button", name=f"将订单 {order} 挂账").click()
    # The item's page: where the money came from, and the ways to resolve it.
    expect(desktop.get_by_role("heading", level=1)).to_have_text(f"挂账订单 {order}")
    expect(desktop.get_by_role("status")).to_contain_text("款项已挂账。")
    expect(desktop.get_by_text(f"以全部金额作为 {posted[0].loan_id} 的一笔还款")).to_be_visible()
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-suspense-item")
    item_page = desktop.url.split("?")[0]
    # The channel's day agrees once reconciled again.
    desktop.goto("/console/reconciliation")
    desktop.get_by_label("对账日期").fill(day)
    desktop.get_by_label("渠道对账文件（CSV）").set_input_files(str(tmp_path / f"{order}.csv"))
    desktop.get_by_role("button", name="对账", exact=True).click()
    expect(desktop.get_by_role("status")).to_contain_text("账务与渠道一致")
    desktop.goto(run_page)
    desktop.get_by_role("link", name="已挂账：查看处理情况").click()
    expect(desktop).to_have_url(item_page)
    refund = desktop.get_by_role("form", name="退回付款人")
    refund.get_by_label("原因").fill("付款人重复付款")
    refund.get_by_role("button", name="申请退回", exact=True).click()
    expect(desktop.get_by_role("status")).to_contain_text("已申请退回。")
    expect(desktop.get_by_text("付款人重复付款")).to_be_visible()
    # Its requester may withdraw it, not approve it.
    expect(desktop.get_by_role("button", name="复核通过，退回款项")).to_have_count(0)
    expect(desktop.get_by_role("button", name="撤回申请")).to_be_visible()
    desktop.get_by_role("button", name="退出登录").click()
    desktop.wait_for_url("**/console/sign-in")

    sign_in_staff(desktop, "ops2", PASSWORD)
    desktop.goto(item_page)
    expect(desktop.locator(".facts .badge")).to_have_text("退回待复核")
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-suspense-refund")
    desktop.get_by_role("button", name="复核通过，退回款项").click()
    expect(desktop.get_by_role("status")).to_have_text("退回已复核通过：款项已退回付款人。")
    expect(desktop.get_by_text("付款人重复付款")).to_be_visible()
    expect(desktop.get_by_role("button", name="复核通过，退回款项")).to_have_count(0)
    desktop.goto("/console/suspense?status=all")
    expect(desktop.get_by_role("row").filter(has_text=order)).to_contain_text("已退回")
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-suspense")
    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Repayments in suspense")
    assert cjk_on_page(desktop) == []
    desktop.goto("/console/?lang=zh-CN")


def _another_enterprises_loan(site: Site, loan_id: str) -> tuple[str, str]:
    """A loan of the demo's book of another enterprise than ``loan_id``'s, active and owing
    more than 100 yuan: where money the channel named the wrong loan for may go. Its id and
    its enterprise."""
    platform = site.platform()
    try:
        with platform.servicing_uow() as uow:
            named = uow.loans.get(loan_id)
            day = uow.business_days.last_completed()
            assert named is not None
            assert day is not None
            for _ in range(60):
                for repayment in uow.ledger.repayments_on(day):
                    loan = uow.loans.get(repayment.loan_id)
                    if (
                        loan is not None
                        and loan.enterprise_id != named.enterprise_id
                        and loan.status is LoanStatus.ACTIVE
                        and loan.total_owed_fen > 100_00
                    ):
                        return loan.loan_id, loan.enterprise_id
                day -= timedelta(days=1)
    finally:
        platform.close()
    raise AssertionError("no other enterprise's active loan in the demo's book")


def test_operations_transfer_held_money_to_another_loan_with_a_second_operator(
    desktop: Page, site: Site, tmp_path: Path
) -> None:
    day, posted = _day_with_repayments(site)
    target, enterprise = _another_enterprises_loan(site, posted[0].loan_id)
    order = f"ORD-{new_id('x')[-10:]}"
    sign_in_staff(desktop, "ops", PASSWORD)
    _reconciled_with_one_more(desktop, tmp_path, day, posted, order)
    desktop.get_by_role("button", name=f"将订单 {order} 挂账").click()
    item_page = desktop.url.split("?")[0]
    transfer = desktop.get_by_role("form", name="转入其他贷款")
    transfer.get_by_label("贷款或借据编号").fill(target)
    transfer.get_by_label("原因").fill("付款人确认应还另一笔借据")
    transfer.get_by_role("button", name="申请转入").click()
    expect(desktop.get_by_role("status")).to_contain_text("已申请转入。")
    expect(desktop.locator(".facts .badge")).to_have_text("转入待复核")
    expect(desktop.get_by_role("button", name="复核通过，转入该贷款")).to_have_count(0)
    expect(desktop.get_by_role("button", name="撤回申请")).to_be_visible()
    desktop.get_by_role("button", name="退出登录").click()
    desktop.wait_for_url("**/console/sign-in")

    sign_in_staff(desktop, "ops2", PASSWORD)
    desktop.goto(item_page)
    expect(desktop.get_by_text(f"36.50 元将用于偿还 {target}")).to_be_visible()
    # Another enterprise's loan: the checker is warned to confirm with the payer first.
    expect(desktop.locator(".alert-warn")).to_contain_text(
        f"申请转入的贷款属于另一家企业（{enterprise}；"
    )
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-suspense-transfer")
    desktop.get_by_role("button", name="复核通过，转入该贷款").click()
    expect(desktop.get_by_role("status")).to_have_text(
        "转入已复核通过：款项已作为还款入账到另一笔贷款。"
    )
    expect(desktop.locator(".facts .badge")).to_have_text("已入账")
    expect(desktop.get_by_text(target, exact=True)).to_have_count(2)  # asked for, applied to
    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text(f"Order {order} in suspense")
    assert cjk_on_page(desktop) == ["付款人确认应还另一笔借据"]  # the operator's own words
    desktop.goto("/console/?lang=zh-CN")
