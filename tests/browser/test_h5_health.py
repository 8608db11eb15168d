"""The owner's business-health report on a 375 px phone, in Chinese and in English.

The owner applies through the H5 pages and gives every consent; the report is then built by
the live site's own wiring (the market's data source and peers, the active strategy).
"""

from __future__ import annotations

from browser_support import (
    Watched,
    axe_violations,
    cjk_on_page,
    screenshot,
    sign_in_from_the_qr_code,
    untranslated_on_page,
)
from h5_applicants import MarketOwner, fresh_owners
from live_site import Site
from playwright.sync_api import Page, expect

OWNER = 7
"""An owner no other browser test takes (the site's book is shared by the session)."""


def _apply_with_every_consent(page: Page, site: Site, owner: MarketOwner) -> None:
    sign_in_from_the_qr_code(page, site, owner.phone)
    page.get_by_label("统一社会信用代码").fill(owner.uscc)
    page.get_by_label("法定代表人身份证号码").fill(owner.id_number)
    page.get_by_role("button", name="下一步：授权").click()
    boxes = page.get_by_role("checkbox")
    for index in range(boxes.count()):
        boxes.nth(index).check()
    page.get_by_role("button", name="同意授权并查看结果").click()
    page.wait_for_load_state()


def test_the_owner_reads_the_report_in_both_languages(
    phone: Page, site: Site, watched: Watched
) -> None:
    owner = fresh_owners(site.market_dir)[OWNER]
    _apply_with_every_consent(phone, site, owner)

    phone.get_by_role("link", name="经营体检").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("经营健康报告")
    for heading in (
        "销售与现金流",
        "与同业比较",
        "经营季节性",
        "未来三个月现金流",
        "提醒",
        "如何提高额度",
    ):
        expect(phone.get_by_role("heading", name=heading)).to_be_visible()
    expect(phone.locator("svg[role=img] polyline").first).to_be_visible()
    expect(phone.get_by_text(owner.uscc).first).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the report scrolls sideways on a 375 px phone ({width} px)"
    assert axe_violations(phone) == []
    assert untranslated_on_page(phone) == []
    screenshot(phone, site, "h5-health")

    pdf_link = phone.get_by_role("link", name="下载报告（PDF，中文）")
    href = pdf_link.get_attribute("href")
    assert href is not None
    response = phone.request.get(site.url(href))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    phone.goto("/h5/health?lang=en")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Business health")
    expect(phone.get_by_role("heading", name="What would raise your limit")).to_be_visible()
    assert axe_violations(phone) == []
    # The enterprise's registered name is Chinese in any language; nothing else is.
    name = phone.locator("main p.muted").first.inner_text()
    assert cjk_on_page(phone, allowed=("中文", name)) == []
    screenshot(phone, site, "h5-health-en")
    phone.goto("/h5/health?lang=zh-CN")
