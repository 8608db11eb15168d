"""The console's applications in a real browser: the referred queue, the detail, and the
four-eyes review — the account manager who took the application cannot decide it, an
approver can."""

from __future__ import annotations

import re

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
from referrals import Referral, make_referral


@pytest.fixture(scope="module")
def referral(site: Site) -> Referral:
    return make_referral(site)


def test_a_referral_is_reviewed_by_an_approver_not_by_its_account_manager(
    desktop: Page, site: Site, referral: Referral
) -> None:
    # The account manager who took the application sees it waiting, without a review form.
    sign_in_staff(desktop, "manager", PASSWORD)
    desktop.get_by_role("link", name="授信申请").first.click()
    desktop.get_by_role("link", name=referral.application_no).click()
    expect(desktop.get_by_role("heading", level=1)).to_contain_text(referral.application_no)
    expect(desktop.get_by_text("该申请正在等待审批人审批")).to_be_visible()
    expect(desktop.get_by_role("button", name="批准并发送授信方案")).to_have_count(0)
    assert axe_violations(desktop) == []
    desktop.get_by_role("button", name="退出登录").click()
    desktop.wait_for_url("**/console/sign-in")

    # Another person, an approver, finds it in the referred queue and reviews it.
    sign_in_staff(desktop, "approver", PASSWORD)
    # The home says how many referrals wait for review, on the applications card.
    card = desktop.locator(".card").filter(has_text="授信申请")
    expect(card.get_by_text(re.compile(r"^待人工审批的申请：[1-9][0-9,]* 笔$"))).to_be_visible()
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-home-approver")
    desktop.goto("/console/applications?queue=all")
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-applications")
    desktop.get_by_role("link", name="待人工审批", exact=True).click()
    expect(desktop.get_by_role("link", name="待人工审批", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    desktop.get_by_label("申请编号").fill(referral.application_no)
    desktop.get_by_role("button", name="筛选").click()
    expect(desktop.locator("#results tbody tr")).to_have_count(1)
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []

    desktop.get_by_role("link", name=referral.application_no).click()
    expect(desktop.get_by_role("heading", name="人工审批（双人复核）")).to_be_visible()
    expect(desktop.get_by_role("table", name="今日审批须遵守的范围")).to_be_visible()
    expect(desktop.get_by_role("heading", name="决策所用版本")).to_be_visible()
    # The rows pulled, per table of the data source: named in the page's language, with the
    # table's own name beside it.
    pulled = desktop.get_by_role("table", name="各数据表调取行数")
    expect(pulled).to_contain_text("征信记录 bureau")
    expect(pulled).to_contain_text("月度纳税 tax_monthly")
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-application-detail")

    # The proposal is filled in; the approver states the grounds and approves.
    assert desktop.get_by_label("额度（元）").input_value() != ""
    desktop.get_by_label("批准理由").fill("Checked on site: turnover as declared")
    desktop.get_by_role("button", name="批准并发送授信方案").click()
    expect(desktop.get_by_role("status")).to_have_text("已审批通过：授信方案已发送给申请人。")
    expect(desktop.locator("h1 .badge")).to_have_text("已出方案")
    expect(desktop.get_by_role("heading", name="授信方案")).to_be_visible()
    expect(desktop.locator("#main dt:text-is('审批人') + dd")).to_have_text("approver")
    assert axe_violations(desktop) == []

    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", name="Offer", exact=True)).to_be_visible()
    expect(desktop.get_by_role("table", name="Rows pulled per table")).to_contain_text(
        "Credit bureau records bureau"
    )
    assert cjk_on_page(desktop) == []
    screenshot(desktop, site, "console-application-detail-en")
    desktop.goto("/console/applications?queue=all")
    assert cjk_on_page(desktop) == []
    assert axe_violations(desktop) == []
