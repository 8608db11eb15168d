"""Browser tests: Playwright driving Debian's Chromium against the live demo site.

Every page a test opens is watched: a request to another origin (a CDN, a font host) or an
error in the browser console (a Content Security Policy violation among them) fails the test.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from browser_support import (
    CHROMIUM_FLAGS,
    DESKTOP_VIEWPORT,
    PHONE_VIEWPORT,
    SCREENSHOTS,
    Watched,
    chromium_path,
)
from live_site import Site, serve_site
from playwright.sync_api import Browser, Page, Playwright, sync_playwright


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with serve_site(tmp_path_factory.mktemp("site"), SCREENSHOTS) as running:
        yield running


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    # Module scope: Playwright's sync API keeps an event loop running in this thread while
    # it lives, and the suite's later tests start loops of their own (asyncio.run).
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
    yield launched
    launched.close()


@pytest.fixture
def watched(site: Site) -> Watched:
    return Watched(site)


def _watch(page: Page, watched: Watched) -> None:
    page.on("request", lambda request: watched.request(request.url))
    page.on("console", lambda message: watched.console(message.type, message.text))
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.on(
        "response",
        lambda response: watched.response(
            response.url, response.status, response.request.resource_type
        ),
    )


def _assert_clean(watched: Watched) -> None:
    assert watched.foreign == [], f"pages loaded from other origins: {watched.foreign}"
    assert watched.errors == [], f"errors in the browser console: {watched.errors}"


@pytest.fixture
def desktop(browser: Browser, site: Site, watched: Watched) -> Iterator[Page]:
    """A desktop browser tab (1280 px) on the site, watched."""
    context = browser.new_context(base_url=site.base_url, viewport=DESKTOP_VIEWPORT)
    page = context.new_page()
    _watch(page, watched)
    yield page
    context.close()
    _assert_clean(watched)


@pytest.fixture
def phone(browser: Browser, site: Site, watched: Watched) -> Iterator[Page]:
    """A 375 x 812 phone on the site (touch, mobile), watched."""
    context = browser.new_context(
        base_url=site.base_url,
        viewport=PHONE_VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    _watch(page, watched)
    yield page
    context.close()
    _assert_clean(watched)
