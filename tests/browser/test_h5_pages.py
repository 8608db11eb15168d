"""The SME owner on a 375 px phone: QR code, the three steps, accept, draw, repay, statement.

The owners come from the live site's market (``h5_applicants``): enterprises that never
applied, so the platform's real data source, model and strategy answer them. Each test takes
its own owner: the site's book is shared by the whole session.
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

from puhui.domain.ids import CreditLineId
from puhui.services.servicing.lines import accelerate_line

SCOPE_COUNT = 7
CALLED_IN_OWNER = 3
"""Owners 0 to 2 are this file's other tests'; 6 and 7 are the green and health pages'."""


def _owner(site: Site, index: int) -> MarketOwner:
    return fresh_owners(site.market_dir)[index]


def _fits_a_phone(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} scrolls sideways on a 375 px phone ({width} px)"


def _check(page: Page, *, zh: bool = True) -> None:
    """Every page: no sideways scrolling, no serious accessibility fault, one language."""
    _fits_a_phone(page)
    assert axe_violations(page) == [], page.url
    if zh:
        assert untranslated_on_page(page) == [], page.url
    else:
        assert cjk_on_page(page) == [], page.url


def test_an_owner_applies_accepts_draws_repays_and_reads_the_statement(
    phone: Page, site: Site, watched: Watched
) -> None:
    owner = _owner(site, 0)
    sign_in_from_the_qr_code(phone, site, owner.phone)

    # Step 1: the enterprise and its owner (the phone is the one signed in with).
    expect(phone.get_by_role("heading", level=1)).to_have_text("企业及法定代表人信息")
    expect(phone.get_by_text("网点或服务点：TZ-001")).to_be_visible()
    phone.get_by_label("统一社会信用代码").fill(owner.uscc)
    phone.get_by_label("法定代表人身份证号码").fill(owner.id_number)
    _check(phone)
    screenshot(phone, site, "h5-apply")
    phone.get_by_role("button", name="下一步：授权").click()

    # Step 2: each data source with its purpose and expiry; the owner ticks each.
    expect(phone.get_by_role("heading", level=1)).to_have_text("授权我们查询的信息")
    boxes = phone.get_by_role("checkbox")
    expect(boxes).to_have_count(SCOPE_COUNT)
    expect(
        phone.get_by_text("用途：了解企业的销售收入和纳税情况，据此确定授信额度。")
    ).to_be_visible()
    for index in range(SCOPE_COUNT):
        boxes.nth(index).check()
    _check(phone)
    screenshot(phone, site, "h5-consent")

    # Step 3: the answer with the offer, on the next screen.
    phone.get_by_role("button", name="同意授权并查看结果").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("已获批：您的授信额度")
    expect(phone.locator(".offer .amount")).to_contain_text("¥")
    expect(phone.get_by_text("年利率")).to_be_visible()
    _check(phone)
    screenshot(phone, site, "h5-offer")

    # The contract, read and accepted: the line opens.
    phone.get_by_role("link", name="阅读合同并确认").click()
    expect(phone.locator("pre.contract")).to_contain_text(owner.uscc)
    _fits_a_phone(phone)
    assert axe_violations(phone) == []  # the contract text itself is bilingual
    screenshot(phone, site, "h5-contract")
    phone.get_by_label("我已阅读并同意本合同全部条款。").check()
    phone.get_by_role("button", name="确认并签署").click()
    expect(phone.get_by_role("status")).to_have_text("合同已签署，您的额度已开通。")

    # My line: draw.
    limit = phone.locator(".offer .amount").inner_text()
    phone.get_by_label("金额（元）").fill("50000")
    phone.get_by_label("还款期限").select_option("3")
    phone.get_by_role("button", name="立即借款").click()
    expect(phone.get_by_role("status")).to_contain_text("借款成功")
    expect(phone.locator(".receipts li")).to_have_count(1)
    assert phone.locator(".offer .amount").inner_text() != limit
    _check(phone)
    screenshot(phone, site, "h5-line")

    # The receipt (借据): repay part of it.
    phone.locator(".receipts a").first.click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("的借据")
    phone.get_by_label("金额（元）").fill("10000")
    phone.get_by_role("button", name="立即还款").click()
    expect(phone.get_by_role("status")).to_contain_text("还款成功")
    expect(phone.locator("dl.facts")).to_contain_text("40,000.00")
    _check(phone)
    screenshot(phone, site, "h5-receipt")

    # The statement shows the draw and the repayment.
    phone.get_by_role("link", name="返回我的额度").click()
    phone.get_by_role("link", name="对账单", exact=False).first.click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("对账单")
    rows = phone.locator("table tbody tr")
    expect(rows.filter(has_text="借款")).to_have_count(1)
    expect(rows.filter(has_text="还款")).to_have_count(1)
    expect(rows.filter(has_text="借款")).to_contain_text("50,000.00")
    _check(phone)
    screenshot(phone, site, "h5-statement")

    # Consents: listed, and withdrawn.
    phone.get_by_role("link", name="我的授权").first.click()
    expect(phone.get_by_text("有效", exact=True)).to_be_visible()
    _check(phone)
    screenshot(phone, site, "h5-consents")
    phone.get_by_role("button", name="撤回此项授权").click()
    expect(phone.get_by_role("status")).to_contain_text("已撤回授权")
    expect(phone.get_by_role("button", name="撤回此项授权")).to_have_count(0)


