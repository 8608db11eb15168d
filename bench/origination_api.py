"""Application to decision over HTTP: latency and throughput with concurrent clients.

Usage: .venv/bin/python bench/origination_api.py [--enterprises 100000] [--applications 2000]
       [--clients 32] [--workers 1] [--rate R]
       .venv/bin/python bench/origination_api.py --real [--database URL] [--workdir DIR] ...

Starts the API (uvicorn, ``--workers`` processes sharing one listening socket) in a child
process on loopback (SQLite in the stub mode), preloads ``--enterprises`` closed
applications (the tables a bank with that many known enterprises would hold), then drives
create + consent + decide for ``--applications`` fresh enterprises from ``--clients``
concurrent keep-alive clients (a minimal HTTP/1.1 client: httpx cost more CPU than the server
on this 2-core machine).
Baselines measured in the same run: GET /api/v1/health over HTTP (transport floor) and the
same three steps as direct service calls (no HTTP). The server's CPU seconds per
application (from /proc) are printed too: on a shared machine they are steadier than rates.
The assessor is a stub (the decision engine is measured by its own benchmark): the figures
are the platform's overhead around it.

``--real`` measures the real decision path instead. It generates (or reuses, in ``--workdir``)
a market of ``--enterprises`` enterprises, trains the GBM on its history once, registers it as
champion in a fresh registry, migrates and seeds the database (SQLite in the work dir, or
``--database URL`` reset first), builds the feature store for the decision month, and starts
the workers as ``puhui serve`` builds them from settings (``PUHUI_MARKET_DIR``,
``PUHUI_MODEL_REGISTRY_DIR``, ...), with one difference: the server's clock starts on
2025-06-03 10:00 in Shanghai (a Tuesday on which the June feature store is current) and
runs on from there. Applications come from real market enterprises with their legal
representatives' ID numbers (so the identity check passes), a requested amount and term, and
consent to every data scope. After a warm-up, the paced phase (``--rate``) and a closed-loop
phase run one after the other on fresh enterprises; every outcome (offered, declined,
referred) counts as a decision.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import polars as pl
import uvicorn

from puhui.adapters.db import migrate
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.engine import checkpoint_in_background, make_engine
from puhui.adapters.db.origination import tables as t
from puhui.adapters.sources.market import MarketDataSource
from puhui.bootstrap import Settings, build_platform
from puhui.bootstrap.serving import api_dependencies
from puhui.bootstrap.wiring import month_publisher, origination_ports, register_champion
from puhui.domain.clock import BANK_ZONE, SystemClock
from puhui.domain.identity import id_check_char, uscc_check_char
from puhui.domain.ids import new_id
from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.domain.origination.consent import DataScope
from puhui.market import store
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.market.store import MANIFEST
from puhui.pipelines.simulation import train_market_model
from puhui.risk.artefact import ModelKind
from puhui.services.origination import use_cases as uc
from puhui.services.origination.ports import AssessmentRequest, LineOpening
from puhui.services.security.network import parse_networks
from puhui.services.security.otp import LoggingOtpSender
from puhui.services.security.permissions import Principal, Role
from puhui.web.app import create_app
from puhui.web.dependencies import ApiDependencies
from puhui.web.server import run_workers
from puhui.web.transport import OneSendHttpToolsProtocol
from puhui.web.wiring import ApiKeys, ApiLimits, build_api_dependencies

KEYS = ApiKeys(
    audit_key=b"a" * 32, data_key=b"d" * 32, jwt_secret=b"j" * 32, signing_key_seed=b"s" * 32
)
SCOPES = ["registration", "tax", "invoice", "court"]


class StubAssessor:
    def assess(self, request: AssessmentRequest) -> Assessment:
        return Assessment(
            outcome=Outcome.APPROVE,
            limit_fen=30_000_000,
            annual_rate=Decimal("0.0435"),
            term_months=12,
            grade="B",
            pd=Decimal("0.02"),
            score=650,
            trace={"strategy": "bench"},
        )


class StubData:
    def pull(self, uscc: str, scope: DataScope, *, as_of: date) -> Mapping[str, Any]:
        return {"registered_on": "2018-01-01"} if scope is DataScope.REGISTRATION else {}


class NoLines:
    def open_line(self, opening: LineOpening) -> str:
        return "line"


def deps_for(url: str) -> ApiDependencies:
    engine = make_engine(url)
    # As `puhui serve` does: WAL checkpoints in a background thread, not in a request.
    checkpoint_in_background(engine)
    return build_api_dependencies(
        engine=engine,
        clock=SystemClock(),
        keys=KEYS,
        assessor=StubAssessor(),
        data_source=StubData(),
        line_opener=NoLines(),
        otp_sender=LoggingOtpSender(),
        limits=ApiLimits(trusted_proxies=LOAD_BALANCER),
    )


LOAD_BALANCER = parse_networks(["127.0.0.1/32"])
"""The benchmark's clients all connect from loopback, as a bank's applicants reach the API
through its load balancer: the server believes the ``X-Forwarded-For`` each client sends,
and the anti-fraud IP velocity rule sees each applicant's own address."""


