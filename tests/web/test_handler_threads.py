"""Service calls run on a bounded threadpool on PostgreSQL (``ApiDependencies.handler_threads``)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import anyio
from api_support import build_api

from puhui.bootstrap.api import POSTGRES_HANDLER_THREADS
from puhui.domain.clock import FixedClock
from puhui.web.dependencies import call


def test_postgresql_gets_a_few_handler_threads_and_sqlite_runs_inline(
    database_url: str, clock: FixedClock
) -> None:
    api, engine = build_api(database_url, clock)
    try:
        if database_url.startswith("postgresql"):
            assert (api.deps.run_inline, api.deps.handler_threads) == (
                False,
                POSTGRES_HANDLER_THREADS,
            )
        else:
            assert (api.deps.run_inline, api.deps.handler_threads) == (True, None)
    finally:
        engine.dispose()  # type: ignore[attr-defined]


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
