"""Where service calls run: on the event loop beside a local database, on a bounded threadpool
(``ApiDependencies.handler_threads``) beside a remote PostgreSQL (``PUHUI_API_SERVICE_CALLS``)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import anyio
import pytest
from api_support import build_api
from pydantic import ValidationError
from sqlalchemy import create_engine

from puhui.bootstrap.api import POSTGRES_HANDLER_THREADS, service_calls_inline
from puhui.bootstrap.container import build_platform
from puhui.bootstrap.serving import api_dependencies
from puhui.bootstrap.settings import Settings
from puhui.bootstrap.wiring import origination_ports
from puhui.domain.clock import FixedClock
from puhui.web.dependencies import call


def test_a_local_database_runs_calls_inline_and_postgresql_keeps_a_few_threads(
    database_url: str, clock: FixedClock
) -> None:
    # The suite's PostgreSQL is on this machine: its round trips are not worth a thread.
    api, engine = build_api(database_url, clock)
    try:
        if database_url.startswith("postgresql"):
            assert (api.deps.run_inline, api.deps.handler_threads) == (
                True,
                POSTGRES_HANDLER_THREADS,
            )
        else:
            assert (api.deps.run_inline, api.deps.handler_threads) == (True, None)
    finally:
        engine.dispose()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("url", "inline"),
    [
        ("sqlite://", True),
        ("sqlite:////var/lib/puhui/puhui.db", True),
        ("postgresql+psycopg://puhui@127.0.0.1:5432/puhui", True),
        ("postgresql+psycopg://puhui@localhost/puhui", True),
        ("postgresql+psycopg://puhui@[::1]:5432/puhui", True),
        ("postgresql+psycopg:///puhui", True),  # the default Unix socket
        ("postgresql+psycopg://puhui@/puhui?host=/var/run/postgresql", True),
        ("postgresql+psycopg://puhui@db.bank.internal:5432/puhui", False),
        ("postgresql+psycopg://puhui@10.0.3.7/puhui", False),
        ("postgresql+psycopg://puhui@/puhui?host=db1&host=db2", False),
    ],
)
def test_auto_runs_calls_inline_beside_a_local_database_and_in_threads_beside_a_remote_one(
    url: str, inline: bool
) -> None:
    engine = create_engine(url)  # no connection is opened
    try:
        assert service_calls_inline("auto", engine) is inline
        assert service_calls_inline("inline", engine) is True
        assert service_calls_inline("threads", engine) is False
    finally:
        engine.dispose()


def test_an_unknown_way_of_running_calls_is_refused() -> None:
    with pytest.raises(ValueError, match="'auto', 'inline' or 'threads', not 'fibres'"):
        service_calls_inline("fibres", create_engine("sqlite://"))
    with pytest.raises(ValidationError, match="api_service_calls"):
        Settings(api_service_calls="fibres")  # type: ignore[arg-type]


@pytest.mark.parametrize(("mode", "inline"), [("auto", True), ("threads", False)])
def test_the_server_takes_the_setting(tmp_path: Path, mode: str, inline: bool) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'puhui.db'}",
        data_dir=tmp_path,
        model_registry_dir=tmp_path / "models",
        api_service_calls=mode,  # type: ignore[arg-type]
    )
    platform = build_platform(settings)
    try:
        platform.migrate()
        deps = api_dependencies(platform, origination_ports(platform))
        assert deps.run_inline is inline
    finally:
        platform.close()


def test_no_more_calls_run_at_once_than_the_handler_threads(
    sqlite_url: str, clock: FixedClock
) -> None:
    api, engine = build_api(sqlite_url, clock)
    deps = replace(api.deps, run_inline=False, handler_threads=3)
    running, most = 0, 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal running, most
        with guard:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with guard:
            running -= 1

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(12):
                group.start_soon(call, deps, work)

    try:
        anyio.run(main)
    finally:
        engine.dispose()  # type: ignore[attr-defined]
    assert 1 <= most <= 3
