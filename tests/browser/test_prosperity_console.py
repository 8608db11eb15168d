"""The prosperity indices in a real browser: a risk officer opens the page, each industry's
index is a server-drawn SVG line with suppressed months as grey gaps, and the page reads in
both languages."""

from __future__ import annotations

import re

from browser_support import axe_violations, screenshot, sign_in_staff, untranslated_on_page
from live_site import PASSWORD, Site
from playwright.sync_api import Page, expect

from puhui.pipelines.prosperity.build import build_index, write_index


def test_a_risk_officer_reads_the_industry_and_regional_indices(desktop: Page, site: Site) -> None:
    # A new build in the site's <data_dir>/prosperity, read without a restart; a minimum of
    # 60 enterprises (the demo market's smaller cells fall under it) shows suppression.
    folder = site.market_dir.parent.parent / "prosperity"
    write_index(build_index(site.market_dir, min_cell=60), folder)
    sign_in_staff(desktop, "risk", PASSWORD)
    desktop.get_by_role("link", name="景气指数").first.click()
    desktop.wait_for_url("**/console/prosperity")
    expect(desktop.get_by_role("heading", level=1)).to_have_text("景气指数")
    cells = desktop.locator("figure[data-cell]")
    assert cells.count() >= 5
    expect(cells.first.locator("svg.prosperity-chart path.index-line")).to_be_attached()
    # A cell under the minimum is a grey gap with its reason, not a number.
    assert desktop.locator("svg.prosperity-chart rect.suppressed").count() > 0
    expect(desktop.locator("[data-period]")).to_contain_text("灰色条带")
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-prosperity")

    desktop.get_by_label("分组").select_option("region")
    desktop.get_by_role("button", name="查看").click()
    desktop.wait_for_url("**/console/prosperity?dimension=region")
    assert desktop.locator("figure[data-cell]").count() >= 5
    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Prosperity indices")
    expect(desktop.locator('figure[data-cell="manufacturing"] strong')).to_have_text(
        "Manufacturing"
    )
    desktop.get_by_label("Cells").select_option("region")
    desktop.get_by_role("button", name="Show").click()
    desktop.wait_for_url("**/console/prosperity?dimension=region")
    regions = desktop.locator("figure[data-cell]")
    assert regions.count() >= 5
    expect(regions.first.locator("strong")).to_have_text(re.compile(r"^\d{6}$"))
    expect(desktop.locator("[data-period]")).to_contain_text("suppressed month")
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-prosperity-regions-en")