def test_in_english_every_step_speaks_english(phone: Page, site: Site, watched: Watched) -> None:
    owner = _owner(site, 1)
    phone.goto("/h5/?lang=en")
    sign_in_from_the_qr_code(phone, site, owner.phone, "Start")
    _check(phone, zh=False)
    phone.get_by_role("link", name="中文").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("企业及法定代表人信息")
    _check(phone)
    phone.get_by_role("link", name="English").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your business and you")
    wrong = owner.uscc[:-1] + ("1" if owner.uscc.endswith("0") else "0")
    phone.get_by_label("Unified social credit code").fill(wrong)
    phone.get_by_label("Legal representative's ID number").fill(owner.id_number)
    phone.get_by_role("button", name="Next: consent").click()
    # A wrong code is explained next to its field, in the owner's language.
    expect(phone.locator("#uscc-error")).to_contain_text("business licence")
    expect(phone.get_by_label("Unified social credit code")).to_have_attribute(
        "aria-invalid", "true"
    )
    _check(phone, zh=False)
    phone.get_by_label("Unified social credit code").fill(owner.uscc)
    phone.get_by_role("button", name="Next: consent").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Which records we may read")
    _check(phone, zh=False)
    phone.get_by_role("button", name="Agree and get my answer").click()
    expect(phone.locator("#consent-error")).to_contain_text("Tick the data sources")
    for index in range(SCOPE_COUNT):
        phone.get_by_role("checkbox").nth(index).check()
    phone.get_by_role("button", name="Agree and get my answer").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Approved: your credit line")
    _check(phone, zh=False)
    screenshot(phone, site, "h5-offer-en")
    phone.get_by_role("link", name="中文").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("已获批：您的授信额度")
    _check(phone)
    phone.get_by_role("link", name="English").click()
    phone.get_by_role("link", name="My line").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("You have no credit line yet")
    _check(phone, zh=False)
    phone.get_by_role("link", name="Continue my application").click()
    phone.get_by_role("link", name="Read the contract and accept").click()
    phone.get_by_role("button", name="Accept and sign").click()
    # The box is required: the browser keeps the owner on the contract until it is ticked.
    expect(phone.get_by_role("heading", level=1)).to_have_text("Your contract")
    phone.get_by_label("I have read the contract and agree to all of its terms.").check()
    phone.get_by_role("button", name="Accept and sign").click()
    expect(phone.get_by_role("status")).to_have_text(
        "Your contract is signed and your credit line is open."
    )
    _check(phone, zh=False)
    phone.get_by_label("Amount, in yuan").fill("999999")
    phone.get_by_role("button", name="Draw now").click()
    expect(phone.locator("#draw-error")).to_contain_text("more than your available limit")
    _check(phone, zh=False)
    phone.get_by_label("Amount, in yuan").fill("20000")
    phone.get_by_role("button", name="Draw now").click()
    expect(phone.get_by_role("status")).to_contain_text("The money is on its way")
    phone.locator(".receipts a").first.click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Receipt of")
    _check(phone, zh=False)
    phone.get_by_role("link", name="Back to my line").click()
    phone.get_by_role("link", name="Statement for", exact=False).click()
    expect(phone.locator("table tbody tr").filter(has_text="Draw")).to_contain_text("20,000.00")
    _check(phone, zh=False)
    phone.get_by_role("link", name="My consents").click()
    expect(phone.get_by_text("In force", exact=True)).to_be_visible()
    _check(phone, zh=False)


