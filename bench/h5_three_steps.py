"""The H5 three steps in a real browser: from submitting consent to the answer on the screen.

Usage: PYTHONPATH=src .venv/bin/python bench/h5_three_steps.py [--runs 6]

Serves the browser tests' live site (``tests/browser/live_site.py``: a small demo book, 3,000
enterprises and two months on SQLite, with the real market data source, model and strategy),
then, once per run, an owner of the market who never applied (``tests/browser/h5_applicants``)
signs in on a 375 x 812 phone in Debian's Chromium, fills step 1 and ticks every data source.
Timed from the click on "agree and get my answer" to the answer (step 3) visible: the consent
is stored, the data pulled, the decision made and recorded, and the answer page loaded.
Step 1 (submit to the consent page) is timed too. The first run is the process's first
assessment (cold: the market's tables are loaded then); the median is of the other runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

from browser_support import CHROMIUM_FLAGS, PHONE_VIEWPORT, chromium_path  # noqa: E402
from h5_applicants import MarketOwner, fresh_owners  # noqa: E402
from live_site import Site, serve_site  # noqa: E402
from playwright.sync_api import Browser, expect, sync_playwright  # noqa: E402

ANSWER = ".progress li:nth-child(3)[aria-current=step]"
CONSENT = ".progress li:nth-child(2)[aria-current=step]"


def one_owner(browser: Browser, site: Site, owner: MarketOwner) -> tuple[float, float, str]:
    """(step 1 seconds, consent-to-answer seconds, the answer's heading) for one owner."""
    context = browser.new_context(
        base_url=site.base_url,
        viewport=PHONE_VIEWPORT,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    try:
        page.goto("/h5/?branch=TZ-001&channel=h5_qr")
        page.locator("a[href='/h5/sign-in?next=/h5/apply']").click()
        page.locator("#phone").fill(owner.phone)
        page.locator("form button[type=submit]").click()
        page.locator("#code").fill(site.sender.last_code(owner.phone))
        page.locator("form button[type=submit]").click()
        page.wait_for_url("**/h5/apply")
        page.locator("#uscc").fill(owner.uscc)
        page.locator("#id_number").fill(owner.id_number)
        started = time.perf_counter()
        page.locator("form.stack button[type=submit]").click()
        expect(page.locator(CONSENT)).to_be_visible(timeout=30_000)
        step1 = time.perf_counter() - started
        boxes = page.locator("input[name=scope]")
        for index in range(boxes.count()):
            boxes.nth(index).check()
        started = time.perf_counter()
        page.locator("form.stack button[type=submit]").click()
        expect(page.locator(ANSWER)).to_be_visible(timeout=30_000)
        answer = time.perf_counter() - started
        return step1, answer, page.locator("h1").inner_text()
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6, help="owners, one after the other")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="puhui-h5-bench-") as work:
        print("building the live site (the demo book) ...", flush=True)
        built = time.perf_counter()
        with serve_site(Path(work), Path(work) / "screenshots") as site:
            print(f"site ready in {time.perf_counter() - built:.1f} s at {site.base_url}")
            owners = fresh_owners(site.market_dir, args.runs)
            with sync_playwright() as driver:
                browser = driver.chromium.launch(
                    executable_path=chromium_path(), args=CHROMIUM_FLAGS
                )
                answers: list[float] = []
                for run, owner in enumerate(owners, start=1):
                    step1, answer, heading = one_owner(browser, site, owner)
                    answers.append(answer)
                    label = "cold" if run == 1 else "warm"
                    print(
                        f"run {run} ({label}): step 1 {step1 * 1000:6.0f} ms   "
                        f"consent -> answer {answer * 1000:6.0f} ms   {heading}"
                    )
                browser.close()
    warm = answers[1:] or answers
    print(
        f"consent -> answer visible: cold {answers[0] * 1000:.0f} ms, warm median "
        f"{statistics.median(warm) * 1000:.0f} ms, warm max {max(warm) * 1000:.0f} ms "
        f"(bar: 1,000 ms)"
    )


if __name__ == "__main__":
    main()
