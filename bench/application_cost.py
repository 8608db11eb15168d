"""Benchmark: what one application costs the server, in figures that compare two versions.

    PYTHONPATH=src .venv/bin/python bench/application_cost.py [--database URL]
        [--applications 200] [--rounds 3] [--workdir DIR]

    PYTHONPATH=src PYTHONMALLOC=malloc valgrind --tool=callgrind --instr-atstart=no \\
        --callgrind-out-file=FILE .venv/bin/python bench/application_cost.py --callgrind ...

The three calls of an application (create, consent, decide) go through the API's ASGI app in
this process, with no sockets and no concurrency, on the real assessor path that
``origination_api.py --real`` serves (the same market, champion model, feature store and
database set-up, in the same work dir; ``--database`` is reset first). Per application it
reports:

- the statements the database ran and the transactions SQLAlchemy began around them (its
  events; a read-only unit of work on an autocommit connection counts as one too);
- SQLite: the pages written to the WAL (automatic checkpoints are off, so the log only
  grows; a round in which it restarted all the same is reported as not counted);
- CPU milliseconds of this process, per round (best and all): on a shared machine rounds of
  the same code differ by more than most changes do;
- the elapsed time per application, per round: with one caller, how long a worker that runs
  the service calls inline is held by one application (its CPU and its waits on the database);
- PostgreSQL on this machine: the CPU of the server processes connected to the database, per
  round (``/proc``; not printed for a server elsewhere);
- ``--callgrind``, under valgrind: instrumentation is switched on for the measured
  applications only, so the file's total is their instructions (deterministic: the same
  code gives the same count to a fraction of a percent).

What it leaves out, by design: HTTP parsing and the socket (uvicorn), and waiting on another
worker's write lock. ``origination_api.py --real`` measures those.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

import origination_api as api  # the sibling benchmark's set-up (its folder is on sys.path)
from puhui.bootstrap import Settings, build_platform
from puhui.bootstrap.serving import api_dependencies
from puhui.bootstrap.wiring import origination_ports
from puhui.domain.origination.consent import DataScope
from puhui.services.security.permissions import Principal, Role
from puhui.web.app import create_app

WARM_UP = 100


class Caller:
    """Sends one request into the ASGI app and returns (status, JSON body)."""

    def __init__(self, app: Any) -> None:
        self._app = app

    async def __call__(
        self, method: str, path: str, body: Any, token: str, forwarded_for: str | None = None
    ) -> tuple[int, Any]:
        payload = b"" if body is None else json.dumps(body).encode()
        headers = [
            (b"host", b"127.0.0.1"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"content-length", str(len(payload)).encode()),
        ]
        if body is not None:
            headers.append((b"content-type", b"application/json"))
        if forwarded_for is not None:
            headers.append((b"x-forwarded-for", forwarded_for.encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 80),
        }
        received = False

        async def receive() -> dict[str, Any]:
            nonlocal received
            if not received:
                received = True
                return {"type": "http.request", "body": payload, "more_body": False}
            await asyncio.Event().wait()  # the client never disconnects
            raise AssertionError("unreachable")

        status = 0
        chunks: list[bytes] = []

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self._app(scope, receive, send)
        return status, json.loads(b"".join(chunks) or b"null")


async def applications(
    call: Caller, tokens: list[str], subjects: list[api.Subject], first: int, count: int
) -> dict[str, int]:
    """Applications ``first`` .. ``first + count - 1``, one after the other; their outcomes."""
    outcomes: dict[str, int] = {}
    scopes = [scope.value for scope in DataScope]
    for i in range(first, first + count):
        subject = subjects[i]
        status, out = await call(
            "POST",
            "/api/v1/applications",
            {
                "uscc": subject.uscc,
                "id_number": subject.id_number,
                "phone": api.phone(i),
                "requested_amount_fen": subject.amount_fen,
                "requested_term_months": subject.term_months,
            },
            tokens[i],
            api.applicant_address(i),
        )
        if status != 201:
            raise SystemExit(f"create failed: {status} {str(out)[:300]}")
        path = f"/api/v1/applications/{out['application_id']}"
        status, out = await call(
            "POST", f"{path}/consents", {"scopes": scopes, "purpose": "credit"}, tokens[i]
        )
        if status != 201:
            raise SystemExit(f"consent failed: {status} {str(out)[:300]}")
        status, out = await call("POST", f"{path}/decision", None, tokens[i])
        if status != 200:
            raise SystemExit(f"decide failed: {status} {str(out)[:300]}")
        outcomes[out["status"]] = outcomes.get(out["status"], 0) + 1
    return outcomes


@contextmanager
def counted(engine: Engine) -> Iterator[dict[str, int]]:
    """Statements, BEGINs and COMMITs (or ROLLBACKs) the engine's connections ran."""
    counts = {"statements": 0, "begin": 0, "end": 0}

    def statement(*_: Any) -> None:
        counts["statements"] += 1

    def begin(*_: Any) -> None:
        counts["begin"] += 1

    def end(*_: Any) -> None:
        counts["end"] += 1

    hooks = (
        ("before_cursor_execute", statement),
        ("begin", begin),
        ("commit", end),
        ("rollback", end),
    )
    for name, hook in hooks:
        event.listen(engine, name, hook)
    try:
        yield counts
    finally:
        for name, hook in hooks:
            event.remove(engine, name, hook)


