"""Benchmark of the pure servicing calculations: schedules, balance-days accrual, line simulation.

Usage: .venv/bin/python bench/bench_schedule.py [--schedules N] [--receipts N] [--events N]

Each measurement is printed with a baseline run in the same process: a float implementation of
the same schedule loop (what exactness costs), and a bare integer loop for accrual (what the
value object costs). Results go in docs/benchmarks.md with the command that produced them.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from puhui.domain.lending.product import RepaymentMethod
from puhui.domain.lending.revolving import (
    LineEvent,
    LineEventKind,
    RevolvingAccrual,
    simulate_line,
)
from puhui.domain.lending.schedule import build_schedule

RATE = Decimal("0.0435")


def _timed(fn: Callable[[], object]) -> float:
    begin = time.perf_counter()
    fn()
    return time.perf_counter() - begin


def _float_equal_instalment(principal: float, annual: float, months: int) -> list[float]:
    """Baseline: the same loop in binary floating point (not exact; for speed comparison)."""
    r = annual / 12
    emi = round(principal * r / (1 - (1 + r) ** -months), 2)
    balance, rows = principal, []
    for k in range(months):
        interest = round(balance * r, 2)
        paid = balance if k == months - 1 else emi - interest
        balance = round(balance - paid, 2)
        rows.append(interest)
    return rows


def bench_schedules(count: int, months: int) -> None:
    start = date(2025, 1, 15)
    exact = _timed(
        lambda: [
            build_schedule(10_000_000 + i, RATE, months, RepaymentMethod.EQUAL_INSTALMENT, start)
            for i in range(count)
        ]
    )
    baseline = _timed(
        lambda: [_float_equal_instalment(100_000.0 + i / 100, 0.0435, months) for i in range(count)]
    )
    print(
        f"equal-instalment {months:>3}m x {count:,}: {exact:.3f} s "
        f"({count / exact:,.0f} schedules/s, {exact / count * 1e6:,.0f} µs each); "
        f"float baseline {baseline:.3f} s; ratio exact/float {exact / baseline:.1f}x"
    )


def bench_accrual(receipts: int) -> None:
    """One end-of-day step for every receipt: accrue a day, then settle them all on the 20th."""
    day = date(2025, 3, 19)
    book = [
        RevolvingAccrual.open(RATE, day).draw(day, 1_000_00 + i % 5_000_000)
        for i in range(receipts)
    ]
    next_day, settle_day = day + timedelta(days=1), date(2025, 3, 20)
    accrued: list[RevolvingAccrual] = []
    seconds_accrue = _timed(lambda: accrued.extend(r.accrue_to(next_day) for r in book))
    seconds_settle = _timed(lambda: [r.settle(settle_day) for r in accrued])
    balances = [r.balance_fen for r in book]
    sums = [0] * receipts

    def bare() -> None:
        for i, balance in enumerate(balances):
            sums[i] += balance

    baseline = _timed(bare)
    print(
        f"revolving accrual, {receipts:,} receipts: accrue one day {seconds_accrue:.3f} s, "
        f"settle (round once) {seconds_settle:.3f} s; bare int loop {baseline:.3f} s; "
        f"ratio accrue/bare {seconds_accrue / baseline:.0f}x"
    )


def bench_simulation(events: int) -> None:
    day, items = date(2025, 1, 1), []
    for i in range(events):
        day += timedelta(days=i % 3)
        kind = LineEventKind.DRAW if i % 2 == 0 else LineEventKind.REPAY
        items.append(LineEvent(day, kind, 10_000))
    seconds = _timed(lambda: simulate_line(10**12, RATE, items))
    print(
        f"line simulation, {events:,} events over {(day - date(2025, 1, 1)).days:,} days: "
        f"{seconds:.3f} s ({events / seconds:,.0f} events/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=10_000)
    parser.add_argument("--receipts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    bench_schedules(args.schedules, 12)
    bench_schedules(max(1, args.schedules // 10), 360)
    bench_accrual(args.receipts)
    bench_simulation(args.events)


if __name__ == "__main__":
    main()
