"""The relationship graph on the console's application page, in a real browser.

A small site of its own (the API test wiring on SQLite, a hand-made graph snapshot) rather
than the demo book: the demo builds no graph. The page must draw the picture with its legend
under the console's Content Security Policy, load nothing from elsewhere, log no error and
pass axe-core.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from browser_support import (
    DESKTOP_VIEWPORT,
    SCREENSHOTS,
    Watched,
    axe_violations,
    cjk_on_page,
    sign_in_staff,
    untranslated_on_page,
)
from live_site import CapturingSender, Site
from playwright.sync_api import Browser, Page, expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "origination"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "graph"))

from api_support import PASSWORD, build_api
from neighbourhood_support import write_test_snapshot
from origination_fakes import OWNER_ID, PHONE, USCC_A

from puhui.domain.clock import FixedClock
from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Role

ADDRESS = "台州市椒江区***"


@dataclass(frozen=True)
class GraphSite:
    site: Site
    application_id: str


@pytest.fixture(scope="module")
def graph_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GraphSite]:
    work = tmp_path_factory.mktemp("graph-site")
    clock = FixedClock(datetime(2026, 4, 2, 1, 30, tzinfo=UTC))
    api, engine = build_api(f"sqlite:///{work / 'puhui.db'}", clock)
    folder = write_test_snapshot(work / "graph" / "2026-03")
    api.client.app.state.deps = replace(api.deps, graph_folder=lambda: folder)  # type: ignore[attr-defined]
    api.client.app.state.graph_snapshots.get(folder)  # type: ignore[attr-defined]
    accounts.create_user(
        api.deps.security, actor=SYSTEM, username="approver", password=PASSWORD, role=Role.APPROVER
    )
    created = api.client.post(
        "/api/v1/applications",
        json={"uscc": USCC_A, "id_number": OWNER_ID, "phone": PHONE},
        headers=api.applicant_headers(),
    )
    assert created.status_code == 201, created.text
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(api.client.app, host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "the site did not start"
        time.sleep(0.05)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    site = Site(
        base_url=f"http://127.0.0.1:{port}",
        market_dir=work,
        database_url=f"sqlite:///{work / 'puhui.db'}",
        today=clock.now(),
        sender=CapturingSender(),
        screenshots=SCREENSHOTS,
    )
    try:
        yield GraphSite(site, str(created.json()["application_id"]))
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def page(browser: Browser, graph_site: GraphSite) -> Iterator[Page]:
    watched = Watched(graph_site.site)
    context = browser.new_context(base_url=graph_site.site.base_url, viewport=DESKTOP_VIEWPORT)
    opened = context.new_page()
    opened.on("request", lambda request: watched.request(request.url))
    opened.on("console", lambda message: watched.console(message.type, message.text))
    opened.on("pageerror", lambda error: watched.errors.append(str(error)))
    opened.on(
        "response",
        lambda response: watched.response(
            response.url, response.status, response.request.resource_type
        ),
    )
    yield opened
    context.close()
    assert watched.foreign == [], f"pages loaded from other origins: {watched.foreign}"
    assert watched.errors == [], f"errors in the browser console: {watched.errors}"


def test_the_application_page_draws_the_graph_with_its_legend_and_evidence(
    page: Page, graph_site: GraphSite
) -> None:
    sign_in_staff(page, "approver", PASSWORD)
    page.goto(f"/console/applications/{graph_site.application_id}")
    expect(page.get_by_role("heading", name="关系图谱")).to_be_visible()
    picture = page.get_by_role("img", name="企业0Y43 的关系图谱")
    expect(picture).to_be_visible()
    box = picture.bounding_box()
    assert box is not None
    assert box["width"] > 600
    assert box["height"] > 400
    # Drawn, not just sent: the legend's words are laid out inside the picture.
    legend = page.locator("svg.neighbourhood g.legend text", has_text="团伙成员")
    expect(legend).to_be_visible()
    assert page.locator("svg.neighbourhood .node").count() == 18
    expect(page.get_by_text("属于团伙 R1，共 3 家企业（团伙评分 0.80）。")).to_be_visible()
    assert untranslated_on_page(page) == []
    assert axe_violations(page) == []
    page.locator("section.graph").screenshot(
        path=str(graph_site.site.screenshots / "console-application-graph.png")
    )

    page.goto(f"/console/applications/{graph_site.application_id}?lang=en")
    expect(page.get_by_role("heading", name="Relationship graph")).to_be_visible()
    expect(page.get_by_role("img", name="Relationship graph of 企业0Y43")).to_be_visible()
    # The enterprises' names and the masked address are data, not words of the page.
    assert [
        line for line in cjk_on_page(page, allowed=("中文", ADDRESS)) if "企业" not in line
    ] == []
    page.locator("section.graph").screenshot(
        path=str(graph_site.site.screenshots / "console-application-graph-en.png")
    )
