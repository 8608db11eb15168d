"""Serve the API (``puhui serve``): bootstrap builds and wires it; this module only runs it."""

from __future__ import annotations

import gc
import logging
import secrets
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI

from puhui.bootstrap import Platform, Settings, build_platform
from puhui.bootstrap.logging import configure_logging
from puhui.bootstrap.serving import (
    DEMO_TEAM,
    api_dependencies,
    api_dependencies_from_settings,
    record_demo_team,
    seed_demo_users,
)
from puhui.bootstrap.settings import start_up_refusal
from puhui.bootstrap.wiring import OriginationPorts
from puhui.domain.errors import ConfigurationError
from puhui.domain.privacy import mask_phone
from puhui.lazy import warm
from puhui.services.documents.branch_qr import branch_code_qr
from puhui.web.app import create_app
from puhui.web.transport import OneSendHttpToolsProtocol
from puhui.web.workers import STARTUP_FAILURE, WorkersEnded, listening_socket, supervise

logger = logging.getLogger(__name__)


def app_from_settings(
    settings: Settings | None = None, *, platform: Platform | None = None
) -> FastAPI:
    """The API over the configured platform (see ``bootstrap.serving``)."""
    return create_app(api_dependencies_from_settings(settings, platform=platform))


def app_for(platform: Platform, ports: OriginationPorts) -> FastAPI:
    return create_app(api_dependencies(platform, ports))


UVICORN_OPTIONS: dict[str, Any] = {
    "log_config": None,
    # The client address is the API's to work out (PUHUI_TRUSTED_PROXIES): uvicorn's own
    # proxy handling would believe X-Forwarded-For from any local peer.
    "proxy_headers": False,
    # One send per response (ADR 0045).
    "http": OneSendHttpToolsProtocol,
}
"""How every ``puhui serve`` process runs uvicorn."""

DEMO_BRANCH = "DEMO-01"


class TerminalOtpSender:
    """The demo's SMS gateway: prints each one-time code (phone masked) where the demo runs."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo

    def send(self, phone: str, code: str) -> None:
        self.echo(f"one-time code for {mask_phone(phone)}: {code}")


def serve_demo(
    platform: Platform,
    ports: OriginationPorts,
    *,
    host: str,
    port: int,
    echo: Callable[[str], None],
) -> None:
    """Serve the simulated portfolio with one staff user per role (printed, dev only)."""
    refusal = start_up_refusal(platform.settings, host)
    if refusal is not None:
        raise ConfigurationError(refusal)
    deps = api_dependencies(platform, ports, otp_sender=TerminalOtpSender(echo))
    base = f"http://{host}:{port}"
    echo(f"serving Puhui on {base}  (Ctrl-C stops)")
    echo(f"  staff console    {base}/console/")
    echo(f"  SME pages (H5)   {base}/h5/")
    echo(f"  open API docs    {base}/api/v1/docs")
    echo("demo users of the console (username / password / role):")
    seeded = seed_demo_users(
        deps.security, password_for=lambda username: f"{username}-demo-{secrets.token_hex(4)}"
    )
    for username, role, password in seeded:
        if password is None:
            echo(f"  {username:<10} (exists already)")
        else:
            echo(f"  {username:<10} {password:<24} {role.value}")
    record_demo_team(deps.security, platform.monitoring_uow)
    echo(
        "  "
        + ", ".join(f"{lead} supervises {manager}" for manager, lead in DEMO_TEAM)
        + " (post-loan tasks: assignment, escalation)"
    )
    qr = branch_code_qr(base_url=base, branch_code=DEMO_BRANCH)
    qr_file = platform.settings.data_dir / f"qr-{DEMO_BRANCH}.png"
    qr_file.parent.mkdir(parents=True, exist_ok=True)
    qr_file.write_bytes(qr.png())
    echo(f"QR code of the demo branch {DEMO_BRANCH}: {qr_file} (opens {qr.url})")
    echo("applicants sign in on the H5 pages with a one-time code sent to their phone;")
    echo("the demo has no SMS gateway: codes are printed here")
    app = create_app(deps)
    settle_heap()
    uvicorn.run(app, host=host, port=port, **UVICORN_OPTIONS)


def check_schema(platform: Platform) -> None:
    """Refuse to serve a database that is not at this version's schema: every request would
    fail on a missing table or column. ``puhui db upgrade`` brings it up to date."""
    state = platform.database.status()
    if not state.up_to_date:
        raise ConfigurationError(
            f"the database {platform.database.display_url} is at revision "
            f"{state.current or '(empty)'} but this version of Puhui needs {state.head}"
            f" (pending: {', '.join(state.pending)}): run `puhui db upgrade` first",
            details={"current": state.current, "head": state.head},
        )


def run(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    settings = Settings()
    refusal = start_up_refusal(settings, host)
    if refusal is not None:
        raise ConfigurationError(refusal)
    configure_logging(settings.log_level, settings.effective_log_format)
    platform = build_platform(settings)
    try:
        check_schema(platform)
    except BaseException:
        platform.close()
        raise

    def serving() -> None:
        # Said once the port is ours: a refused bind ("Address already in use") says only that.
        logger.info(
            "serving the Puhui API on http://%s:%d/api/v1/docs with %d worker process(es)",
            host,
            port,
            workers,
        )

    if workers == 1:
        try:
            listener = listening_socket(host, port)
        except BaseException:
            platform.close()
            raise
        serving()
        app = app_from_settings(settings, platform=platform)
        settle_heap()
        server = uvicorn.Server(uvicorn.Config(app, **UVICORN_OPTIONS))
        server.run(sockets=[listener])
        if not server.started:  # the app's start-up failed (logged): as uvicorn.run exits
            raise SystemExit(STARTUP_FAILURE)
        return
    # Each worker builds its own platform (engine, pools, caches) after the fork.
    platform.close()
    try:
        run_workers(
            lambda: app_from_settings(Settings()),
            host=host,
            port=port,
            workers=workers,
            on_listening=serving,
        )
    except WorkersEnded as exc:  # each worker's own error is logged above
        logger.error("stopped: %s", exc)
        raise SystemExit(STARTUP_FAILURE) from None


SERVING_LIBRARIES = ("lightgbm", "igraph", "scipy.stats", "sklearn.isotonic")
"""Libraries the request path may use that load on first use (``puhui.lazy``): a server
imports them before its first request, not during it."""


def settle_heap() -> None:
    """Load what requests use, then move everything built at start-up out of the garbage
    collector's sight.

    The app, its routes, schemas, models and caches live as long as the process; a full
    collection that walks them again and again shows up as milliseconds in the slowest
    responses. Objects made per request are still collected as usual.
    """
    warm(*SERVING_LIBRARIES)
    gc.collect()
    gc.freeze()


def run_workers(
    make_app: Callable[[], FastAPI],
    *,
    host: str,
    port: int,
    workers: int,
    on_listening: Callable[[], None] | None = None,
) -> None:
    """Serve ``make_app()`` from ``workers`` forked processes on one port.

    The parent stays behind as their supervisor: it accepts each connection and gives it to
    the worker with the fewest open connections (``puhui.web.workers``). SQLite: the
    workers queue for the single writer through a file lock (WAL lets readers run beside
    it); PostgreSQL: each worker has its own connection pool.
    """

    def worker_config() -> uvicorn.Config:
        # In the worker, after the fork: each builds its own platform (engine, pools, caches).
        config = uvicorn.Config(make_app(), timeout_keep_alive=120, **UVICORN_OPTIONS)
        settle_heap()
        return config

    supervise(worker_config, host=host, port=port, workers=workers, on_listening=on_listening)
