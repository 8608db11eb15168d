"""Benchmark: the lending simulation of ``puhui demo`` end to end, by phase.

    .venv/bin/python bench/bench_demo.py --enterprises 20000 --months 12 --workdir var/bench-demo

Runs what ``puhui demo`` runs (generate, train, 12 simulated months, summary) and prints the
time of each phase, the CPU time of the process (what a quiet machine would need), and ratios
against a baseline measured in the same process: the end of day alone over the same dates on
an empty book (the floor cost of closing 365 business days). The issue's bar: the simulation
finishes in under 10 minutes for 20,000 enterprises on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from puhui.bootstrap import Settings, build_platform
from puhui.bootstrap.wiring import end_of_day_store
from puhui.cli.demo import _simulate
from puhui.domain.clock import FixedClock
from puhui.market.params import parse_month
from puhui.pipelines.eod import run_end_of_day
from puhui.pipelines.simulation import simulation_window
from puhui.risk.artefact import ModelKind

BAR_SECONDS = 600.0


def _empty_book_eod(first: datetime, days: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        clock = FixedClock(first)
        platform = build_platform(
            Settings(database_url=f"sqlite:///{folder}/floor.db", _env_file=None),
            clock=clock,
        )
        platform.database.upgrade()
        store = end_of_day_store(platform)
        started = time.perf_counter()
        day = first.date()
        for _ in range(days):
            run_end_of_day(store, day)
            day += timedelta(days=1)
        elapsed = time.perf_counter() - started
        platform.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--workdir", type=Path, default=Path("var/bench-demo"))
    parser.add_argument("--kind", choices=["gbm", "scorecard"], default="gbm")
    args = parser.parse_args()
    cpu0 = os.times()
    wall0 = time.perf_counter()
    summary = _simulate(
        Settings(_env_file=None),
        enterprises=args.enterprises,
        months=args.months,
        history_months=24,
        start="2023-01",
        seed=7,
        workdir=args.workdir,
        model_kind=ModelKind(args.kind),
        serve=False,
        host="127.0.0.1",
        port=8000,
    )
    wall = time.perf_counter() - wall0
    cpu1 = os.times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    first, _ = simulation_window(parse_month("2023-01"), 24 + args.months, args.months)
    floor = _empty_book_eod(
        datetime.combine(first, datetime.min.time(), tzinfo=UTC), summary.eod_days
    )
    apps = max(1, summary.applications)
    print()
    print(
        f"enterprises {args.enterprises:,}, applications {summary.applications:,}, "
        f"lines {summary.lines_opened:,}, receipts {summary.receipts:,}"
    )
    for phase, seconds in summary.seconds.items():
        print(f"  {phase:<12} {seconds:8.1f} s")
    print(
        f"wall {wall:.1f} s, process CPU {cpu:.1f} s (bar {BAR_SECONDS:.0f} s wall): "
        f"{'HOLDS' if wall <= BAR_SECONDS else 'MISSED'} on this machine now"
    )
    print(f"origination per application {summary.seconds['origination'] / apps * 1000:.1f} ms")
    print(
        f"baseline: end of day on an empty book, {summary.eod_days} days: {floor:.1f} s; "
        f"simulation end of day / baseline = {summary.seconds['end_of_day'] / floor:.2f}x; "
        f"whole run / baseline = {wall / floor:.1f}x"
    )


if __name__ == "__main__":
    main()
