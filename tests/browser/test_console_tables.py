"""Every table of the console reads at a desktop width: a header never breaks inside a
Chinese term (one character a line), no column is squeezed below its header's width by a
long id or USCC in another column, and a wide table scrolls inside its region without making
the page wider than the window. Visited as each role sees its navigation."""

from __future__ import annotations

import re

from browser_support import sign_in_staff
from live_site import PASSWORD, Site
from playwright.sync_api import Page

ROLES = ("risk", "manager", "ops", "admin", "supervisor", "auditor", "approver")
SQUEEZED_HEADERS = """
els => els.map(th => {
  const style = getComputedStyle(th);
  const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.2;
  const range = document.createRange();
  range.selectNodeContents(th);
  return {text: th.innerText.trim(), lines: Math.round(range.getBoundingClientRect().height / line),
          overflowing: th.scrollWidth > th.clientWidth + 1};
}).filter(h => h.text.length > 1 && (h.lines > 3 || h.overflowing))
"""


def _console_paths(page: Page) -> list[str]:
    found = re.findall(r'href="(/console/[^"?#]*)"', page.content())
    return sorted({p for p in found if "sign-" not in p})


PAGE_OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_no_table_header_of_the_console_is_squeezed(desktop: Page, site: Site) -> None:
    squeezed: dict[str, list[object]] = {}
    too_wide: dict[str, int] = {}
    visited: set[str] = set()
    for role in ROLES:
        sign_in_staff(desktop, role, PASSWORD)
        for path in _console_paths(desktop):
            for url in (f"{path}?lang=zh-CN", f"{path}?lang=en"):
                if url in visited:
                    continue
                visited.add(url)
                desktop.goto(url)
                found = desktop.eval_on_selector_all("table th", SQUEEZED_HEADERS)
                if found:
                    squeezed[url] = found
                overflow = desktop.evaluate(PAGE_OVERFLOW)
                if overflow > 1:
                    too_wide[url] = overflow
        desktop.context.clear_cookies()
    assert len(visited) > 40  # the whole console was visited, in both languages
    assert squeezed == {}
    assert too_wide == {}
