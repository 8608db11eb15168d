"""The green label in a real browser: a risk officer follows the navigation to it and
reads the demo book's loans and balance by green label and 绿色产业指导目录 category, in yuan,
in both languages; an owner whose application is green reads so on the H5 answer."""

from __future__ import annotations

import re

from browser_support import (
    axe_violations,
    cjk_on_page,
    screenshot,
    sign_in_from_the_qr_code,
    sign_in_staff,
    untranslated_on_page,
)
from h5_applicants import fresh_owners
from live_site import PASSWORD, Site
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

ZH_CATEGORIES = re.compile(
    "节能环保产业|清洁生产产业|清洁能源产业|生态环境产业|基础设施绿色升级|绿色服务"
)
EN_CATEGORIES = re.compile(
    "Energy saving and environmental protection industry|Cleaner production industry|"
    "Clean energy industry|Ecological environment industry|Green upgrading of infrastructure|"
    "Green services"
)
OWNER = 6
"""The market owner this file applies as (test_h5_pages takes 0-2, test_h5_health 7)."""


def _label(site: Site, application_id: str) -> None:
    engine = create_engine(site.database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE origination_applications SET green_label = 'green',"
                    " green_category = 'clean_energy' WHERE application_id = :id"
                ),
                {"id": application_id},
            )
    finally:
        engine.dispose()


def _recorded(site: Site) -> dict[str, str | None]:
    """Each application's recorded label, by id (the demo's strategy reads the green screen)."""
    engine = create_engine(site.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT application_id, green_label FROM origination_applications")
            )
            return {str(r[0]): r[1] for r in rows}
    finally:
        engine.dispose()


def test_a_risk_officer_reads_the_green_loans(desktop: Page, site: Site) -> None:
    assert "green" in _recorded(site).values()  # the demo's loans carry their labels
    sign_in_staff(desktop, "risk", PASSWORD)
    desktop.get_by_role("link", name="绿色贷款").first.click()
    desktop.wait_for_url("**/console/green")
    expect(desktop.get_by_role("heading", level=1)).to_have_text("绿色贷款")
    green = desktop.locator('tr[data-label="green"]')
    expect(green).to_contain_text("绿色")
    expect(green.locator("td").nth(2)).to_have_text(re.compile(r"^[\d,]+\.\d\d$"))
    expect(desktop.locator('tr[data-label="not_green"]')).to_contain_text("非绿色")
    expect(desktop.locator("tr[data-category]").first).to_contain_text(ZH_CATEGORIES)
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-green")

    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Green loans")
    expect(desktop.locator("tr[data-category]").first).to_contain_text(EN_CATEGORIES)
    expect(desktop.locator('tr[data-label="not_green"]')).to_contain_text("Not green")
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-green-en")


def test_an_owner_reads_that_the_enterprise_is_green(phone: Page, site: Site) -> None:
    owner = fresh_owners(site.market_dir)[OWNER]
    sign_in_from_the_qr_code(phone, site, owner.phone)
    phone.get_by_label("统一社会信用代码").fill(owner.uscc)
    phone.get_by_label("法定代表人身份证号码").fill(owner.id_number)
    phone.get_by_role("button", name="下一步：授权").click()
    boxes = phone.get_by_role("checkbox")
    for index in range(boxes.count()):
        boxes.nth(index).check()
    phone.get_by_role("button", name="同意授权并查看结果").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("已获批：您的授信额度")
    application_id = phone.url.rstrip("/").rsplit("/", 1)[1]
    if _recorded(site)[application_id] != "green":
        # Not green (or no label): nothing green is said; then recorded as green, it is.
        expect(phone.locator("[data-green]")).to_have_count(0)
        _label(site, application_id)
        phone.reload()
    card = phone.locator("[data-green]")
    expect(card).to_contain_text("绿色企业")
    expect(card).to_contain_text(ZH_CATEGORIES)
    expect(card).to_contain_text("利率优惠")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    assert untranslated_on_page(phone) == []
    assert axe_violations(phone) == []
    screenshot(phone, site, "h5-offer-green")
    phone.get_by_role("link", name="English").click()
    expect(card).to_contain_text("Green enterprise")
    expect(card).to_contain_text(EN_CATEGORIES)
    # Only the catalogue's own name stays Chinese in English.
    assert [line for line in cjk_on_page(phone) if "绿色产业指导目录" not in line] == []
    screenshot(phone, site, "h5-offer-green-en")
