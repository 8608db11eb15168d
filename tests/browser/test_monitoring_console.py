"""Post-loan work in a real browser: an account manager reads the alerts and their evidence, a
supervisor takes the alert's task and completes it with an outcome; the collections pages pass
axe."""

from __future__ import annotations

import re
from collections.abc import Sequence as Seq
from dataclasses import dataclass
from datetime import date

import pytest
from browser_support import (
    axe_violations,
    cjk_on_page,
    screenshot,
    sign_in_staff,
    untranslated_on_page,
)
from live_site import PASSWORD, Site
from playwright.sync_api import Page, expect

from puhui.domain.monitoring import Hit, Severity
from puhui.services.monitoring.ports import EvidencedHit, MonitoredCustomer
from puhui.services.monitoring.run import RunSetup, run_monitoring

SIGNAL_ZH = "纳税信用等级由A降为C"
SIGNAL_EN = "Tax credit rating fell from A to C"


@dataclass
class OneWarning:
    """A signal source that warns about the first customer it is shown, once."""

    warned: list[str]

    def check_data(self, as_of: date) -> None:
        return None

    def signals(
        self, customers: Seq[MonitoredCustomer], as_of: date, triggers: object
    ) -> list[EvidencedHit]:
        if self.warned or not customers:
            return []
        customer = customers[0]
        self.warned.append(customer.customer_id)
        hit = Hit(customer.customer_id, "TAX_RATING_DROP", Severity.MEDIUM, SIGNAL_ZH, SIGNAL_EN)
        return [EvidencedHit(hit, {"inputs": {"tax_rating": "C", "previous_rating": "A"}})]


@pytest.fixture(scope="module")
def warned_customer(site: Site) -> str:
    """A fresh alert and its task, raised through the monitoring service on the live book
    (the demo's own monthly runs found nothing to warn about in two months)."""
    platform = site.platform()
    source = OneWarning([])
    try:
        run_monitoring(
            RunSetup(
                units=platform.monitoring_uow,
                strategies_uow=platform.strategy_uow,
                source=source,  # type: ignore[arg-type]
                clock=platform.clock,
            ),
            as_of=site.today.date(),
            actor="system:browser-test",
        )
    finally:
        platform.close()
    assert source.warned, "the live book has no customer under watch"
    return source.warned[0]


def test_a_manager_sees_the_alerts_and_completes_a_task(
    desktop: Page, site: Site, warned_customer: str
) -> None:
    sign_in_staff(desktop, "manager", PASSWORD)
    desktop.get_by_role("link", name="贷后预警").first.click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("贷后预警")
    row = desktop.get_by_role("row").filter(has_text=warned_customer)
    expect(row).to_contain_text(SIGNAL_ZH)
    expect(row).to_contain_text("中")
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-alerts")
    desktop.get_by_label("严重程度").select_option("high")
    expect(desktop.get_by_text(warned_customer)).to_have_count(0)
    desktop.get_by_label("严重程度").select_option("medium")
    row.get_by_role("link").click()
    expect(desktop.get_by_role("heading", level=3)).to_have_text(SIGNAL_ZH)
    desktop.get_by_text("该信号所依据的数据").click()
    expect(desktop.locator("pre")).to_contain_text("previous_rating")
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-alert")

    # The supervisor hands the task to the console's manager, one of theirs (分派), who claims
    # and completes it.
    desktop.get_by_role("button", name="退出登录").click()
    sign_in_staff(desktop, "supervisor", PASSWORD)
    desktop.get_by_role("link", name="我的任务").first.click()
    desktop.get_by_role("link", name="全部任务").click()
    task_row = desktop.get_by_role("row").filter(has_text=warned_customer)
    expect(task_row).to_contain_text("待处理")
    task_row.get_by_role("link").click()
    assign = desktop.get_by_role("form", name="分派给客户经理")
    expect(assign.get_by_label("客户经理")).to_have_value(re.compile(r"^usr_"))
    expect(assign.get_by_label("客户经理").locator("option")).to_have_text(["manager"])
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-task-assign")
    assign.get_by_role("button", name="分派").click()
    expect(desktop.get_by_role("status")).to_have_text("任务已分派：等待该客户经理认领。")
    expect(desktop.locator("dl.facts")).to_contain_text("manager")
    task_page = desktop.url.split("?")[0]
    desktop.get_by_role("button", name="退出登录").click()

    sign_in_staff(desktop, "manager", PASSWORD)
    expect(desktop.get_by_text("待您处理的任务：1 项")).to_be_visible()
    desktop.get_by_role("link", name="我的任务").first.click()
    mine = desktop.get_by_role("row").filter(has_text=warned_customer)
    expect(mine).to_contain_text("您本人")
    mine.get_by_role("link").click()
    expect(desktop).to_have_url(task_page)
    expect(desktop.get_by_role("heading", name="分派给客户经理")).to_have_count(0)
    desktop.get_by_role("button", name="领取任务").click()
    expect(desktop.get_by_role("status")).to_have_text("任务已由您领取。")
    desktop.get_by_role("link", name="我的任务").first.click()
    mine = desktop.get_by_role("row").filter(has_text=warned_customer)
    expect(mine).to_contain_text("已领取")
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-tasks")
    mine.get_by_role("link").click()
    outcomes = desktop.get_by_label("处理结果").locator("option").all_inner_texts()
    assert "冻结额度" in outcomes
    assert "压降额度" not in outcomes  # a supervisor's or risk officer's outcome, not offered
    desktop.get_by_label("处理结果").select_option("contacted")
    desktop.get_by_label("备注").fill("已电话联系企业主，说明近期纳税情况")
    assert axe_violations(desktop) == []
    desktop.get_by_role("button", name="完成任务").click()
    expect(desktop.get_by_role("status")).to_have_text("任务已完成，处理结果已登记。")
    facts = desktop.locator("dl.facts")
    expect(facts).to_contain_text("已完成")
    expect(facts).to_contain_text("已联系企业主")
    screenshot(desktop, site, "console-task")

    desktop.get_by_role("link", name="English").click()
    expect(desktop.locator("dl.facts")).to_contain_text("Contacted the owner")
    # The five categories keep their regulatory Chinese names on English pages, English after.
    leftover = [line for line in cjk_on_page(desktop) if "纳税" not in line]
    stripped = [re.sub(r"(正常|关注|次级|可疑|损失) \(", "", line) for line in leftover]
    assert [line for line in stripped if re.search("[\u4e00-\u9fff]", line)] == []
    desktop.goto("/console/alerts")
    expect(desktop.get_by_role("row").filter(has_text=warned_customer)).to_contain_text(SIGNAL_EN)
    assert cjk_on_page(desktop) == []
    desktop.goto("/console/tasks?view=all&status=completed")
    expect(desktop.get_by_role("row").filter(has_text=warned_customer)).to_contain_text("Completed")
    assert cjk_on_page(desktop) == []
    desktop.goto("/console/?lang=zh-CN")


def test_the_collections_pages_pass_axe_in_both_languages(desktop: Page, site: Site) -> None:
    sign_in_staff(desktop, "risk", PASSWORD)
    desktop.get_by_role("link", name="催收").first.click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("催收队列")
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-collections")
    desktop.get_by_role("link", name=re.compile("诉讼清收")).click()
    expect(desktop.get_by_role("link", name=re.compile("诉讼清收"))).to_have_attribute(
        "aria-current", "page"
    )
    desktop.get_by_role("link", name="核销申请").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("核销申请")
    assert axe_violations(desktop) == []
    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Write-off proposals")
    assert cjk_on_page(desktop) == []
    desktop.goto("/console/?lang=zh-CN")
