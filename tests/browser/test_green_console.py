"""The green-loan report in a real browser: a risk officer follows the navigation to it and
reads the demo book's loans and balance by green label and 绿色产业指导目录 category, in yuan,
in both languages."""

from __future__ import annotations

import re

from browser_support import axe_violations, screenshot, sign_in_staff, untranslated_on_page
from live_site import PASSWORD, Site
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text


def _label_some_applications(site: Site) -> int:
    """Record a clean-energy green label on every other application that opened a line (as an
    assessment reading a green screen would have); the number labelled."""
    engine = create_engine(site.database_url)
    try:
        with engine.begin() as connection:
            ids = connection.execute(
                text(
                    "SELECT application_id FROM origination_applications"
                    " WHERE credit_line_id IS NOT NULL ORDER BY application_id"
                )
            ).scalars()
            chosen = list(ids)[::2]
            for application_id in chosen:
                connection.execute(
                    text(
                        "UPDATE origination_applications SET green_label = 'green',"
                        " green_category = 'clean_energy' WHERE application_id = :id"
                    ),
                    {"id": application_id},
                )
    finally:
        engine.dispose()
    return len(chosen)


def test_a_risk_officer_reads_the_green_loans(desktop: Page, site: Site) -> None:
    assert _label_some_applications(site) > 0
    sign_in_staff(desktop, "risk", PASSWORD)
    desktop.get_by_role("link", name="绿色贷款").first.click()
    desktop.wait_for_url("**/console/green")
    expect(desktop.get_by_role("heading", level=1)).to_have_text("绿色贷款")
    green = desktop.locator('tr[data-label="green"]')
    expect(green).to_contain_text("绿色")
    expect(green.locator("td").nth(2)).to_have_text(re.compile(r"^[\d,]+\.\d\d$"))
    expect(desktop.locator('tr[data-label="unlabelled"]')).to_contain_text("未标注")
    expect(desktop.locator('tr[data-category="clean_energy"]')).to_contain_text("清洁能源产业")
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-green")

    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Green loans")
    expect(desktop.locator('tr[data-category="clean_energy"]')).to_contain_text(
        "Clean energy industry"
    )
    expect(desktop.locator('tr[data-label="unlabelled"]')).to_contain_text("Unlabelled")
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-green-en")
