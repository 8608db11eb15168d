"""Application to decision over HTTP on SQLite: latency and throughput with concurrent clients.

Usage: .venv/bin/python bench/origination_api.py [--enterprises 100000] [--applications 2000]
       [--clients 32]

Starts uvicorn in a child process on loopback, preloads ``--enterprises`` closed applications
(the tables a bank with that many known enterprises would hold), then drives create + consent
+ decide for ``--applications`` fresh enterprises from ``--clients`` concurrent clients.
Baselines measured in the same run: GET /api/v1/health over HTTP (transport floor) and the
same three steps as direct service calls (no HTTP).
The assessor is a stub (the decision engine is measured by its own benchmark): the figures
are the platform's overhead around it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.origination import tables as t
from puhui.adapters.db.origination.encryption import FieldCipher
from puhui.domain.clock import SystemClock
from puhui.domain.identity import id_check_char, uscc_check_char
from puhui.domain.ids import new_id
from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.domain.origination.consent import DataScope
from puhui.domain.origination.fraud import FraudPolicy
from puhui.services.origination import use_cases as uc
from puhui.services.origination.ports import AssessmentRequest, LineOpening
from puhui.services.security.otp import LoggingOtpSender
from puhui.services.security.permissions import Principal, Role
from puhui.web.app import create_app
from puhui.web.dependencies import ApiDependencies
from puhui.web.wiring import ApiKeys, build_api_dependencies

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
    deps = build_api_dependencies(
        engine=make_engine(url),
        clock=SystemClock(),
        keys=KEYS,
        assessor=StubAssessor(),
        data_source=StubData(),
        line_opener=NoLines(),
        otp_sender=LoggingOtpSender(),
    )
    # Every client of the benchmark comes from 127.0.0.1: the per-IP velocity rule would
    # (rightly) refer them all, so it is relaxed here and only here.
    deps.origination.fraud_policy = FraudPolicy(max_applications_per_ip=10**9)
    return deps


def uscc(n: int) -> str:
    body = f"91{n % 10**6:06d}{n // 10**6 % 10**9:09d}"
    return body + uscc_check_char(body)


def id_number(n: int) -> str:
    day, month, year = n // 1000 % 28 + 1, n // 28_000 % 12 + 1, 1960 + n // 336_000 % 40
    body = f"110105{year}{month:02d}{day:02d}{n % 1000:03d}"
    return body + id_check_char(body)


def phone(n: int) -> str:
    return f"13{n % 10**9:09d}"


def preload(url: str, enterprises: int, applicants: int) -> list[str]:
    """Closed applications for ``enterprises`` and applicant users; returns applicant ids."""
    engine = make_engine(url)
    migrate.upgrade(engine, "0004")
    cipher = FieldCipher(KEYS.data_key)
    now = datetime.now(UTC) - timedelta(days=400)
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
                    "created_at": datetime.now(UTC),
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


async def drive(
    base: str, tokens: list[str], first: int, clients: int
) -> tuple[list[float], list[float], list[float], float, int]:
    flows: list[float] = []
    decisions: list[float] = []
    creates: list[float] = []
    errors = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(len(tokens)):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal errors
            while not queue.empty():
                i = queue.get_nowait()
                try:
                    await one(i)
                except httpx.HTTPError as exc:
                    errors += 1
                    print("transport error:", type(exc).__name__)

        async def one(i: int) -> None:
            nonlocal errors
            n = first + i
            headers = {"Authorization": f"Bearer {tokens[i]}"}
            body = {
                "uscc": uscc(n),
                "id_number": id_number(n),
                "phone": phone(i),
                "requested_amount_fen": 20_000_000,
            }
            t0 = time.perf_counter()
            r = await client.post("/api/v1/applications", json=body, headers=headers)
            t1 = time.perf_counter()
            if r.status_code != 201:
                errors += 1
                if errors <= 3:
                    print("create failed:", r.status_code, r.text[:300])
                return
            app_id = r.json()["application_id"]
            r = await client.post(
                f"/api/v1/applications/{app_id}/consents",
                json={"scopes": SCOPES, "purpose": "credit"},
                headers=headers,
            )
            t2 = time.perf_counter()
            r = await client.post(f"/api/v1/applications/{app_id}/decision", headers=headers)
            t3 = time.perf_counter()
            if r.status_code != 200 or r.json()["status"] != "offered":
                errors += 1
                if errors <= 3:
                    print("decide failed:", r.status_code, r.text[:300])
                return
            creates.append((t1 - t0) * 1000)
            decisions.append((t3 - t2) * 1000)
            flows.append((t3 - t0) * 1000)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return flows, decisions, creates, elapsed, errors


async def health(base: str, n: int) -> list[float]:
    out = []
    async with httpx.AsyncClient(base_url=base) as client:
        for _ in range(n):
            t0 = time.perf_counter()
            await client.get("/api/v1/health")
            out.append((time.perf_counter() - t0) * 1000)
    return out


def serve(url: str, port: int) -> None:
    app = create_app(deps_for(url))
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_keep_alive=120,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--applications", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
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

    # Baseline 1: the same three steps as direct service calls, one at a time, no HTTP.
    direct: list[float] = []
    direct_decide: list[float] = []
    o = deps.origination
    for k in range(n_direct):
        i = args.applications + k
        n = 10**7 + i
        actor = Principal(user_ids[i], Role.APPLICANT)
        s0 = time.perf_counter()
        app = uc.create_application(
            o,
            actor=actor,
            request=uc.NewApplication(uscc(n), id_number(n), phone(i), 20_000_000),
        )
        uc.give_consent(
            o,
            actor=actor,
            application_id=app.application_id,
            scopes=[DataScope(s) for s in SCOPES],
            purpose="credit",
        )
        s1 = time.perf_counter()
        uc.assess_application(o, actor=actor, application_id=app.application_id)
        s2 = time.perf_counter()
        direct.append((s2 - s0) * 1000)
        direct_decide.append((s2 - s1) * 1000)

    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", url, "--port", str(args.port)], env=env
    )
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/api/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        floor = asyncio.run(health(base, 300))
        flows, decisions, creates, elapsed, errors = asyncio.run(
            drive(base, tokens, 2 * 10**7, args.clients)
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"\n{len(flows):,} applications, {args.clients} clients, {errors} errors")
    print("baselines (same process):")
    b_health = summary("GET /health over HTTP (1 client)", floor)
    b_direct = summary("3 steps as service calls (1 caller)", direct)
    summary("decide as a service call (1 caller)", direct_decide)
    print("measured:")
    f = summary("create+consent+decide over HTTP", flows)
    d = summary("decide step over HTTP", decisions)
    summary("create step over HTTP", creates)
    rate = len(flows) / elapsed
    print(f"  throughput {rate:,.0f} applications/s ({3 * rate:,.0f} requests/s)")
    print("ratios:")
    print(f"  flow p99 / health p99          {f['p99'] / b_health['p99']:8.1f}x")
    print(f"  flow p50 / direct-service p50  {f['p50'] / b_direct['p50']:8.1f}x")
    print("bars (issue 7):")
    print(
        f"  flow p99 <= 100 ms:     {f['p99']:7.1f} ms  {'HOLDS' if f['p99'] <= 100 else 'MISSED'}"
    )
    print(f"  >= 200 applications/s: {rate:7.1f}     {'HOLDS' if rate >= 200 else 'MISSED'}")
    print(
        f"  decide p99 <= 20 ms:    {d['p99']:7.1f} ms  {'HOLDS' if d['p99'] <= 20 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