def applicant_address(n: int) -> str:
    """Applicant ``n``'s network address (one per applicant, in 10.0.0.0/8)."""
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def uscc(n: int) -> str:
    body = f"91{n % 10**6:06d}{n // 10**6 % 10**9:09d}"
    return body + uscc_check_char(body)


def id_number(n: int) -> str:
    day, month, year = n // 1000 % 28 + 1, n // 28_000 % 12 + 1, 1960 + n // 336_000 % 40
    body = f"110105{year}{month:02d}{day:02d}{n % 1000:03d}"
    return body + id_check_char(body)


def phone(n: int) -> str:
    return f"13{n % 10**9:09d}"


def preload(
    url: str, enterprises: int, applicants: int, *, at: datetime | None = None
) -> list[str]:
    """Closed applications for ``enterprises`` and applicant users; returns applicant ids.

    The closed applications are dated 400 days before ``at`` (the server's clock; by default
    the machine's).
    """
    engine = make_engine(url)
    migrate.upgrade(engine)
    cipher = FieldCipher(KEYS.data_key)
    now = (at or datetime.now(UTC)) - timedelta(days=400)
    batch: list[dict[str, Any]] = []
    with engine.begin() as c:
        for n in range(enterprises):
            i, p = id_number(n), phone(5 * 10**8 + n)
            batch.append(
                {
                    "application_id": new_id("app"),
                    "application_no": f"PL{n:012d}",
                    "uscc": uscc(n),
                    "open_uscc": None,
                    "id_number_enc": cipher.encrypt("id_number", i),
                    "id_number_index": cipher.blind_index("id_number", i),
                    "phone_enc": cipher.encrypt("phone", p),
                    "phone_index": cipher.blind_index("phone", p),
                    "status": "declined",
                    "requested_amount_fen": 10_000_000,
                    "created_at": now,
                    "updated_at": now,
                    "version": 3,
                }
            )
            if len(batch) == 10_000:
                c.execute(t.applications.insert(), batch)
                batch = []
        if batch:
            c.execute(t.applications.insert(), batch)
        users = []
        for n in range(applicants):
            p = phone(n)
            users.append(
                {
                    "user_id": new_id("usr"),
                    "username": f"applicant:b{n}",
                    "role": "applicant",
                    "phone_enc": cipher.encrypt("phone", p),
                    "phone_index": cipher.blind_index("phone", p),
                    "disabled": False,
                    "created_at": at or datetime.now(UTC),
                }
            )
        c.execute(t.users.insert(), users)
    engine.dispose()
    return [u["user_id"] for u in users]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(name: str, ms: list[float]) -> dict[str, float]:
    out = {"p50": pct(ms, 0.5), "p99": pct(ms, 0.99), "mean": statistics.fmean(ms or [0.0])}
    print(f"  {name:<34} n={len(ms):>6}  p50 {out['p50']:7.2f} ms  p99 {out['p99']:7.2f} ms")
    return out


class RawClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams.

    The load generator shares the machine's two cores with the server: httpx spent more CPU
    per request than the endpoints measured, so the driver speaks plain HTTP/1.1 itself.
    """

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        token: str | None = None,
        forwarded_for: str | None = None,
    ) -> tuple[int, Any]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        payload = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self._host}"]
        if token is not None:
            head.append(f"Authorization: Bearer {token}")
        if forwarded_for is not None:
            head.append(f"X-Forwarded-For: {forwarded_for}")
        if body is not None:
            head.append("Content-Type: application/json")
        head.append(f"Content-Length: {len(payload)}")
        self._writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        raw = await self._reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await self._reader.readexactly(length)
        return status, json.loads(data) if data else None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


def process_stat(pid: int | str) -> tuple[int, float] | None:
    """A process's parent and its user + system CPU seconds, from ``/proc`` (None when the
    process is not on this machine or has just ended)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its direct children (uvicorn workers)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        stat = process_stat(entry.name) if entry.name.isdigit() else None
        if stat is not None and (int(entry.name) == pid or stat[0] == pid):
            total += stat[1]
    return total


