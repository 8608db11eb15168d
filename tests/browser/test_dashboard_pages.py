"""The portfolio dashboard in a real browser: a risk officer opens it, the charts are drawn,
the figures are formatted, and the page is accessible in both languages."""

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

CATEGORY_NAMES = ("正常", "关注", "次级", "可疑", "损失")
"""The five categories keep their Chinese names on the English page (with English beside)."""
YUAN = re.compile(r"^¥\d{1,3}(,\d{3})*\.\d{2}$")


def _charts_drawn(page: Page) -> int:
    charts = page.locator("[data-chart]")
    count = charts.count()
    assert count >= 8
    for i in range(count):
        expect(charts.nth(i).locator("canvas").first).to_be_attached()
    return count


def test_a_risk_officer_reads_the_portfolio_dashboard(desktop: Page, site: Site) -> None:
    sign_in_staff(desktop, "risk", PASSWORD)
    desktop.get_by_role("link", name="资产组合看板").first.click()
    desktop.wait_for_url("**/console/dashboard")
    expect(desktop.get_by_role("heading", level=1)).to_have_text("资产组合看板")
    _charts_drawn(desktop)
    for kpi in ("outstanding", "interest", "limits", "available"):
        value = desktop.locator(f'[data-kpi="{kpi}"]').inner_text().strip()
        assert YUAN.match(value), (kpi, value)
    assert "," in desktop.locator('[data-kpi="outstanding"]').inner_text()
    # The figures beside a chart open for those who cannot see it.
    desktop.get_by_text("图表数据").first.click()
    expect(desktop.locator("details[open] table").first).to_be_visible()
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-dashboard")

    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Portfolio dashboard")
    _charts_drawn(desktop)
    leftover = [
        line
        for line in cjk_on_page(desktop)
        if any("\u4e00" <= ch <= "\u9fff" for ch in _without_categories(line))
    ]
    assert leftover == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-dashboard-en")


def test_an_earlier_date_is_chosen_from_the_dates_with_figures(desktop: Page) -> None:
    sign_in_staff(desktop, "auditor", PASSWORD)
    desktop.goto("/console/dashboard")
    dates = desktop.get_by_label("数据日期")
    options = dates.locator("option").all_inner_texts()
    assert len(options) > 1
    dates.select_option(options[1])
    desktop.get_by_label("期间").select_option("3")
    desktop.get_by_role("button", name="查看").click()
    desktop.wait_for_url(f"**/console/dashboard?as_of={options[1]}&months=3")
    expect(desktop.locator(".lead")).to_contain_text(options[1])
    _charts_drawn(desktop)


def _without_categories(line: str) -> str:
    for name in CATEGORY_NAMES:
        line = line.replace(name, "")
    return line
