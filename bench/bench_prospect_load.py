"""Loading a month's pre-approved list into the platform, and re-running the month.

Usage: PYTHONPATH=src .venv/bin/python bench/bench_prospect_load.py [--rows 100000]
       [--database URL] [--managers 20]

A fresh database is migrated; ``--managers`` account managers cover one city's code each
half. Printed: seconds for the first load of ``--rows`` prospects (all new, assigned), for a
re-run of the same month that drops a tenth and adds a tenth (the work kept, the dropped
expired), and, as the baseline in the same run, for a load of a tenth of the rows.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from puhui.bootstrap import Settings, build_platform
from puhui.bootstrap.api import security_from_settings
from puhui.domain.clock import FixedClock
from puhui.domain.prospects import ProspectRow
from puhui.services.prospects import loading, queue
from puhui.services.prospects.offers import PRE_CONSENT_SOURCES
from puhui.services.prospects.ports import RunMeta
from puhui.services.security import users
from puhui.services.security.otp import LoggingOtpSender
from puhui.services.security.permissions import SYSTEM, Role

MONTH = date(2026, 2, 1)
META = RunMeta(sources=PRE_CONSENT_SOURCES, strategy_version="bench")


def rows(first: int, count: int) -> list[ProspectRow]:
    return [
        ProspectRow(
            uscc=f"91330100MA{n:08d}",
            month=MONTH,
            need_probability=0.5,
            need_amount_fen=50_000_000,
            need_month=date(2026, 3, 1),
            need_duration_months=6,
            limit_fen=30_000_000,
            annual_rate=Decimal("0.0485"),
            valid_until=date(2026, 4, 30),
            grade="B",
            priority=n + 1,
            region_code=("330102", "330106")[n % 2],
            industry_group="manufacturing",
            park=None,
            is_customer=False,
        )
        for n in range(first, first + count)
    ]


def timed(label: str, fn: object) -> float:
    start = time.perf_counter()
    report = fn()  # type: ignore[operator]
    seconds = time.perf_counter() - start
    print(f"{label}: {seconds:.2f} s  {report}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", default=None)
    parser.add_argument("--managers", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="prospect-bench-"))
    url = args.database or f"sqlite:///{work / 'bench.db'}"
    settings = Settings(database_url=url, environment="test", _env_file=None)  # type: ignore[call-arg]
    platform = build_platform(settings, clock=FixedClock(datetime(2026, 3, 2, tzinfo=UTC)))
    platform.database.reset()
    platform.database.upgrade()
    security = security_from_settings(
        platform.database.engine,
        clock=platform.clock,
        settings=settings,
        otp_sender=LoggingOtpSender(),
    )
    made = [
        users.create_user(
            security,
            actor=SYSTEM,
            username=f"m{i}",
            password="bench password 1",
            role=Role.ACCOUNT_MANAGER,
        ).user_id
        for i in range(args.managers)
    ]
    access = platform.prospect_access()
    half = args.managers // 2
    queue.set_territory(access, actor=SYSTEM, region_code="330102", user_ids=made[:half])
    queue.set_territory(access, actor=SYSTEM, region_code="330106", user_ids=made[half:])
    tenth = args.rows // 10
    print(f"{url.split(':')[0]}, {args.rows:,} rows, {args.managers} managers")
    baseline_month = date(2026, 1, 1)
    baseline = [replace(r, month=baseline_month) for r in rows(0, tenth)]
    base = timed(
        f"baseline: first load of {tenth:,}",
        lambda: loading.load_run(
            access, actor=SYSTEM, month=baseline_month, rows=baseline, meta=META
        ),
    )
    first = timed(
        f"first load of {args.rows:,}",
        lambda: loading.load_run(
            access, actor=SYSTEM, month=MONTH, rows=rows(0, args.rows), meta=META
        ),
    )
    rerun = timed(
        "re-run (a tenth dropped, a tenth new)",
        lambda: loading.load_run(
            access, actor=SYSTEM, month=MONTH, rows=rows(tenth, args.rows), meta=META
        ),
    )
    print(f"ratios to the baseline: first {first / base:.1f}x, re-run {rerun / base:.1f}x")
    platform.close()


if __name__ == "__main__":
    main()