class Subject(NamedTuple):
    """One real applicant: a market enterprise, its legal representative, what it asks for."""

    uscc: str
    id_number: str
    amount_fen: int
    term_months: int


async def drive(
    port: int,
    tokens: list[str],
    first: int,
    clients: int,
    rate: float | None = None,
    subjects: Sequence[Subject] | None = None,
    outcomes: dict[str, int] | None = None,
) -> tuple[list[float], list[float], list[float], float, int]:
    """Closed loop (each client starts its next application when one ends), or paced.

    With ``rate``, applications start on a fixed schedule of ``rate`` a second, taken by
    whichever of the ``clients`` is free (an open model, as real applicants arrive): latency
    is then measured against the schedule, so time an application waits for a free client
    counts too (no coordinated omission).

    Without ``subjects`` the applicants are synthetic (``first`` numbers them) and only an
    offer counts as a decision (the stub assessor approves everything); with them, application
    ``i`` is ``subjects[i]``, it consents to every scope, and any outcome counts (tallied in
    ``outcomes``).
    """
    flows: list[float] = []
    decisions: list[float] = []
    creates: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(tokens)):
        queue.put_nowait(i)
    scopes = SCOPES if subjects is None else [s.value for s in DataScope]
    decided = {"offered"} if subjects is None else {"offered", "declined", "referred"}

    start = time.perf_counter()

    async def worker() -> None:
        nonlocal errors
        client = RawClient("127.0.0.1", port)
        try:
            while not queue.empty():
                i = queue.get_nowait()
                due = None
                if rate is not None:
                    due = start + i / rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                try:
                    await one(client, i, due)
                except (OSError, asyncio.IncompleteReadError) as exc:
                    errors += 1
                    print("transport error:", type(exc).__name__)
                    client = RawClient("127.0.0.1", port)
        finally:
            await client.close()

    async def one(client: RawClient, i: int, due: float | None) -> None:
        nonlocal errors
        token = tokens[i]
        body: dict[str, Any]
        if subjects is None:
            n = first + i
            body = {
                "uscc": uscc(n),
                "id_number": id_number(n),
                "phone": phone(i),
                "requested_amount_fen": 20_000_000,
            }
        else:
            subject = subjects[i]
            body = {
                "uscc": subject.uscc,
                "id_number": subject.id_number,
                "phone": phone(first + i),
                "requested_amount_fen": subject.amount_fen,
                "requested_term_months": subject.term_months,
            }
        t0 = time.perf_counter() if due is None else due
        status, out = await client.request(
            "POST",
            "/api/v1/applications",
            body=body,
            token=token,
            forwarded_for=applicant_address(first + i),
        )
        t1 = time.perf_counter()
        if status != 201:
            errors += 1
            if errors <= 3:
                print("create failed:", status, str(out)[:300])
            return
        app_id = out["application_id"]
        await client.request(
            "POST",
            f"/api/v1/applications/{app_id}/consents",
            body={"scopes": scopes, "purpose": "credit"},
            token=token,
        )
        t2 = time.perf_counter()
        status, out = await client.request(
            "POST", f"/api/v1/applications/{app_id}/decision", token=token
        )
        t3 = time.perf_counter()
        if status != 200 or out["status"] not in decided:
            errors += 1
            if errors <= 3:
                print("decide failed:", status, str(out)[:300])
            return
        if outcomes is not None:
            outcomes[out["status"]] = outcomes.get(out["status"], 0) + 1
        creates.append((t1 - t0) * 1000)
        decisions.append((t3 - t2) * 1000)
        flows.append((t3 - t0) * 1000)

    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - start
    return flows, decisions, creates, elapsed, errors


async def health(port: int, n: int) -> list[float]:
    out = []
    client = RawClient("127.0.0.1", port)
    for _ in range(n):
        t0 = time.perf_counter()
        await client.request("GET", "/api/v1/health")
        out.append((time.perf_counter() - t0) * 1000)
    await client.close()
    return out


