"""Benchmark: end of day over N active receipts on SQLite and PostgreSQL.

    .venv/bin/python bench/bench_eod.py --rows 1000000 --backend both

Seeds receipts in bulk (not through the services), then times the end of day for an
ordinary day, for the settlement day (the 20th, every receipt settles) and for a replay of
a completed date. The baseline, run in the same process on the same table, is one trivial
full-table UPDATE (the floor cost of touching every row once); ratios are against it.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.tables import loans
from puhui.domain.clock import FixedClock
from puhui.pipelines.eod import run_end_of_day

PG_ADMIN_URL = "postgresql+psycopg://puhui@127.0.0.1:55432/postgres"
FIRST_DAY = date(2026, 3, 18)
"""The run covers the 18th (ordinary day), the 19th, and the 20th (settlement of every receipt)."""
PRODUCT_ID = "prod_bench"
BAR_SECONDS = 120.0

_COLUMNS = [c.name for c in loans.columns]


def _rows(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for i in range(count):
        principal = rng.randrange(10_000_00, 1_000_000_00)
        rate_e8 = rng.randrange(300, 1800) * 10_000  # 3.00%..17.99% in 0.01% steps
        disbursed = FIRST_DAY - timedelta(days=rng.randrange(1, 300))
        overdue = rng.random() < 0.05
        maturity = (
            FIRST_DAY - timedelta(days=rng.randrange(1, 200))
            if overdue
            else FIRST_DAY + timedelta(days=rng.randrange(1, 365))
        )
        overdue_since = maturity + timedelta(days=1) if overdue else None
        values = {
            "loan_id": f"rcpt_{i:026d}",
            "line_id": None,
            "product_id": PRODUCT_ID,
            "enterprise_id": f"E{i % 400_000:08d}",
            "annual_rate": f"0.{rate_e8:08d}",
            "rate_e8": rate_e8,
            "penalty_rate_e8": rate_e8 * 3 // 2,
            "year_days": 360,
            "half_even": False,
            "grace_days": 0,
            "settlement_day": 20,
            "non_accrual_days": 90,
            "disbursed_on": disbursed,
            "maturity_date": maturity,
            "principal_fen": principal,
            "kind": "receipt",
            "method": "daily-revolving",
            "current_period": 0,
            "next_due_date": None,
            "period_interest_fen": 0,
            "period_principal_fen": 0,
            "period_days": 1,
            "period_days_elapsed": 0,
            "billed_principal_fen": 0,
            "status": "active",
            "outstanding_principal_fen": principal,
            "overdue_principal_fen": principal if overdue else 0,
            "interest_accum_fen_days": principal * 10,
            "interest_accrued_fen": 0,
            "penalty_accum_fen_days": 0,
            "penalty_accrued_fen": 0,
            "compound_accum_fen_days": 0,
            "compound_accrued_fen": 0,
            "interest_billed_fen": 0,
            "penalty_billed_fen": 0,
            "compound_billed_fen": 0,
            "billed_due_on": None,
            "overdue_interest_fen": 0,
            "memo_interest_fen": 0,
            "memo_penalty_fen": 0,
            "overdue_since": overdue_since,
            "days_past_due": (FIRST_DAY - overdue_since).days if overdue_since else 0,
            "category": "special-mention" if overdue else "pass",
            "non_accrual": False,
            "accrued_through": FIRST_DAY - timedelta(days=1),
            "written_off_fen": 0,
            "recovered_fen": 0,
            "closed_on": None,
            "version": 1,
            "payee": None,  # paid to the borrower (migration 0023)
        }
        yield values


_PRODUCT_SQL = text(
    "INSERT INTO loan_products VALUES (:id, 'BENCH', 'bench', 'daily-revolving', '0.03',"
    " '0.18', 1, 12, 10000, 1000000000, 'act/360', 'half-up', '0.5', 0,"
    " 'penalty,compound,interest,principal', 20, 'reduce-instalment', :now)"
)


def seed_sqlite(url: str, count: int) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine, "heads")  # the end of day also writes the reporting tables
    placeholders = ", ".join("?" for _ in _COLUMNS)
    sql = f"INSERT INTO loans ({', '.join(_COLUMNS)}) VALUES ({placeholders})"
    with engine.begin() as connection:
        connection.execute(_PRODUCT_SQL, {"id": PRODUCT_ID, "now": datetime.now(UTC)})
        raw = connection.connection.driver_connection
        assert raw is not None
        cursor = raw.cursor()
        batch: list[tuple[object, ...]] = []
        for row in _rows(count):
            batch.append(
                tuple(
                    (v.isoformat() if isinstance(v, date) else int(v) if isinstance(v, bool) else v)
                    for v in (row[c] for c in _COLUMNS)
                )
            )
            if len(batch) == 50_000:
                cursor.executemany(sql, batch)
                batch.clear()
        if batch:
            cursor.executemany(sql, batch)
    engine.dispose()


def seed_postgres(url: str, count: int) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine, "heads")  # the end of day also writes the reporting tables
    with engine.begin() as connection:
        connection.execute(_PRODUCT_SQL, {"id": PRODUCT_ID, "now": datetime.now(UTC)})
        raw = connection.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor:
            copy_sql = f"COPY loans ({', '.join(_COLUMNS)}) FROM STDIN"
            with cursor.copy(copy_sql) as copy:
                for row in _rows(count):
                    copy.write_row([row[c] for c in _COLUMNS])
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE loans"))
    engine.dispose()


def _timed(label: str, action: Callable[[], str]) -> float:
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    print(f"  {label:<38} {elapsed:8.2f} s   {result}")
    return elapsed


def bench(url: str, count: int, backend: str) -> dict[str, float]:
    engine = make_engine(url)
    store = SqlEndOfDayStore(engine, clock=FixedClock(datetime(2026, 3, 21, tzinfo=UTC)))

    def baseline() -> str:
        with engine.begin() as connection:
            rows = connection.execute(text("UPDATE loans SET version = version + 1")).rowcount
        return f"{rows} rows"

    def day(offset: int) -> Callable[[], str]:
        def run() -> str:
            report = run_end_of_day(store, FIRST_DAY + timedelta(days=offset))
            return str(report.rows_by_step or "already completed")

        return run

    print(f"{backend}: {count:,} active receipts")
    results = {
        "baseline": _timed("baseline: one full-table UPDATE", baseline),
        "day": _timed(f"end of day {FIRST_DAY} (ordinary)", day(0)),
        "day2": _timed(f"end of day {FIRST_DAY + timedelta(days=1)} (ordinary)", day(1)),
        "settle": _timed(f"end of day {FIRST_DAY + timedelta(days=2)} (settlement)", day(2)),
        "replay": _timed(f"replay {FIRST_DAY + timedelta(days=2)} (no-op)", day(2)),
    }
    base = results["baseline"]
    for key in ("day", "day2", "settle"):
        verdict = "holds" if results[key] <= BAR_SECONDS else "MISSED"
        print(f"  {key:<8} {results[key] / base:6.1f}x baseline; bar {BAR_SECONDS:.0f} s {verdict}")
    engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            started = time.perf_counter()
            seed_sqlite(url, args.rows)
            print(f"sqlite: seeded in {time.perf_counter() - started:.1f} s")
            bench(url, args.rows, "sqlite")
    if args.backend in ("postgres", "both"):
        name = f"puhui_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
            started = time.perf_counter()
            seed_postgres(url, args.rows)
            print(f"postgres: seeded in {time.perf_counter() - started:.1f} s")
            bench(url, args.rows, "postgres")
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