def backend_times(engine: Engine) -> dict[int, float] | None:
    """CPU seconds so far of each server process connected to the benchmark's database,
    read from ``/proc``: only for a PostgreSQL server on this machine (else None)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        pids = connection.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        ).scalars()
        found = [int(pid) for pid in pids]
    stats = {pid: api.process_stat(pid) for pid in found}
    times = {pid: stat[1] for pid, stat in stats.items() if stat is not None}
    return times or None


def wal_position(path: str) -> tuple[bytes, int]:
    """The log's generation (checkpoint sequence and salt: a restart changes them) and the
    frames in it (the file only grows until a restart)."""
    with open(f"{path}-wal", "rb") as wal:
        header = wal.read(32)
        size = wal.seek(0, os.SEEK_END)
    page_size = int.from_bytes(header[8:12], "big")
    return header[12:20], (size - 32) // (24 + page_size)


def truncate_wal(path: str | None) -> None:
    """An empty WAL, as the server's checkpointer keeps it short (outside any timing)."""
    if path is None:
        return
    with closing(sqlite3.connect(path)) as connection:
        # A background reader of the app (the assessor's warm-up) may still hold a snapshot.
        for _ in range(120):
            if not connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:
                return
            time.sleep(0.5)
    raise SystemExit("the WAL could not be truncated: another connection holds it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=None, help="a PostgreSQL URL, reset first")
    parser.add_argument("--workdir", type=Path, default=Path("var/bench-origination-api"))
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--applications", type=int, default=200, help="per measured round")
    parser.add_argument("--rounds", type=int, default=3, help="CPU rounds")
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="under valgrind --tool=callgrind --instr-atstart=no: instrument one round only",
    )
    args = parser.parse_args()
    if args.applications < 1 or args.rounds < 0:
        parser.error("--applications must be at least 1 and --rounds at least 0")
    offset = api.SERVER_START - datetime.now(UTC)
    url, market, _ = api.prepare_real(args, offset)
    os.environ["PUHUI_API_SERVICE_CALLS"] = "inline"
    clock = api.real_clock()
    rounds = 1 if args.callgrind else args.rounds
    total = WARM_UP + 1 + args.applications * (rounds + 1)
    user_ids = api.preload(url, args.enterprises, total, at=clock.now())
    subjects = api.market_subjects(market, clock.today(), total, seed=11)
    api.settle(url)

    platform = build_platform(Settings(), clock=clock)
    engine = platform.database.engine
    sqlite_path = engine.url.database if engine.dialect.name == "sqlite" else None
    if sqlite_path is not None:
        # As a server runs it: no checkpoint on commit (here, none at all while counting).
        event.listen(
            engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA wal_autocheckpoint=0")
        )
        engine.dispose()
    deps = api_dependencies(platform, origination_ports(platform))
    call = Caller(create_app(deps))
    tokens = [
        deps.security.tokens.issue(Principal(user, Role.APPLICANT)).access_token
        for user in user_ids
    ]
    n = args.applications
    asyncio.run(applications(call, tokens, subjects, 0, WARM_UP))

    # Counting round: the listeners cost CPU, so it is not timed.
    truncate_wal(sqlite_path)
    # One application first, so that the log has its header: the count starts from there.
    asyncio.run(applications(call, tokens, subjects, WARM_UP, 1))
    start = (b"", 0) if sqlite_path is None else wal_position(sqlite_path)
    with counted(engine) as counts:
        outcomes = asyncio.run(applications(call, tokens, subjects, WARM_UP + 1, n))
    print(f"database: {engine.dialect.name}; outcomes of {n} applications: {outcomes}")
    print(
        f"per application: {counts['statements'] / n:.2f} statements, "
        f"{counts['begin'] / n:.2f} transactions begun, {counts['end'] / n:.2f} ended"
    )
    if sqlite_path is not None:
        generation, frames = wal_position(sqlite_path)
        if generation != start[0]:
            # A connection opened before the pragma checkpointed, and the log started over.
            print("WAL pages: not counted, the log restarted during the round")
        else:
            print(f"per application: {(frames - start[1]) / n:.1f} WAL pages written")

    first = WARM_UP + 1 + n
    if args.callgrind:
        truncate_wal(sqlite_path)
        gc.collect()
        pid = str(os.getpid())
        subprocess.run(["callgrind_control", "--instr=on", pid], check=True, capture_output=True)
        asyncio.run(applications(call, tokens, subjects, first, n))
        subprocess.run(["callgrind_control", "--instr=off", pid], check=True, capture_output=True)
        print(f"instrumented {n} applications: divide the callgrind file's total by {n}")
    else:
        cpu: list[float] = []
        wall: list[float] = []
        backend_cpu: list[float] = []
        for k in range(rounds):
            truncate_wal(sqlite_path)
            gc.collect()
            backends = backend_times(engine)
            started, clock_started = time.process_time(), time.perf_counter()
            asyncio.run(applications(call, tokens, subjects, first + k * n, n))
            cpu.append((time.process_time() - started) / n * 1000)
            wall.append((time.perf_counter() - clock_started) / n * 1000)
            if backends is not None:
                spent = backend_times(engine) or {}
                used = sum(seconds - backends.get(pid, 0.0) for pid, seconds in spent.items())
                backend_cpu.append(used / n * 1000)
        # --rounds 0: counts only. Elapsed, with one caller: how long a worker that runs the
        # calls inline is held per application.
        for label, values in (
            ("CPU", cpu),
            ("elapsed", wall),
            ("PostgreSQL backends' CPU", backend_cpu),
        ):
            if values:
                listed = ", ".join(f"{ms:.2f}" for ms in values)
                print(f"{label} per application: best {min(values):.2f} ms (rounds: {listed})")
    platform.close()


if __name__ == "__main__":
    main()
