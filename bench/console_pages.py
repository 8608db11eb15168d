"""Benchmark: server time to render each console page with a bank-sized book.

    PYTHONPATH=src .venv/bin/python bench/console_pages.py [--repeats 30]
    PYTHONPATH=src .venv/bin/python bench/console_pages.py --database postgresql+psycopg://...

Loads the book of ``bench/reporting.py`` in bulk (100,000 applications with their stored
decisions, 50,000 credit lines, their receipts and delinquency; the same loader, imported) on a
fresh SQLite file, or on an empty PostgreSQL database given by ``--database``; closes two month
ends and runs the end of day's reporting step for them (and the year of origination before), so
the dashboard has its figures. Then it builds the app as ``puhui serve`` does, creates one staff
user per role, signs each in through the sign-in form, and requests every console page the
navigation offers (``app.state.console_nav``: every page area merged into the app), the home
page and the detail pages it can derive from the data (an application, a line), ``--repeats``
times each after one warm-up, in process through a TestClient over https://testserver with the
signed-in cookie. Each page is opened by the first role (in ``ROLES`` order) that sees it.

Prints p50 and p95 per page and exits non-zero naming the pages over the bar (p95 > 150 ms) or
not answering 200. The transport floor, measured the same way, is ``GET /api/v1/health``.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.origination.tables import applications
from puhui.adapters.db.reporting import SqlReportingStore
from puhui.adapters.db.servicing.tables import credit_lines
from puhui.bootstrap import Settings, build_platform
from puhui.bootstrap.serving import api_dependencies
from puhui.bootstrap.wiring import origination_ports
from puhui.domain.clock import FixedClock
from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Principal, Role
from puhui.web.app import create_app
from puhui.web.pages.nav import NavItem
from reporting import FIRST_MONTH_END, MONTH_END, close, seed

BAR_MS = 150.0
PASSWORD = "console-bench-password"
NOW = datetime.combine(MONTH_END + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
    hours=1, minutes=30
)
ROLES = (
    Role.RISK_OFFICER,
    Role.OPERATIONS,
    Role.ACCOUNT_MANAGER,
    Role.APPROVER,
    Role.ADMIN,
    Role.SUPERVISOR,
    Role.AUDITOR,
)
"""One staff user each; a page is timed as the first of these that may open it."""
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
DETAIL_PATTERNS = {
    "application": re.compile(r"^/console/applications/\{[a-z_]+\}$"),
    "line": re.compile(r"^/console/lines/\{[a-z_]+\}$"),
}
"""Detail pages derivable from the data: the console route of one application, one line."""


def load_book(url: str, applications_count: int, lines_count: int) -> dict[str, Any]:
    """The book of ``bench/reporting.py``, and its aggregates as the end of day builds them."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine, "heads")
        started = time.perf_counter()
        counts: dict[str, Any] = dict(seed(engine, applications_count, lines_count))
        counts["seconds_to_load"] = round(time.perf_counter() - started, 1)
        store = SqlReportingStore(engine, clock=FixedClock(NOW))
        started = time.perf_counter()
        for day in (FIRST_MONTH_END, MONTH_END):
            close(engine, day)
            store.refresh(day)
        day = MONTH_END - timedelta(days=364)
        while day < MONTH_END:
            store.refresh(day)  # the year's origination figures (the approvals over time)
            day += timedelta(days=1)
        counts["seconds_to_report"] = round(time.perf_counter() - started, 1)
        counts["detail_ids"] = _detail_ids(engine)
    finally:
        engine.dispose()
    return counts


def _detail_ids(engine: Engine) -> dict[str, str]:
    """An application and a line from the middle of their tables (not a cached first row)."""
    found: dict[str, str] = {}
    with engine.connect() as connection:
        for kind, column in (
            ("application", applications.c.application_id),
            ("line", credit_lines.c.line_id),
        ):
            count = connection.execute(select(func.count()).select_from(column.table)).scalar()
            found[kind] = str(
                connection.execute(
                    select(column).order_by(column).offset(int(count or 0) // 2).limit(1)
                ).scalar()
            )
    return found


def sign_in(client: TestClient, username: str) -> None:
    page = client.get("/console/sign-in")
    match = CSRF.search(page.text)
    if match is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    response = client.post(
        "/console/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": match.group(1)},
        follow_redirects=False,
    )
    if response.status_code != 303:
        raise RuntimeError(f"{username} could not sign in: {response.status_code}")


