"""Dealer loans in a real browser: the dealer's enterprise user, on a 375 px phone, reads its
dealer line, is refused a draw above what is available (nothing changes), draws to pay the
core (受托支付) and sees the receipt paid to the core; in zh-CN and English, clean under axe.
Screenshots go to ``var/screenshots/dealer-*.png``.

The site is the app with servicing on a tiny market of one core and its dealers (in memory),
the core onboarded and the dealer's line opened through the API, served on a loopback port.
"""

from __future__ import annotations

import datetime as dt
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from browser_support import SCREENSHOTS, axe_violations, cjk_on_page, screenshot, sign_in_staff
from live_site import CapturingSender, Site
from playwright.sync_api import Page, expect

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))
sys.path.insert(0, str(Path(__file__).parents[1] / "dealers"))

from api_support import PASSWORD, Api, build_servicing_api
from dealer_support import CORE, CORE_NAME, DEALER, YUAN
from test_dealer_lines_api import on_tiny_market

from puhui.domain.clock import FixedClock
from puhui.domain.ids import CreditLineId
from puhui.services.security.permissions import Role

DEALER_PHONE = "13900005555"
TODAY = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Book:
    site: Site
    api: Api
    line_id: str


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Book]:
    work = tmp_path_factory.mktemp("dealer-site")
    url = f"sqlite:///{work / 'puhui.db'}"
    built, engine = build_servicing_api(url, FixedClock(TODAY), work / "models")
    on_tiny_market(built)
    opened = built.client.post(
        "/api/v1/dealer-lines",
        json={"core_uscc": CORE, "dealer_uscc": DEALER, "commitment": "guarantee"},
        headers={**built.staff_headers(Role.RISK_OFFICER, "risk-open"), "Idempotency-Key": "o"},
    )
    assert opened.status_code == 201, opened.text
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(built.client.app, host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the site did not start"
        assert time.monotonic() < deadline, "the site did not start"
        time.sleep(0.05)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    site = Site(
        base_url=f"http://127.0.0.1:{port}",
        market_dir=work,
        database_url=url,
        today=TODAY,
        sender=CapturingSender(),  # the codes are the API's sender's (built.sender)
        screenshots=SCREENSHOTS,
    )
    try:
        yield Book(site, built, str(opened.json()["line_id"]))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        built.client.close()
        engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def site(book: Book) -> Site:
    """This module's own site (the conftest's pages and watchers use it)."""
    return book.site


def _clean(page: Page, *, zh: bool = True) -> None:
    assert axe_violations(page) == [], page.url
    if not zh:
        # Registered names are Chinese in every language: only the rest of a line must not be.
        lines = [
            line.replace(CORE_NAME, "") for line in cjk_on_page(page, allowed=("中文", "受托支付"))
        ]
        assert [line for line in lines if any("\u4e00" <= ch <= "\u9fff" for ch in line)] == [], (
            page.url
        )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} scrolls sideways on a 375 px phone ({width} px)"


def _drawn(book: Book) -> int:
    assert book.api.deps.credit is not None
    with book.api.deps.credit.servicing_uow() as uow:
        line = uow.lines.get(CreditLineId(book.line_id))
    assert line is not None
    return line.drawn_fen


def test_the_dealer_draws_on_its_line_to_pay_the_core_on_a_phone(
    phone: Page, site: Site, book: Book
) -> None:
    api = book.api
    phone.goto("/h5/sign-in?next=/h5/dealer-lines")
    phone.locator("#phone").fill(DEALER_PHONE)
    phone.locator("form button[type=submit]").click()
    code = next(c for p, c in reversed(api.sender.sent) if p == DEALER_PHONE)
    phone.locator("#code").fill(code)
    phone.locator("form button[type=submit]").click()
    phone.wait_for_url("**/h5/dealer-lines")
    expect(phone.get_by_role("heading", level=1)).to_have_text("我的经销商额度")
    expect(phone.locator("[data-dealer-lines] li")).to_have_count(0)  # not bound yet
    with api.deps.security.reader_factory() as uow:
        user = uow.users.applicant_by_phone(DEALER_PHONE)
    assert user is not None
    bound = api.client.post(
        "/api/v1/enterprise-users",
        json={"user_id": user.user_id, "uscc": DEALER},
        headers=api.staff_headers(Role.RISK_OFFICER, "risk-bind"),
    )
    assert bound.status_code == 204, bound.text
    phone.reload()
    expect(phone.locator("[data-dealer-lines] li")).to_have_count(1)
    expect(phone.locator("[data-dealer-lines]")).to_contain_text(
        f"收款核心企业 {CORE_NAME} ({CORE})"
    )
    _clean(phone)
    screenshot(phone, site, "dealer-h5-lines")

    phone.locator("[data-dealer-lines] a").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("经销商额度")
    expect(phone.locator("[data-available]")).to_have_text("¥540,000.00")
    # Above what is available: refused next to the field, nothing drawn.
    phone.get_by_label("金额（元）").fill("600000")
    phone.get_by_role("button", name="支付给核心企业").click()
    expect(phone.locator("#draw-error")).to_contain_text("金额超过该经销商额度的可用额度")
    expect(phone.get_by_label("金额（元）")).to_have_attribute("aria-invalid", "true")
    assert _drawn(book) == 0
    _clean(phone)
    screenshot(phone, site, "dealer-h5-refused")

    phone.get_by_label("金额（元）").fill("150000")
    phone.get_by_role("button", name="支付给核心企业").click()
    expect(phone.get_by_role("status")).to_contain_text("款项已支付给核心企业")
    expect(phone.locator("[data-available]")).to_have_text("¥390,000.00")
    expect(phone.locator("[data-receipts] li")).to_have_count(1)
    expect(phone.locator("[data-receipts]")).to_contain_text(f"已支付给 {CORE_NAME} ({CORE})")
    expect(phone.locator("[data-receipts]")).to_contain_text("2026-05-31 到期")
    assert _drawn(book) == 150_000 * YUAN
    _clean(phone)
    screenshot(phone, site, "dealer-h5-drawn")

    phone.goto(f"/h5/dealer-lines/{book.line_id}?lang=en")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Dealer line")
    expect(phone.locator("[data-receipts]")).to_contain_text(f"Paid to {CORE_NAME} ({CORE})")
    _clean(phone, zh=False)
    screenshot(phone, site, "dealer-h5-drawn-en")


def test_a_risk_officer_reads_the_dealer_lines_on_the_console(
    desktop: Page, site: Site, book: Book
) -> None:
    sign_in_staff(desktop, "risk-open", PASSWORD)  # the officer who opened the line
    desktop.goto(f"/console/dealer-lines?core={CORE}")
    expect(desktop.get_by_role("heading", level=1)).to_have_text("经销商额度")
    row = desktop.get_by_role("row").filter(has_text=book.line_id)
    expect(row).to_contain_text(DEALER)
    expect(row).to_contain_text("540,000.00")
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "dealer-console-lines")
    row.get_by_role("link", name=book.line_id).click()
    expect(desktop.get_by_role("heading", level=1)).to_contain_text(book.line_id)
    expect(desktop.get_by_role("button", name="支用并支付核心企业")).to_be_visible()
    assert axe_violations(desktop) == []
    screenshot(desktop, site, "dealer-console-line")
