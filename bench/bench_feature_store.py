"""Feature store: build a month, bulk load, reads by key, against computing online per request.

Usage: .venv/bin/python bench/bench_feature_store.py [--rows 100000] [--reads 20000]
       [--database URL] [--market DIR | --enterprises N] [--chunk-size 5000] [--online 50]

1. The month's build end to end on the market (compute in chunks + store): rows/s, and the
   process's peak RSS right after it (memory follows the chunk size, not the market's).
2. A month of ``--rows`` enterprises is loaded (real rows of the market, repeated under new
   codes), then loaded again (the idempotent replace): rows/s.
3. ``--reads`` random reads by key (hits) and a thousand misses: p50 / p99 in µs. Baseline in
   the same loop: the same rows unpacked from a Python dict (no database), which shows how
   much of a tail is the machine's scheduling rather than the store.
4. Baseline: the online path the store replaces (one enterprise's pulled frames, risk
   features and strategy inputs with Polars), for ``--online`` enterprises.
Without --database a SQLite file in a temporary folder is used (migrated first).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.features import SqlFeatureStore
from puhui.adapters.db.features.codec import Codec
from puhui.adapters.sources.market import MarketDataSource
from puhui.domain.origination.consent import DataScope
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.pipelines.feature_store import build_month, compute_chunk, enterprises_before
from puhui.risk.enterprise_inputs import (
    STRATEGY_INPUT_NAMES,
    feature_set,
    one_enterprise_inputs,
)
from puhui.risk.features import FEATURE_NAMES, MarketTables, compute_features
from puhui.services.features import FeatureBatch
from puhui.services.origination.assessment import pulled_frames

MONTH = date(2025, 5, 1)
"""The month built from the market (step 4) and computed online (step 3)."""
LOAD_MONTH = date(2025, 6, 1)
"""The month of the synthetic load and the reads (steps 1 and 2)."""
CHUNK = 10_000


def _percentiles(samples_ns: list[int]) -> tuple[float, float, float]:
    ordered = sorted(samples_ns)
    p50 = ordered[len(ordered) // 2] / 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] / 1000
    return p50, p99, statistics.fmean(ordered) / 1000


def _share_over(samples_ns: list[int], limit_ns: int) -> float:
    """Share of samples above ``limit_ns``: on a loaded machine, reads the scheduler paused."""
    return sum(1 for sample in samples_ns if sample > limit_ns) / len(samples_ns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=20_000)
    parser.add_argument("--database")
    parser.add_argument("--market", type=Path)
    parser.add_argument("--enterprises", type=int, default=2_000)
    parser.add_argument("--chunk-size", type=int, default=5_000)
    parser.add_argument("--online", type=int, default=50)
    args = parser.parse_args()

    market = args.market
    if market is None:
        market = Path(f"/tmp/puhui-bench-feature-market-{args.enterprises}")
        if not (market / "manifest.json").is_file():
            print(f"generating {args.enterprises:,} enterprises x 30 months into {market} ...")
            params = MarketParams(
                enterprises=args.enterprises, months=30, start=date(2023, 1, 1), seed=7
            )
            generate_market(params, market, overwrite=True)
    tables = MarketTables.from_dir(market)
    usccs = enterprises_before(tables, MONTH)
    sample = compute_chunk(tables, usccs[:500], MONTH)
    layout = feature_set(sample.schema)
    columns = [*FEATURE_NAMES, *(f"input:{name}" for name in STRATEGY_INPUT_NAMES)]
    real_rows = sample.select(columns).rows()

    folder = tempfile.TemporaryDirectory(prefix="puhui-bench-features-")
    url = args.database or f"sqlite:///{Path(folder.name) / 'features.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    store = SqlFeatureStore(engine)
    print(
        f"database {engine.dialect.name}; feature set {layout.version}, {len(columns)} values; "
        f"load average {os.getloadavg()[0]:.1f}"
    )

    started = time.perf_counter()
    report = build_month(
        tables, MONTH, store, computed_at=datetime.now(UTC), chunk_size=args.chunk_size
    )
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"build    {report.rows:,} enterprises of the market end to end in {seconds:.2f} s "
        f"({report.rows / seconds:,.0f} rows/s, chunks of {args.chunk_size:,}); "
        f"peak RSS so far {peak_mb:,.0f} MB"
    )

    keys = [f"9B{n:016d}" for n in range(args.rows)]

    def batches() -> Iterator[FeatureBatch]:
        for start in range(0, args.rows, CHUNK):
            part = keys[start : start + CHUNK]
            rows = [real_rows[(start + i) % len(real_rows)] for i in range(len(part))]
            yield FeatureBatch(usccs=part, rows=rows)

    for label in ("load", "replace"):
        started = time.perf_counter()
        written = store.replace_month(
            LOAD_MONTH,
            layout,
            source_month=date(2025, 5, 1),
            computed_at=datetime.now(UTC),
            batches=batches(),
        )
        seconds = time.perf_counter() - started
        print(f"{label:<8} {written:,} rows in {seconds:.2f} s: {written / seconds:,.0f} rows/s")

    rng = random.Random(7)
    codec = Codec([kind for _, kind in layout.columns])
    names = [name for name, _ in layout.columns]
    in_memory = {key: codec.encode(real_rows[i % len(real_rows)]) for i, key in enumerate(keys)}
    store.get(keys[0], LOAD_MONTH)  # layout cached, statements prepared
    hits: list[int] = []
    unpacked: list[int] = []
    for _ in range(args.reads):
        key = keys[rng.randrange(args.rows)]
        started_ns = time.perf_counter_ns()
        found = store.get(key, LOAD_MONTH)
        hits.append(time.perf_counter_ns() - started_ns)
        if found is None:
            raise SystemExit(f"{key} not found")
        # Interleaved, so that both see the same machine.
        started_ns = time.perf_counter_ns()
        dict(zip(names, codec.decode(in_memory[key]), strict=True))
        unpacked.append(time.perf_counter_ns() - started_ns)
    misses: list[int] = []
    for n in range(1_000):
        started_ns = time.perf_counter_ns()
        store.get(f"9X{n:016d}", LOAD_MONTH)
        misses.append(time.perf_counter_ns() - started_ns)
    p50, p99, mean = _percentiles(hits)
    print(
        f"read hit  p50 {p50:.1f} µs  p99 {p99:.1f} µs  mean {mean:.1f} µs ({args.reads:,}); "
        f"over 1 ms: {_share_over(hits, 1_000_000):.2%}"
    )
    p50m, p99m, _ = _percentiles(misses)
    print(f"read miss p50 {p50m:.1f} µs  p99 {p99m:.1f} µs")
    p50d, p99d, _ = _percentiles(unpacked)
    print(
        f"baseline: unpack from a dict, no database  p50 {p50d:.1f} µs  p99 {p99d:.1f} µs; "
        f"over 1 ms: {_share_over(unpacked, 1_000_000):.2%}"
    )

    # Baseline: what a request costs without the store (pulled frames, Polars, one row).
    source = MarketDataSource(market)
    online: list[int] = []
    for uscc in usccs[: args.online]:
        data = {scope: source.pull(uscc, scope, as_of=MONTH) for scope in DataScope}
        started_ns = time.perf_counter_ns()
        frames = pulled_frames(data)
        one = MarketTables({name: frame.lazy() for name, frame in frames.items()})
        features = compute_features(one, MONTH).row(0, named=True)
        one_enterprise_inputs(frames, features, uscc, MONTH)
        online.append(time.perf_counter_ns() - started_ns)
    p50o, p99o, _ = _percentiles(online)
    print(
        f"online compute (baseline) p50 {p50o / 1000:.2f} ms  p99 {p99o / 1000:.2f} ms: "
        f"a stored read is {p50o / p50:,.0f}x faster at p50"
    )

    engine.dispose()
    folder.cleanup()


if __name__ == "__main__":
    main()
