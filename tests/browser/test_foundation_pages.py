"""The faces of the platform in a real browser: sign-in, languages, isolation, accessibility."""

from __future__ import annotations

from browser_support import (
    Watched,
    axe_violations,
    cjk_on_page,
    screenshot,
    sign_in_staff,
    untranslated_on_page,
)
from live_site import PASSWORD, Site
from playwright.sync_api import Page, expect


def test_staff_sign_in_in_chinese_then_english(desktop: Page, site: Site) -> None:
    sign_in_staff(desktop, "risk", PASSWORD)
    expect(desktop.get_by_role("heading", level=1)).to_contain_text("欢迎，risk")
    expect(desktop.locator(".who .badge")).to_have_text("风险经理")
    assert untranslated_on_page(desktop) == []
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "console-home-zh")

    desktop.get_by_role("link", name="English").click()
    expect(desktop.get_by_role("heading", level=1)).to_contain_text("Welcome, risk")
    assert cjk_on_page(desktop) == []
    # The choice is remembered: the next page is English too.
    desktop.goto("/console/")
    expect(desktop.get_by_role("button", name="Sign out")).to_be_visible()


def test_wrong_password_is_refused_in_the_users_language(desktop: Page) -> None:
    desktop.goto("/console/sign-in")
    desktop.get_by_label("用户名").fill("risk")
    desktop.get_by_label("密码").fill("not the password")
    desktop.get_by_role("button", name="登录").click()
    expect(desktop.get_by_role("alert")).to_have_text("用户名或密码错误。")
    assert axe_violations(desktop) == []


def test_sign_out_ends_the_session(desktop: Page) -> None:
    sign_in_staff(desktop, "ops", PASSWORD)
    desktop.get_by_role("button", name="退出登录").click()
    desktop.wait_for_url("**/console/sign-in")
    desktop.goto("/console/")
    desktop.wait_for_url("**/console/sign-in?next=/console/")


def test_an_applicant_session_never_opens_the_console(phone: Page, site: Site) -> None:
    number = "13800138000"
    phone.goto("/h5/sign-in")
    phone.get_by_label("手机号码").fill(number)
    phone.get_by_role("button", name="获取验证码").click()
    phone.get_by_label("验证码").fill(site.sender.last_code(number))
    phone.get_by_role("button", name="登录").click()
    phone.goto("/console/")
    phone.wait_for_url("**/console/sign-in?next=/console/")


def test_h5_landing_from_a_qr_code_on_a_phone(phone: Page, site: Site, watched: Watched) -> None:
    phone.goto("/h5/?branch=TZ-001&channel=h5_qr")
    expect(phone.get_by_role("heading", level=1)).to_have_text("三步申请，为您的企业获得授信额度")
    expect(phone.get_by_text("网点或服务点：TZ-001")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page scrolls sideways on a 375 px phone"
    assert untranslated_on_page(phone) == []
    assert axe_violations(phone) == []
    screenshot(phone, site, "h5-landing-zh")
    phone.get_by_role("link", name="开始申请").click()
    expect(phone.get_by_label("手机号码")).to_be_visible()
    assert axe_violations(phone) == []


def test_the_api_docs_are_served_by_the_app(desktop: Page, watched: Watched) -> None:
    desktop.goto("/api/v1/docs")
    expect(desktop.locator(".swagger-ui .title").first).to_contain_text("Puhui open API")
