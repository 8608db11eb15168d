"""The live site the browser tests drive: a small demo book served on a loopback port.

One ``puhui demo`` (a small market, two months of lending on SQLite) runs once per test session
in a subprocess; the site then serves that database in this process with the real platform
(market data source, champion model, active strategy, servicing), so the pages show a real
book. One-time codes are captured instead of logged, so a test can sign in as an applicant.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import uvicorn

import puhui
from puhui.bootstrap import Platform, Settings, build_platform
from puhui.bootstrap.serving import api_dependencies, record_demo_team
from puhui.bootstrap.wiring import origination_ports
from puhui.domain.clock import FixedClock
from puhui.market.params import parse_month
from puhui.pipelines.simulation import simulation_window
from puhui.services.security import accounts
from puhui.services.security.permissions import SYSTEM, Role
from puhui.web.app import create_app
from puhui.web.transport import OneSendHttpToolsProtocol

PASSWORD = "browser-test-password"
DEMO_ENTERPRISES = 3000
DEMO_MONTHS = 2
HISTORY_MONTHS = 24
START = "2023-01"
STAFF: dict[str, Role] = {
    "manager": Role.ACCOUNT_MANAGER,
    "approver": Role.APPROVER,
    "approver2": Role.APPROVER,
    "risk": Role.RISK_OFFICER,
    "risk2": Role.RISK_OFFICER,
    "ops": Role.OPERATIONS,
    "ops2": Role.OPERATIONS,
    "admin": Role.ADMIN,
    "auditor": Role.AUDITOR,
    "supervisor": Role.SUPERVISOR,
}
"""One user per role (two approvers, two risk officers and two operators, for four eyes);
password PASSWORD."""


@dataclass
class CapturingSender:
    """Keeps the one-time codes the site sends, as a phone would receive them."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, phone: str, code: str) -> None:
        with self.lock:
            self.sent.append((phone, code))

    def last_code(self, phone: str) -> str:
        with self.lock:
            return next(code for number, code in reversed(self.sent) if number == phone)


@dataclass(frozen=True)
class Site:
    base_url: str
    market_dir: Path
    database_url: str
    today: datetime
    sender: CapturingSender
    screenshots: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def platform(self) -> Platform:
        """The platform on the site's book, at the site's day, for a test to act as the bank
        (the caller closes it)."""
        work = self.market_dir.parent.parent
        return build_platform(
            Settings(  # type: ignore[call-arg]
                database_url=self.database_url,
                market_dir=self.market_dir,
                model_registry_dir=work / "models",
                data_dir=work,
            ),
            clock=FixedClock(self.today),
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_demo(work: Path) -> tuple[str, Path]:
    """A small demo book on a fresh SQLite file: (database URL, market folder)."""
    database_url = f"sqlite:///{work / 'puhui.db'}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PUHUI_")},
        "PUHUI_DATABASE_URL": database_url,
        "PUHUI_MODEL_REGISTRY_DIR": str(work / "models"),
        "PUHUI_DATA_DIR": str(work),
        "PUHUI_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(Path(puhui.__file__).resolve().parents[1]),
    }
    command = [
        sys.executable,
        "-c",
        "from puhui.cli.main import main; main()",
        "demo",
        "--enterprises",
        str(DEMO_ENTERPRISES),
        "--months",
        str(DEMO_MONTHS),
        "--history-months",
        str(HISTORY_MONTHS),
        "--start",
        START,
        "--workdir",
        str(work / "demo"),
        "--no-serve",
    ]
    result = subprocess.run(
        command, env=env, cwd=work, capture_output=True, text=True, timeout=600, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"the demo failed:\n{result.stdout}\n{result.stderr}")
    return database_url, work / "demo" / "market"


@contextmanager
def serve_site(work: Path, screenshots: Path) -> Iterator[Site]:
    database_url, market_dir = run_demo(work)
    _, last_day = simulation_window(parse_month(START), HISTORY_MONTHS + DEMO_MONTHS, DEMO_MONTHS)
    today = datetime.combine(last_day + timedelta(days=1), clock_time(9, 30), tzinfo=UTC)
    settings = Settings(
        database_url=database_url,
        market_dir=market_dir,
        model_registry_dir=work / "models",
        data_dir=work,
    )
    platform = build_platform(settings, clock=FixedClock(today))
    sender = CapturingSender()
    deps = api_dependencies(platform, origination_ports(platform), otp_sender=sender)
    for username, role in STAFF.items():
        accounts.create_user(
            deps.security, actor=SYSTEM, username=username, password=PASSWORD, role=role
        )
    record_demo_team(deps.security, platform.monitoring_uow)  # as `puhui demo` serves it
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(deps),
            host="127.0.0.1",
            port=port,
            log_config=None,
            http=OneSendHttpToolsProtocol,  # as `puhui serve` runs it
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the site did not start")
        time.sleep(0.05)
    try:
        yield Site(
            base_url=f"http://127.0.0.1:{port}",
            market_dir=market_dir,
            database_url=database_url,
            today=today,
            sender=sender,
            screenshots=screenshots,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        platform.close()
