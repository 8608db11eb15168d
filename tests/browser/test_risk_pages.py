"""Strategies and models in a real browser, on the demo book: a risk officer drafts a new
version and submits it, a second risk officer approves and activates it, the diff shows the
change; a backtest report and the champion's monitoring draw their charts."""

from __future__ import annotations

import re

from browser_support import (
    axe_violations,
    cjk_on_page,
    screenshot,
    sign_in_staff,
    untranslated_on_page,
)
from live_site import PASSWORD, Site
from playwright.sync_api import Page, expect

NAME = "mse-online-credit"
CHART_TIMEOUT = 60_000
"""A monitoring run or a backtest reads every stored decision of the period: allow a minute."""


def _checked(page: Page) -> None:
    assert axe_violations(page) == []
    assert untranslated_on_page(page) == []


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/console/sign-in")


def test_a_new_version_is_drafted_submitted_then_approved_by_another(
    desktop: Page, site: Site
) -> None:
    desktop.on("dialog", lambda dialog: dialog.accept())
    sign_in_staff(desktop, "risk", PASSWORD)
    desktop.get_by_role("navigation").get_by_role("link", name="策略", exact=True).click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("策略")
    expect(desktop.get_by_role("link", name=NAME).first).to_be_visible()
    _checked(desktop)
    screenshot(desktop, site, "console-strategies")

    desktop.goto(f"/console/strategies/{NAME}/1")
    expect(desktop.get_by_role("heading", name="准入拒绝规则")).to_be_visible()
    expect(desktop.get_by_role("rowheader", name="KO_BLACKLIST")).to_be_visible()
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-strategy-version")

    # A new version with a lower product cap.
    desktop.get_by_role("link", name="以此版本新建草稿").click()
    editor = desktop.get_by_label("文档（YAML）")
    text = editor.input_value()
    new_version = int(re.search(r"^version: (\d+)$", text, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert new_version >= 2
    editor.fill(text.replace('product_cap_yuan: "3000000"', 'product_cap_yuan: "2800000"'))
    assert axe_violations(desktop) == []
    desktop.get_by_role("button", name="保存草稿").click()
    desktop.wait_for_url(f"**/console/strategies/{NAME}/{new_version}?done=drafted")
    expect(desktop.get_by_role("status")).to_contain_text("草稿已保存")
    desktop.get_by_role("button", name="提交审批").click()
    expect(desktop.locator("h1 .badge")).to_have_text("已提交")

    # The proposer cannot approve it: the page says why.
    desktop.get_by_role("button", name="批准").click()
    expect(desktop.get_by_role("alert")).to_contain_text("另一人")
    assert axe_violations(desktop) == []
    _sign_out(desktop)

    sign_in_staff(desktop, "risk2", PASSWORD)
    desktop.goto(f"/console/strategies/{NAME}/{new_version}")
    desktop.get_by_role("button", name="批准").click()
    expect(desktop.locator("h1 .badge")).to_have_text("已批准")
    desktop.get_by_role("button", name="启用").click()
    expect(desktop.locator("h1 .badge")).to_have_text("生效中")
    expect(desktop.get_by_role("status")).to_contain_text("已启用")

    # The diff against the version that was active names the change.
    desktop.get_by_label("原版本").select_option("1")
    desktop.get_by_role("button", name="查看变更").click()
    desktop.wait_for_url(f"**/console/strategies/{NAME}/diff/1/{new_version}")
    expect(desktop.get_by_role("rowheader", name="limit.product_cap_yuan")).to_be_visible()
    expect(desktop.locator(".diff-add", has_text="2800000")).to_be_visible()
    _checked(desktop)
    screenshot(desktop, site, "console-strategy-diff")
    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", level=1)).to_contain_text("Changes from version")
    # The documents' own Chinese (descriptions, reason texts) may show in the diff's lines.
    document = desktop.locator(".risk-diff").inner_text()
    assert [line for line in cjk_on_page(desktop) if line.strip() not in document] == []


def test_a_backtest_report_draws_its_chart(desktop: Page, site: Site) -> None:
    sign_in_staff(desktop, "risk", PASSWORD)
    desktop.goto(f"/console/strategies/{NAME}/1")
    desktop.get_by_role("button", name="运行回测").click()
    desktop.wait_for_url("**/console/strategies/backtests/*")
    expect(desktop.locator('[data-chart="backtest-chart"] canvas')).to_be_visible(
        timeout=CHART_TIMEOUT
    )
    expect(desktop.get_by_text("通过率").first).to_be_visible()
    expect(desktop.get_by_role("heading", name=re.compile("按评级")).first).to_be_visible()
    _checked(desktop)
    screenshot(desktop, site, "console-backtest")
    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", level=1)).to_contain_text("Backtest of")
    assert cjk_on_page(desktop) == []


def test_the_registry_shows_the_champion_and_its_monitoring(desktop: Page, site: Site) -> None:
    sign_in_staff(desktop, "risk", PASSWORD)
    desktop.get_by_role("navigation").get_by_role("link", name="模型", exact=True).click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("模型")
    champion = desktop.locator("tr", has=desktop.locator(".badge", has_text="冠军模型"))
    expect(champion).to_have_count(1)
    expect(desktop.locator('[data-chart="registry-chart"] canvas')).to_be_visible()
    _checked(desktop)
    screenshot(desktop, site, "console-models")

    champion.get_by_role("link").first.click()
    expect(desktop.locator('[data-chart="metrics-chart"] canvas')).to_be_visible()
    assert axe_violations(desktop) == []
    desktop.get_by_role("button", name="运行监控").click()
    desktop.wait_for_url("**/monitoring/*")
    expect(desktop.locator('[data-chart="chart-decisions"] canvas')).to_be_visible(
        timeout=CHART_TIMEOUT
    )
    expect(desktop.get_by_text("评分申请数")).to_be_visible()
    _checked(desktop)
    screenshot(desktop, site, "console-model-monitoring")
    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", level=1)).to_contain_text("Monitoring of")
    assert cjk_on_page(desktop) == []


def test_auditors_read_strategies_and_models_without_actions(desktop: Page) -> None:
    sign_in_staff(desktop, "auditor", PASSWORD)
    desktop.goto("/console/strategies")
    expect(desktop.get_by_role("link", name="新建草稿")).to_have_count(0)
    desktop.goto(f"/console/strategies/{NAME}/1")
    for action in ("提交审批", "批准", "启用", "运行回测"):
        expect(desktop.get_by_role("button", name=action)).to_have_count(0)
    expect(desktop.get_by_role("link", name="以此版本新建草稿")).to_have_count(0)
    desktop.goto("/console/models")
    expect(desktop.locator(".badge", has_text="冠军模型")).to_have_count(1)
