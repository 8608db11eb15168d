"""Helpers of the browser tests: watching a page, axe-core, signing in, languages, screenshots."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from live_site import Site
from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "var" / "screenshots"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
"""The sandbox needs user namespaces CI may not have; the rest keep Chromium off the network."""
PHONE_VIEWPORT = {"width": 375, "height": 812}
DESKTOP_VIEWPORT = {"width": 1280, "height": 860}


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Debian's chromium is not installed: run `make browser` (or `make test`)")
    return path


class Watched:
    """What a page did that a test must not let pass: foreign requests and console errors."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.foreign: list[str] = []
        self.errors: list[str] = []

    def request(self, url: str) -> None:
        if not url.startswith((self.site.base_url + "/", "data:", "blob:", "about:")):
            self.foreign.append(url)

    def console(self, kind: str, text: str) -> None:
        # A page's own error status (a 404 page, a refused form) is logged as a failed load;
        # the sub-resources' failures are caught by ``response`` below.
        if kind == "error" and "Failed to load resource" not in text:
            self.errors.append(text)

    def response(self, url: str, status: int, resource_type: str) -> None:
        """A script, style sheet, image or font of a page that did not load is an error."""
        if status >= 400 and resource_type in {"script", "stylesheet", "image", "font"}:
            self.errors.append(f"{resource_type} {url} answered {status}")


def axe_violations(page: Page, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[Any]:
    """axe-core's violations of ``impacts`` on the page as it is now (rule id, nodes)."""
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `make assets` (npm ci from package-lock.json)")
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def sign_in_staff(page: Page, username: str, password: str) -> None:
    page.goto("/console/sign-in")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/console/")


def sign_in_from_the_qr_code(page: Page, site: Site, phone: str, start: str = "开始申请") -> None:
    """An owner scans the branch's QR code, taps ``start`` and signs in with the code texted
    to ``phone``: the application form opens."""
    page.goto("/h5/?branch=TZ-001&channel=h5_qr")
    page.get_by_role("link", name=start).click()
    page.locator("#phone").fill(phone)
    page.locator("form button[type=submit]").click()
    page.locator("#code").fill(site.sender.last_code(phone))
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/h5/apply")


def screenshot(page: Page, site: Site, name: str) -> Path:
    path = site.screenshots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def english_messages() -> set[str]:
    """Every English message of the pages' catalogs long enough to recognise in a page."""
    from puhui.web.pages import catalogs

    found: set[str] = set()
    for area in catalogs.areas():
        for message in catalogs.extract(area):
            text = str(message.id)
            if message.id and "%(" not in text and len(text) >= 6:
                found.add(text)
    return found


def untranslated_on_page(page: Page) -> list[str]:
    """English messages visible on a zh-CN page (each should have shown in Chinese)."""
    visible = page.locator("body").inner_text()
    return sorted(m for m in english_messages() if m in visible)


def cjk_on_page(page: Page, *, allowed: tuple[str, ...] = ("中文",)) -> list[str]:
    """Lines with Chinese characters on an English page (the language menu's 中文 aside)."""
    lines = page.locator("body").inner_text().splitlines()
    return [
        line
        for line in lines
        if any("\u4e00" <= ch <= "\u9fff" for ch in line) and line.strip() not in allowed
    ]