def pages_to_time(app: Any, detail_ids: dict[str, str]) -> list[tuple[str, Role | None]]:
    """(path, role) of the home page, every NAV page and the derivable detail pages (whose
    role is found by asking: None)."""
    nav: tuple[NavItem, ...] = app.state.console_nav
    found: list[tuple[str, Role | None]] = [("/console/", Role.RISK_OFFICER)]
    for item in sorted(nav, key=lambda i: (i.order, i.path)):
        role = next((r for r in ROLES if item.visible_to(Principal(user_id="b", role=r))), None)
        if role is not None:
            found.append((item.path, role))
    paths = _route_paths(app.routes)
    for kind, pattern in DETAIL_PATTERNS.items():
        route = next((p for p in paths if pattern.match(p)), None)
        if route is not None:
            found.append((re.sub(r"\{[a-z_]+\}", detail_ids[kind], route), None))
    return found


def _route_paths(routes: list[Any]) -> list[str]:
    """Every route's path, through included routers (FastAPI keeps them wrapped)."""
    paths: list[str] = []
    for route in routes:
        if hasattr(route, "path"):
            paths.append(route.path)
        elif hasattr(route, "original_router"):
            paths.extend(_route_paths(route.original_router.routes))
    return paths


def timed(action: Callable[[], Any], repeats: int) -> tuple[float, float, int]:
    """p50 and p95 in ms of ``action`` after one warm-up call, and its first status not 200
    (200 when every answer was)."""
    statuses = [action().status_code]
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        statuses.append(action().status_code)
        samples.append((time.perf_counter() - started) * 1000)
    status = next((s for s in statuses if s != 200), 200)
    samples.sort()
    return statistics.median(samples), samples[max(0, round(0.95 * len(samples)) - 1)], status


def run(url: str, work: Path, args: argparse.Namespace) -> int:
    counts = load_book(url, args.applications, args.lines)
    detail_ids = counts.pop("detail_ids")
    print(f"loaded {counts}")
    settings = Settings(database_url=url, model_registry_dir=work / "models", data_dir=work)
    platform = build_platform(settings, clock=FixedClock(NOW))
    try:
        deps = api_dependencies(platform, origination_ports(platform))
        app = create_app(deps)
        clients: dict[Role, TestClient] = {}
        for role in ROLES:
            username = f"bench-{role.value}"
            accounts.create_user(
                deps.security, actor=SYSTEM, username=username, password=PASSWORD, role=role
            )
            clients[role] = TestClient(app, base_url="https://testserver")
            sign_in(clients[role], username)
        pages = pages_to_time(app, detail_ids)
        floor = timed(lambda: clients[ROLES[0]].get("/api/v1/health"), args.repeats)
        backend = url.split(":", maxsplit=1)[0]
        print(f"\n{len(pages)} pages, {args.repeats} requests each after one warm-up ({backend})")
        print(f"| page | role | status | p50 ms | p95 ms | ≤ {BAR_MS:.0f} ms |")
        print("| --- | --- | ---: | ---: | ---: | --- |")
        print(
            f"| GET /api/v1/health (floor) | — | {floor[2]} | {floor[0]:.1f} | {floor[1]:.1f} | |"
        )
        failed: list[str] = []
        for path, chosen in pages:
            # A detail page is opened by the first role it answers (its section's readers).
            role = chosen or next(
                (r for r in ROLES if clients[r].get(path).status_code == 200), ROLES[0]
            )
            client = clients[role]
            p50, p95, status = timed(partial(client.get, path), args.repeats)
            ok = status == 200 and p95 <= BAR_MS
            if not ok:
                failed.append(f"{path} ({status}, p95 {p95:.0f} ms)")
            verdict = "yes" if ok else "**NO**"
            print(f"| {path} | {role.value} | {status} | {p50:.1f} | {p95:.1f} | {verdict} |")
        for client in clients.values():
            client.close()
    finally:
        platform.close()
    if failed:
        print(f"\nover the bar or failing: {', '.join(failed)}")
        return 1
    print(f"\nevery page renders within {BAR_MS:.0f} ms at p95")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument(
        "--database", help="an empty PostgreSQL database's URL (default: a fresh SQLite file)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        url = args.database or f"sqlite:///{work / 'console.db'}"
        return run(url, work, args)


if __name__ == "__main__":
    sys.exit(main())
