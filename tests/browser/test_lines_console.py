"""The console's credit lines in a real browser: find a line, freeze it, unfreeze it."""

from __future__ import annotations

from browser_support import (
    axe_violations,
    cjk_on_page,
    screenshot,
    sign_in_staff,
    untranslated_on_page,
)
from live_site import PASSWORD, Site
from playwright.sync_api import Page, expect


def test_a_risk_officer_freezes_and_unfreezes_a_line(desktop: Page, site: Site) -> None:
    sign_in_staff(desktop, "risk", PASSWORD)
    desktop.get_by_role("link", name="授信额度").first.click()
    desktop.wait_for_url("**/console/lines")
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-lines")

    desktop.get_by_label("状态").select_option("active")
    desktop.get_by_role("button", name="查询").click()
    desktop.wait_for_url("**status=active")
    first = desktop.locator("#results tbody tr a").first
    line_id = first.inner_text()
    first.click()
    expect(desktop.get_by_role("heading", level=1)).to_contain_text(line_id)
    expect(desktop.locator("#line-status")).to_have_text("正常")
    expect(desktop.get_by_role("heading", name="借据")).to_be_visible()
    expect(desktop.get_by_role("heading", name="对账单")).to_be_visible()
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-line")

    desktop.get_by_label("原因").first.fill("预警：涉诉，待核实")
    desktop.get_by_role("button", name="冻结额度").click()
    expect(desktop.get_by_role("status")).to_have_text("额度已冻结：停止新的提款，仍可正常还款。")
    expect(desktop.locator("#line-status")).to_have_text("已冻结")
    assert axe_violations(desktop) == []

    desktop.get_by_label("原因").first.fill("已核实，恢复用信")
    desktop.get_by_role("button", name="解冻额度").click()
    expect(desktop.get_by_role("status")).to_have_text("额度已解冻：客户可恢复提款。")
    expect(desktop.locator("#line-status")).to_have_text("正常")

    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", name="Repayment history")).to_be_visible()
    assert cjk_on_page(desktop) == []
    screenshot(desktop, site, "console-line-en")
    desktop.goto("/console/lines")
    assert cjk_on_page(desktop) == []
