"""Prospects in a real browser: an account manager works the queue (status, offer) and the
marketing map draws its ECharts charts; both pages pass axe in both languages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

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

from puhui.bootstrap.api import security_from_settings
from puhui.domain.prospects import ProspectRow
from puhui.risk.need import PRE_CONSENT_SOURCES
from puhui.services.prospects import loading, queue
from puhui.services.prospects.ports import RunMeta
from puhui.services.security import users
from puhui.services.security.otp import LoggingOtpSender
from puhui.services.security.permissions import SYSTEM

FIRST = "91330100MB00000017"
REGIONS = ("330102", "330106", "330108", "330110")
PARKS = ("binjiang-hi-tech", "xiaoshan-eco", None)
INDUSTRIES = ("manufacturing", "wholesale", "logistics")


@pytest.fixture(scope="module")
def loaded_run(site: Site) -> str:
    """A month's pre-approved list loaded through the service, the demo's manager covering
    Hangzhou (3301): the first prospect is theirs."""
    platform = site.platform()
    today = site.today.date()
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    rows = [
        ProspectRow(
            uscc=FIRST if n == 0 else f"91330100MB{n:08d}",
            month=month,
            need_probability=0.9 - n / 100,
            need_amount_fen=(40 + 7 * n) * 1_000_000,
            need_month=(today.replace(day=1) + timedelta(days=32)).replace(day=1),
            need_duration_months=6 + n % 6,
            limit_fen=(25 + 5 * n) * 1_000_000,
            annual_rate=Decimal("0.0455"),
            valid_until=today + timedelta(days=30),
            grade="AB"[n % 2],
            priority=n + 1,
            region_code=REGIONS[n % len(REGIONS)],
            industry_group=INDUSTRIES[n % len(INDUSTRIES)],
            park=PARKS[n % len(PARKS)],
            is_customer=False,
            reasons=("NEED_SALES_GROWTH",),
        )
        for n in range(12)
    ]
    customers = {
        (r, i, p): 2 + k
        for k, (r, i, p) in enumerate(
            (REGIONS[n % 4], INDUSTRIES[n % 3], PARKS[n % 3]) for n in range(6)
        )
    }
    try:
        security = security_from_settings(
            platform.database.engine,
            clock=platform.clock,
            settings=platform.settings,
            otp_sender=LoggingOtpSender(),
        )
        manager = users.user_by_username(security, "manager")
        access = platform.prospect_access()
        queue.set_territory(access, actor=SYSTEM, region_code="3301", user_ids=[manager.user_id])
        loading.load_run(
            access,
            actor=SYSTEM,
            month=month,
            rows=rows,
            meta=RunMeta(sources=PRE_CONSENT_SOURCES, customers=customers),
        )
    finally:
        platform.close()
    return f"{month:%Y-%m}"


def test_a_manager_works_a_prospect_from_the_queue(
    desktop: Page, site: Site, loaded_run: str
) -> None:
    sign_in_staff(desktop, "manager", PASSWORD)
    desktop.get_by_role("link", name="潜在客户").first.click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("预授信潜在客户")
    row = desktop.get_by_role("row").filter(has_text=FIRST)
    expect(row).to_contain_text("新名单")
    expect(row).to_contain_text("本人")
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-prospects")
    row.get_by_role("link").click()
    expect(desktop.get_by_role("heading", level=1)).to_contain_text(FIRST)
    desktop.get_by_label("新状态", exact=True).select_option("contacted")
    desktop.get_by_label("备注").fill("走访企业，老板有购置设备的打算")
    desktop.get_by_role("button", name="保存").click()
    expect(desktop.get_by_role("status")).to_have_text("状态已更新。")
    desktop.get_by_label("手机号码").fill("13912345678")
    desktop.get_by_role("button", name="发送").click()
    expect(desktop.get_by_role("status")).to_have_text("授信邀请已进入发送队列。")
    facts = desktop.locator("dl.facts")
    expect(facts).to_contain_text("已联系")
    expect(facts).to_contain_text("139****5678")
    assert "13912345678" not in desktop.content()
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-prospect")
    desktop.get_by_role("link", name="English").click()
    expect(desktop.locator("dl.facts")).to_contain_text("Contacted")
    assert [line for line in cjk_on_page(desktop) if "老板" not in line] == []
    desktop.goto("/console/?lang=zh-CN")


def test_the_marketing_map_draws_its_charts_in_both_languages(
    desktop: Page, site: Site, loaded_run: str
) -> None:
    sign_in_staff(desktop, "supervisor", PASSWORD)
    desktop.get_by_role("link", name="营销地图").first.click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("营销地图")
    for chart in ("chart-map-counts", "chart-map-need"):
        drawn = desktop.locator(f'[data-chart="{chart}"]')
        expect(drawn).to_have_attribute("data-chart-drawn", "1")
        expect(drawn.locator("canvas")).to_have_count(1)
    expect(desktop.locator("table[data-map]")).to_contain_text("330102")
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-prospect-map")
    desktop.get_by_role("link", name="产业园区").click()
    expect(desktop.locator("table[data-map]")).to_contain_text("不在园区内")
    expect(desktop.locator('[data-chart="chart-map-counts"] canvas')).to_have_count(1)
    screenshot(desktop, site, "console-prospect-map-parks")
    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Marketing map")
    assert cjk_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-prospect-map-en")
    desktop.goto("/console/?lang=zh-CN")