# --- the real decision path -----------------------------------------------------------------

SERVER_START = datetime(2025, 6, 3, 2, tzinfo=UTC)
"""Where the server's clock starts: 10:00 on Tuesday 3 June 2025 in Shanghai, a business day."""
DECISION_MONTH = date(2025, 6, 1)
"""The feature store month built for it (current on that day)."""
MARKET_MONTHS = 30
MARKET_START = date(2023, 1, 1)


class ShiftedClock:
    """The machine's clock moved to another start: time passes, on the chosen business day.

    Every process of a run (driver and workers) gets the same offset, so they agree on the
    time; a clock that stood still would stamp every application with one instant.
    """

    def __init__(self, offset: timedelta) -> None:
        self._offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def today(self) -> date:
        return self.now().astimezone(BANK_ZONE).date()


def real_environment(url: str, market: Path, registry: Path, offset: timedelta) -> dict[str, str]:
    """The settings of every process of a real run, as ``puhui serve`` reads them."""
    return {
        "PUHUI_DATABASE_URL": url,
        "PUHUI_ENVIRONMENT": "test",
        "PUHUI_LOG_LEVEL": "WARNING",
        "PUHUI_MARKET_DIR": str(market),
        "PUHUI_MODEL_REGISTRY_DIR": str(registry),
        # The keys the stub mode uses too: preloaded rows are encrypted with KEYS.
        "PUHUI_AUDIT_KEY": KEYS.audit_key.decode(),
        "PUHUI_DATA_KEY": KEYS.data_key.decode(),
        "PUHUI_JWT_SECRET": KEYS.jwt_secret.decode(),
        "PUHUI_SIGNING_KEY": KEYS.signing_key_seed.decode(),
        "PUHUI_TOKEN_LIFETIME_MINUTES": str(24 * 60),
        "PUHUI_BENCH_CLOCK_OFFSET": str(offset.total_seconds()),
        "PUHUI_TRUSTED_PROXIES": ",".join(str(network) for network in LOAD_BALANCER),
    }


def real_clock() -> ShiftedClock:
    return ShiftedClock(timedelta(seconds=float(os.environ["PUHUI_BENCH_CLOCK_OFFSET"])))


def real_dependencies(data_source: MarketDataSource | None = None) -> ApiDependencies:
    """What ``puhui serve`` builds from the settings, on the bench's clock."""
    platform = build_platform(Settings(), clock=real_clock())
    deps = api_dependencies(platform, origination_ports(platform, data_source=data_source))
    if os.environ.get("PUHUI_BENCH_THREADS"):
        # Diagnosis only (--threads N): another number of handler threads per worker.
        deps = dataclasses.replace(deps, handler_threads=int(os.environ["PUHUI_BENCH_THREADS"]))
    return deps


def real_app() -> Any:
    """One worker's app; it says when it is built (loading the market takes a while)."""
    app = create_app(real_dependencies())
    ready = Path(os.environ["PUHUI_BENCH_READY_DIR"]) / str(os.getpid())
    ready.touch()
    return app


def settle(url: str) -> None:
    """PostgreSQL: vacuum and analyse what the preload and the feature store just wrote.

    A bank's database is in the steady state autovacuum keeps it in. Without this, the
    preload's 100,000 rows were vacuumed and analysed (and their hint bits set) by autovacuum
    and the first readers during the first measured phase, on the same two cores.
    """
    engine = make_engine(url)
    try:
        if engine.dialect.name != "postgresql":
            return
        started = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")
        print(f"vacuumed and analysed in {time.perf_counter() - started:.1f} s")
    finally:
        engine.dispose()