def test_an_owner_without_an_offer_reads_what_happens_next(
    phone: Page, site: Site, watched: Watched
) -> None:
    owner = _owner(site, 2)
    sign_in_from_the_qr_code(phone, site, owner.phone)
    phone.get_by_label("统一社会信用代码").fill(owner.uscc)
    phone.get_by_label("法定代表人身份证号码").fill(owner.id_number)
    phone.get_by_role("button", name="下一步：授权").click()
    for index in range(SCOPE_COUNT):
        phone.get_by_role("checkbox").nth(index).check()
    phone.get_by_role("button", name="同意授权并查看结果").click()
    expect(phone.locator(".progress [aria-current=step]")).to_contain_text("审批结果")
    expect(phone.get_by_role("heading", level=1)).not_to_have_text("已获批：您的授信额度")
    expect(phone.get_by_text("接下来：", exact=False)).to_be_visible()
    _check(phone)
    screenshot(phone, site, "h5-answer-no-offer")


def _bank_calls_in(site: Site, line_id: str) -> None:
    """What a risk officer's recall does (a post-loan task's ``recall_early``): the line's
    receipts fall due today and the line is frozen."""
    platform = site.platform()
    try:
        called = accelerate_line(
            platform.servicing_uow,
            CreditLineId(line_id),
            on=site.today.date(),
            actor="system:browser-test",
            reason="post-loan task",
        )
    finally:
        platform.close()
    assert len(called) == 1


def test_an_owner_whose_receipt_the_bank_called_in_reads_why_and_what_to_repay(
    phone: Page, site: Site, watched: Watched
) -> None:
    owner = _owner(site, CALLED_IN_OWNER)
    sign_in_from_the_qr_code(phone, site, owner.phone)
    phone.get_by_label("统一社会信用代码").fill(owner.uscc)
    phone.get_by_label("法定代表人身份证号码").fill(owner.id_number)
    phone.get_by_role("button", name="下一步：授权").click()
    for index in range(SCOPE_COUNT):
        phone.get_by_role("checkbox").nth(index).check()
    phone.get_by_role("button", name="同意授权并查看结果").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("已获批：您的授信额度")
    phone.get_by_role("link", name="阅读合同并确认").click()
    phone.get_by_label("我已阅读并同意本合同全部条款。").check()
    phone.get_by_role("button", name="确认并签署").click()
    phone.get_by_label("金额（元）").fill("30000")
    phone.get_by_role("button", name="立即借款").click()
    expect(phone.get_by_role("status")).to_contain_text("借款成功")
    line_id = phone.url.split("?")[0].rsplit("/", 1)[1]

    _bank_calls_in(site, line_id)
    day = site.today.date().isoformat()
    phone.goto(f"/h5/line/{line_id}")
    notice = phone.get_by_role("region", name="银行已提前收回")
    expect(notice).to_contain_text("下列标注的借据")
    expect(phone.locator(".receipts li").first).to_contain_text(f"{day} 提前收回")
    expect(phone.locator("dl.facts")).to_contain_text("已冻结")
    expect(phone.get_by_role("button", name="立即借款")).to_have_count(0)  # frozen: no draws
    expect(phone.get_by_text("银行已冻结您的额度", exact=False)).to_be_visible()
    _check(phone)
    screenshot(phone, site, "h5-called-in-line")

    phone.locator(".receipts a").first.click()
    notice = phone.get_by_role("region", name="银行已提前收回")
    expect(notice).to_contain_text(f"{day}，银行依据借款合同提前收回本笔借据")
    expect(notice).to_contain_text("请立即归还 ¥30,000.00")
    expect(phone.locator("dl.facts")).to_contain_text("提前收回日")
    _check(phone)
    screenshot(phone, site, "h5-called-in-receipt")
    phone.get_by_role("link", name="English").click()
    expect(phone.get_by_role("region", name="Called in by the bank")).to_contain_text(
        "Repay ¥30,000.00 now, below."
    )
    _check(phone, zh=False)
    phone.get_by_label("Amount, in yuan").fill("30000")
    phone.get_by_role("button", name="Repay now").click()
    expect(phone.get_by_role("region", name="Called in by the bank")).to_contain_text(
        "It is settled: nothing more is owed on it."
    )
    _check(phone, zh=False)
