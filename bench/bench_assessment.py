"""The real assessment path in process: data pull → stored features → model → strategy.

Usage: .venv/bin/python bench/bench_assessment.py [--enterprises 100000] [--calls 3000]
       [--database URL] [--workdir DIR]

Generates a market (or reuses one in ``--workdir``), trains the GBM on its history, registers
it as champion, seeds the strategy, builds the feature store for the decision month, then
assesses ``--calls`` applications of random enterprises with the same assessor the API uses
(governed setup, feature store by key, application features online, champion/challenger
routing, evidence). Each call is timed from the data pull (every consent scope, from the
in-memory market source) to the finished assessment, in wall time and in the thread's CPU
time (which a loaded, shared machine disturbs far less than wall time). Baselines in the same
run: the same calls with the feature store bypassed (features computed online from the pull,
as before the store existed), and the data pull alone.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime
from pathlib import Path

from puhui.adapters.sources.market import MarketDataSource
from puhui.bootstrap import Settings, build_platform
from puhui.bootstrap.wiring import build_assessor, month_publisher, register_champion
from puhui.domain.clock import FixedClock
from puhui.domain.origination.consent import DataScope
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.market.store import MANIFEST
from puhui.pipelines.simulation import train_market_model
from puhui.risk.artefact import ModelKind
from puhui.services.origination.ports import AssessmentRequest


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def show(name: str, ms: list[float]) -> None:
    print(
        f"{name:<34} p50 {pct(ms, 0.50):7.3f} ms  p95 {pct(ms, 0.95):7.3f} ms  "
        f"p99 {pct(ms, 0.99):7.3f} ms  mean {statistics.fmean(ms):7.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=3_000)
    parser.add_argument("--database", default=None, help="default: SQLite in the workdir")
    parser.add_argument("--workdir", type=Path, default=Path("var/bench-assessment"))
    args = parser.parse_args()
    work: Path = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    market = work / f"market-{args.enterprises}"
    params = MarketParams(enterprises=args.enterprises, months=30, start=date(2023, 1, 1), seed=7)
    if not (market / MANIFEST).is_file():
        print(f"generating {args.enterprises:,} enterprises x 30 months ...")
        generate_market(params, market, overwrite=True, workers=2)
    month = date(2025, 6, 1)
    model_dir = work / f"model-{args.enterprises}"
    if not model_dir.is_dir():
        print("training the GBM on the market's history ...")
        train_market_model(market, month, ModelKind.GBM, model_dir, trained_at=datetime.now(UTC))
    database = args.database or f"sqlite:///{work}/bench.db"
    for leftover in work.glob("bench.db*"):
        leftover.unlink()
    clock = FixedClock(datetime(2025, 6, 3, 2, tzinfo=UTC))
    settings = Settings(
        database_url=database,
        environment="test",
        market_dir=market,
        model_registry_dir=work / "models",
        _env_file=None,  # type: ignore[call-arg]
    )
    platform = build_platform(settings, clock=clock)
    if args.database:
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
    report = month_publisher(platform, market)(month)
    print(
        f"feature store: {report.rows:,} rows for {month} in {time.perf_counter() - started:.1f} s"
    )
    source = MarketDataSource(market)
    assessor = build_assessor(platform)
    usccs = sorted(source.registry.get_column("uscc").to_list())
    rng = random.Random(5)
    sample = [rng.choice(usccs) for _ in range(args.calls)]
    as_of = clock.today()

    def request(uscc: str) -> AssessmentRequest:
        return AssessmentRequest(
            application_id=f"app_{uscc}",
            uscc=uscc,
            requested_amount_fen=rng.choice([5_000_000, 20_000_000, 50_000_000]),
            as_of=as_of,
            data={scope: source.pull(uscc, scope, as_of=as_of) for scope in DataScope},
            fraud_hits=(),
            requested_term_months=12,
            channel="qr",
        )

    for uscc in sample[:50]:  # warm caches (the governed setup, compiled statements)
        assessor.assess(request(uscc))
    pulls: list[float] = []
    for uscc in sample:
        t0 = time.perf_counter_ns()
        request(uscc)
        pulls.append((time.perf_counter_ns() - t0) / 1e6)
    stored: list[float] = []
    stored_cpu: list[float] = []
    sources: dict[str, int] = {}
    for uscc in sample:
        t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
        assessment = assessor.assess(request(uscc))
        stored.append((time.perf_counter_ns() - t0) / 1e6)
        stored_cpu.append((time.thread_time_ns() - c0) / 1e6)
        evidence = assessment.evidence
        key = "none" if evidence is None else evidence.feature_source
        sources[key] = sources.get(key, 0) + 1
    assessor.feature_store = None
    online: list[float] = []
    for uscc in sample[: max(200, args.calls // 10)]:
        t0 = time.perf_counter_ns()
        assessor.assess(request(uscc))
        online.append((time.perf_counter_ns() - t0) / 1e6)
    print(f"{args.calls:,} assessments, features from: {sources}")
    show("pull + assess (feature store)", stored)
    show("  the same, CPU time of the thread", stored_cpu)
    show("pull alone (baseline)", pulls)
    show("pull + assess (features online)", online)
    print(f"speed-up of the store at p50: {pct(online, 0.5) / pct(stored, 0.5):.1f}x")
    platform.close()


if __name__ == "__main__":
    main()
