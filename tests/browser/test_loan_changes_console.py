"""The console's loan changes in a real browser: an account manager asks to extend one of the
demo's term loans, an approver finds it in the queue, which fits the page with its long ids,
and approves it; the loan's history shows the change. Asked again, the approver rejects it with
a reason, which the manager reads in the loan's history."""

from __future__ import annotations

from browser_support import axe_violations, screenshot, sign_in_staff, untranslated_on_page
from live_site import PASSWORD, Site
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text


def _a_term_loan(site: Site) -> str:
    """One of the term loans the demo's branch booked, current and with months left."""
    engine = create_engine(site.database_url)
    try:
        with engine.connect() as connection:
            return str(
                connection.execute(
                    text(
                        "SELECT loan_id FROM loans WHERE kind = 'term' AND status = 'active'"
                        " AND days_past_due = 0 ORDER BY loan_id LIMIT 1"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _fits(page: Page, selector: str) -> bool:
    """The element's region shows it whole, with nothing to scroll sideways."""
    return bool(
        page.locator(selector).evaluate(
            "table => table.closest('.table-wrap').scrollWidth"
            " <= table.closest('.table-wrap').clientWidth"
        )
    )


def test_an_extension_is_requested_then_approved_by_a_second_person(
    desktop: Page, site: Site
) -> None:
    loan_id = _a_term_loan(site)
    sign_in_staff(desktop, "manager", PASSWORD)
    desktop.goto("/console/loan-changes")
    desktop.get_by_label("贷款或借据编号").fill(loan_id)
    desktop.get_by_role("button", name="查询").click()
    expect(desktop.locator(f'[data-loan="{loan_id}"]')).to_be_visible()
    desktop.locator("#extension-months").fill("3")
    desktop.locator("#extension-reason").fill("订单回款周期延长，客户经营正常")
    desktop.get_by_role("button", name="申请展期").click()
    expect(desktop.get_by_role("status")).to_have_text("变更已申请：须由另一人在下方审批。")
    row = desktop.locator("[data-loan-changes] tbody tr", has_text=loan_id)
    expect(row).to_contain_text("展期")
    # The one who asked cannot approve it.
    expect(row.get_by_role("button", name="批准")).to_have_count(0)
    desktop.get_by_role("button", name="退出登录").click()

    sign_in_staff(desktop, "approver", PASSWORD)
    desktop.get_by_role("link", name="贷款变更").first.click()
    desktop.wait_for_url("**/console/loan-changes")
    row = desktop.locator("[data-loan-changes] tbody tr", has_text=loan_id)
    expect(row).to_contain_text("订单回款周期延长，客户经营正常")
    expect(row).to_contain_text("延长 3 个月")
    expect(row.locator("td.standing")).to_contain_text("本金余额")  # the loan as it stands
    screenshot(desktop, site, "console-loan-changes")
    assert _fits(desktop, "[data-loan-changes]")
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []

    row.get_by_role("button", name="批准").click()
    expect(desktop.get_by_role("status")).to_have_text("变更已批准：贷款剩余的还款计划已替换。")
    # The approved loan is looked up below the queue: its history shows the change.
    history = desktop.locator("[data-loan-history] tbody tr")
    expect(history).to_have_count(1)
    expect(history).to_contain_text("已批准")
    desktop.get_by_role("button", name="退出登录").click()

    # Asked again, the approver rejects it with a reason; the one who asked reads why.
    sign_in_staff(desktop, "manager", PASSWORD)
    desktop.goto(f"/console/loan-changes?loan={loan_id}")
    desktop.locator("#extension-months").fill("2")
    desktop.locator("#extension-reason").fill("再延长两个月")
    desktop.get_by_role("button", name="申请展期").click()
    expect(desktop.get_by_role("status")).to_have_text("变更已申请：须由另一人在下方审批。")
    desktop.get_by_role("button", name="退出登录").click()
    sign_in_staff(desktop, "approver", PASSWORD)
    desktop.goto("/console/loan-changes")
    row = desktop.locator("[data-loan-changes] tbody tr", has_text=loan_id)
    row.get_by_label("驳回原因").fill("刚展期过，先观察回款")
    row.get_by_role("button", name="驳回").click()
    expect(desktop.get_by_role("status")).to_have_text("变更已驳回：贷款未作任何变更。")
    expect(desktop.locator("[data-rejection]")).to_contain_text("驳回：刚展期过，先观察回款")
    desktop.get_by_role("button", name="退出登录").click()
    sign_in_staff(desktop, "manager", PASSWORD)
    desktop.goto(f"/console/loan-changes?loan={loan_id}")
    history = desktop.locator("[data-loan-history] tbody tr")
    expect(history).to_have_count(2)
    rejected = history.filter(has_text="已驳回")
    expect(rejected.locator("[data-rejection]")).to_contain_text(
        "由 approver 驳回：刚展期过，先观察回款"
    )
    screenshot(desktop, site, "console-loan-change-history")
    assert _fits(desktop, "[data-loan-history]")
    assert axe_violations(desktop) == []