def market_subjects(market: Path, as_of: date, count: int, seed: int) -> list[Subject]:
    """``count`` distinct enterprises registered before ``as_of``, with what they ask for."""
    frame = (
        store.read(market, "enterprises")
        .filter(pl.col("registration_date") < as_of)
        .select("uscc", "legal_rep_id_number")
    )
    if frame.height < count:
        raise SystemExit(f"the market has {frame.height:,} enterprises, {count:,} needed")
    rows = frame.sample(n=count, seed=seed, shuffle=True).rows()
    amounts = (5_000_000, 10_000_000, 20_000_000, 50_000_000)
    terms = (6, 12, 12, 24)
    return [
        Subject(u, i, amounts[k % len(amounts)], terms[k // len(amounts) % len(terms)])
        for k, (u, i) in enumerate(rows)
    ]


def prepare_real(args: argparse.Namespace, offset: timedelta) -> tuple[str, Path, dict[str, str]]:
    """Market, model, database, champion, feature store; returns (url, market, environment)."""
    work: Path = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    market = work / f"market-{args.enterprises}"
    if not (market / MANIFEST).is_file():
        print(f"generating {args.enterprises:,} enterprises x {MARKET_MONTHS} months ...")
        params = MarketParams(
            enterprises=args.enterprises, months=MARKET_MONTHS, start=MARKET_START, seed=7
        )
        generate_market(params, market, overwrite=True, workers=2)
    model_dir = work / f"model-{args.enterprises}"
    if not model_dir.is_dir():
        print("training the GBM on the market's history ...")
        train_market_model(
            market, DECISION_MONTH, ModelKind.GBM, model_dir, trained_at=datetime.now(UTC)
        )
    registry = work / "registry-api"
    shutil.rmtree(registry, ignore_errors=True)
    if args.database is None:
        for leftover in work.glob("api.db*"):
            leftover.unlink()
    url = args.database or f"sqlite:///{work / 'api.db'}"
    env = real_environment(url, market, registry, offset)
    os.environ.update(env)
    clock = real_clock()
    platform = build_platform(Settings(), clock=clock)
    if args.database is not None:
        platform.database.reset()
    platform.migrate()
    register_champion(
        platform,
        model_dir,
        builder="bench:a",
        approver="bench:b",
        promoter="bench:c",
        at=clock.now(),
    )
    started = time.perf_counter()
    built = month_publisher(platform, market)(DECISION_MONTH)
    print(
        f"feature store: {built.rows:,} rows for {DECISION_MONTH} "
        f"in {time.perf_counter() - started:.1f} s"
    )
    platform.close()
    return url, market, env


# --- the run --------------------------------------------------------------------------------


def bench_app() -> Any:
    """The app of one server process (the database URL comes by environment)."""
    if os.environ.get("PUHUI_BENCH_REAL"):
        return real_app()
    return create_app(deps_for(os.environ["PUHUI_BENCH_URL"]))


def serve(url: str, port: int, workers: int) -> None:
    os.environ["PUHUI_BENCH_URL"] = url
    if workers == 1:
        uvicorn.run(
            bench_app(),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            timeout_keep_alive=120,
            http=OneSendHttpToolsProtocol,  # as `puhui serve` runs it
        )
        return
    # The product's own multi-process server (``puhui serve --workers N``).
    run_workers(bench_app, host="127.0.0.1", port=port, workers=workers)


def direct_calls(
    deps: ApiDependencies,
    user_ids: Sequence[str],
    first: int,
    subjects: Sequence[Subject] | None,
) -> tuple[list[float], list[float]]:
    """Baseline: the three steps as service calls, one at a time, no HTTP.

    The callers are applicants ``first``, ``first + 1``, ... (their phones go with them).
    """
    direct: list[float] = []
    direct_decide: list[float] = []
    o = deps.origination
    scopes = SCOPES if subjects is None else [s.value for s in DataScope]
    for k in range(len(user_ids) - first):
        i = first + k
        actor = Principal(user_ids[i], Role.APPLICANT)
        if subjects is None:
            n = 10**7 + i
            request = uc.NewApplication(uscc(n), id_number(n), phone(i), 20_000_000)
        else:
            s = subjects[i]
            request = uc.NewApplication(
                s.uscc, s.id_number, phone(i), s.amount_fen, requested_term_months=s.term_months
            )
        s0 = time.perf_counter()
        app = uc.create_application(o, actor=actor, request=request)
        uc.give_consent(
            o,
            actor=actor,
            application_id=app.application_id,
            scopes=[DataScope(s) for s in scopes],
            purpose="credit",
        )
        s1 = time.perf_counter()
        uc.assess_application(o, actor=actor, application_id=app.application_id)
        s2 = time.perf_counter()
        direct.append((s2 - s0) * 1000)
        direct_decide.append((s2 - s1) * 1000)
    return direct, direct_decide


def start_server(
    url: str, port: int, workers: int, env: Mapping[str, str], ready_dir: Path | None
) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", url, "--port", str(port), "--workers", str(workers)],
        env={**os.environ, **env, "PYTHONWARNINGS": "ignore"},
    )
    base = f"http://127.0.0.1:{port}"
    if ready_dir is not None:
        # Every worker loads the market before it serves: wait until each says it is built.
        deadline = time.monotonic() + 900
        while len(list(ready_dir.iterdir())) < workers and time.monotonic() < deadline:
            if server.poll() is not None:
                raise SystemExit("the server stopped while starting")
            time.sleep(0.5)
    # Every worker must be up before measuring: a loaded machine takes its time.
    ready, deadline = 0, time.monotonic() + 120
    while ready < 20 * workers and time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/api/v1/health", timeout=1)
            ready += 1
        except httpx.HTTPError:
            time.sleep(0.2)
    if workers > 1:
        time.sleep(3)
    return server


class Phase(NamedTuple):
    rate: float | None
    flows: list[float]
    decisions: list[float]
    creates: list[float]
    elapsed: float
    errors: int
    server_cpu: float
    driver_cpu: float
    load: float
    outcomes: dict[str, int]


def run_phase(
    server: subprocess.Popen[bytes],
    port: int,
    tokens: list[str],
    first: int,
    clients: int,
    rate: float | None,
    subjects: Sequence[Subject] | None,
) -> Phase:
    outcomes: dict[str, int] = {}
    cpu_before = cpu_seconds(server.pid)
    driver_before = time.process_time()
    flows, decisions, creates, elapsed, errors = asyncio.run(
        drive(port, tokens, first, clients, rate, subjects, outcomes)
    )
    driver_cpu = time.process_time() - driver_before
    server_cpu = cpu_seconds(server.pid) - cpu_before
    return Phase(
        rate,
        flows,
        decisions,
        creates,
        elapsed,
        errors,
        server_cpu,
        driver_cpu,
        os.getloadavg()[0],
        outcomes,
    )


def report(
    args: argparse.Namespace,
    phase: Phase,
    floor: list[float],
    direct: list[float],
    direct_decide: list[float],
) -> None:
    flows, rate_label = phase.flows, phase.rate
    print(
        f"\n{len(flows):,} applications, {args.clients} clients "
        f"({'closed loop' if rate_label is None else f'paced at {rate_label:g}/s'}), "
        f"{args.workers} server worker(s), {phase.errors} errors; "
        f"load average {phase.load:.1f}"
    )
    if args.real:
        shown = ", ".join(f"{k} {v:,}" for k, v in sorted(phase.outcomes.items()))
        print(
            f"outcomes: {shown}; database {args.database or 'SQLite'}; "
            f"service calls {args.service_calls}"
        )
    print("baselines (same process):")
    b_health = summary("GET /health over HTTP (1 client)", floor)
    b_direct = summary("3 steps as service calls (1 caller)", direct)
    summary("decide as a service call (1 caller)", direct_decide)
    print("measured:")
    f = summary("create+consent+decide over HTTP", flows)
    d = summary("decide step over HTTP", phase.decisions)
    summary("create step over HTTP", phase.creates)
    rate = len(flows) / phase.elapsed
    print(f"  throughput {rate:,.0f} applications/s ({3 * rate:,.0f} requests/s)")
    per_app = phase.server_cpu / max(1, len(flows)) * 1000
    print(
        f"  server CPU {per_app:.2f} ms per application (3 requests): one free core would "
        f"serve {1000 / per_app:,.0f} applications/s"
    )
    driver = phase.driver_cpu / max(1, len(flows)) * 1000
    print(f"  load generator CPU {driver:.2f} ms per application (same two cores)")
    print("ratios:")
    print(f"  flow p99 / health p99          {f['p99'] / b_health['p99']:8.1f}x")
    print(f"  flow p50 / direct-service p50  {f['p50'] / b_direct['p50']:8.1f}x")
    print("bars (the open API):")
    print(
        f"  flow p99 <= 100 ms:     {f['p99']:7.1f} ms  {'HOLDS' if f['p99'] <= 100 else 'MISSED'}"
    )
    print(f"  >= 200 applications/s: {rate:7.1f}     {'HOLDS' if rate >= 200 else 'MISSED'}")
    print(
        f"  decide p99 <= 20 ms:    {d['p99']:7.1f} ms  {'HOLDS' if d['p99'] <= 20 else 'MISSED'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--applications", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="paced: start this many applications a second (default: closed loop)",
    )
    parser.add_argument(
        "--real",
        action="store_true",
        help="the real assessor on a generated market (paced phase, then closed loop)",
    )
    parser.add_argument(
        "--database", default=None, help="--real: a PostgreSQL URL, reset first (default SQLite)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("var/bench-origination-api"),
        help="--real: where the market, the model and the SQLite database live",
    )
    parser.add_argument(
        "--warmup", type=int, default=200, help="--real: applications before measuring"
    )
    parser.add_argument(
        "--service-calls",
        choices=("auto", "inline", "threads"),
        default="auto",
        help="--real: PUHUI_API_SERVICE_CALLS of the workers (auto: inline on SQLite and on a "
        "local PostgreSQL)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="--real, diagnosis: handler threads per worker (default: what `puhui serve` "
        "uses, 6 on PostgreSQL)",
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.workers)
        return
    if args.real:
        main_real(args)
        return
    workdir = Path(tempfile.mkdtemp(prefix="puhui-bench-"))
    url = f"sqlite:///{workdir / 'bench.db'}"
    n_direct = 200
    t0 = time.perf_counter()
    user_ids = preload(url, args.enterprises, args.applications + n_direct)
    print(
        f"preloaded {args.enterprises:,} enterprises' applications and "
        f"{len(user_ids):,} applicants in {time.perf_counter() - t0:.1f} s"
    )
    deps = deps_for(url)
    tokens = [
        deps.security.tokens.issue(Principal(u, Role.APPLICANT)).access_token
        for u in user_ids[: args.applications]
    ]
    direct, direct_decide = direct_calls(deps, user_ids, args.applications, None)

    server = start_server(url, args.port, args.workers, {}, None)
    try:
        floor = asyncio.run(health(args.port, 300))
        phase = run_phase(server, args.port, tokens, 2 * 10**7, args.clients, args.rate, None)
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
    report(args, phase, floor, direct, direct_decide)


def main_real(args: argparse.Namespace) -> None:
    offset = SERVER_START - datetime.now(UTC)
    url, market, env = prepare_real(args, offset)
    clock = real_clock()
    n_direct = 200
    rates: list[float | None] = [None] if args.rate is None else [args.rate, None]
    measured = args.applications * len(rates)
    total = args.warmup + measured + n_direct
    t0 = time.perf_counter()
    user_ids = preload(url, args.enterprises, total, at=clock.now())
    subjects = market_subjects(market, clock.today(), total, seed=11)
    print(
        f"preloaded {args.enterprises:,} enterprises' applications and "
        f"{len(user_ids):,} applicants in {time.perf_counter() - t0:.1f} s; "
        f"{len(subjects):,} market enterprises drawn"
    )
    settle(url)
    t0 = time.perf_counter()
    deps = real_dependencies(MarketDataSource(market))
    print(f"market loaded for the direct baseline in {time.perf_counter() - t0:.1f} s")
    tokens = [
        deps.security.tokens.issue(Principal(u, Role.APPLICANT)).access_token
        for u in user_ids[: args.warmup + measured]
    ]
    direct, direct_decide = direct_calls(deps, user_ids, args.warmup + measured, subjects)
    # The driver shares the machine: drop the market it loaded, keep its heap small.
    del deps
    gc.collect()

    ready_dir = Path(tempfile.mkdtemp(prefix="puhui-bench-ready-"))
    env = {**env, "PUHUI_BENCH_REAL": "1", "PUHUI_BENCH_READY_DIR": str(ready_dir)}
    env["PUHUI_API_SERVICE_CALLS"] = args.service_calls
    if args.threads:
        env["PUHUI_BENCH_THREADS"] = str(args.threads)
    t0 = time.perf_counter()
    server = start_server(url, args.port, args.workers, env, ready_dir)
    print(f"{args.workers} worker(s) serving after {time.perf_counter() - t0:.1f} s")
    phases: list[Phase] = []
    try:
        floor = asyncio.run(health(args.port, 300))
        warm = args.warmup
        run_phase(server, args.port, tokens[:warm], 0, args.clients, None, subjects[:warm])
        for k, rate in enumerate(rates):
            lo, hi = warm + k * args.applications, warm + (k + 1) * args.applications
            phases.append(
                run_phase(server, args.port, tokens[lo:hi], lo, args.clients, rate, subjects[lo:hi])
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(ready_dir, ignore_errors=True)
    for phase in phases:
        report(args, phase, floor, direct, direct_decide)


if __name__ == "__main__":
    main()
