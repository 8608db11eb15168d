"""Benchmark: one credit line's statement (对账单) and receipts page on a busy servicing book.

    .venv/bin/python bench/bench_statements.py --lines 1000 --receipts 5 --days 200

Builds the book through the services (lines opened, receipts drawn on random days,
repayments, one end of day per business day), so the request log, the journal and the
accrual sub-ledger have the shape and size a real book has. Then it times, for random lines:
the statement of the last closed cycle, the receipts page, and — the baseline, run in the
same process on the same database — ``GET /credit-lines/{id}``'s own read (one line row in
one unit of work). ``--compare`` then drops the request-log index of migration 0008 and
times again (what a statement costs without it).

A second comparison reads one line's accruals the way the repository does (the primary key
probed per day and receipt) and as a plain date range with a receipt filter.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.migrations.versions.v0008_statement_indexes import REQUESTS_BY_RECEIPT
from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.adapters.db.servicing.tables import accrual_entries, journal_entries, service_requests
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork
from puhui.domain.clock import FixedClock
from puhui.domain.ids import CreditLineId, ReceiptId
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.pipelines.eod import run_end_of_day
from puhui.services.servicing.lines import draw, open_credit_line
from puhui.services.servicing.products import create_product
from puhui.services.servicing.receipts import quote_payoff, repay
from puhui.services.servicing.statements import line_receipts, line_statement

PG_ADMIN_URL = "postgresql+psycopg://puhui@127.0.0.1:55432/postgres"
FIRST_DAY = date(2025, 6, 1)


def _product() -> LoanProduct:
    return LoanProduct(
        code="BENCH",
        name="bench revolving",
        method=RepaymentMethod.DAILY_REVOLVING,
        min_annual_rate=Decimal("0.03"),
        max_annual_rate=Decimal("0.18"),
        min_term_months=1,
        max_term_months=12,
        min_amount_fen=100_00,
        max_amount_fen=10_000_000_00,
        penalty_uplift=Decimal("0.5"),
    )


def build_book(url: str, *, lines: int, receipts: int, days: int, seed: int) -> tuple[Any, Any]:
    engine = make_engine(url)
    migrate.upgrade(engine, "heads")
    clock = FixedClock(datetime(2025, 6, 1, 2, tzinfo=UTC))

    def uow() -> ServicingUnitOfWork:
        return ServicingUnitOfWork(engine, clock=clock, audit_key=b"k" * 32)

    rng = random.Random(seed)
    product_id = create_product(uow, _product(), actor="bench")
    line_ids = [
        open_credit_line(
            uow,
            enterprise_id=f"E{i:07d}",
            product_id=product_id,
            limit_fen=min(10_000_000_00, max(1_000_000_00, receipts * 100_000_00)),
            annual_rate=Decimal("0.0435"),
            opened_on=FIRST_DAY,
            expiry_date=FIRST_DAY + timedelta(days=days + 400),
            actor="bench",
        )
        for i in range(lines)
    ]
    # Each receipt is drawn on a random day; about one in three is part-repaid later.
    plan: dict[int, list[tuple[str, CreditLineId]]] = {}
    for line_id in line_ids:
        for _ in range(receipts):
            plan.setdefault(rng.randrange(days - 20), []).append(("draw", line_id))
    drawn: list[ReceiptId] = []
    repay_plan: dict[int, list[ReceiptId]] = {}
    store = SqlEndOfDayStore(engine, clock=clock)
    key = 0
    for day in range(days):
        today = FIRST_DAY + timedelta(days=day)
        for _, line_id in plan.get(day, []):
            key += 1
            result = draw(
                uow,
                line_id,
                amount_fen=rng.randrange(10_000_00, 100_000_00),
                on=today,
                maturity_date=today + timedelta(days=rng.randrange(30, 180)),
                idempotency_key=f"d{key}",
                actor="bench",
            )
            receipt_id = ReceiptId(result.receipt_id)
            drawn.append(receipt_id)
            if rng.random() < 0.35:
                repay_plan.setdefault(day + rng.randrange(5, 60), []).append(receipt_id)
        for receipt_id in repay_plan.get(day, []):
            key += 1
            owed = quote_payoff(uow, receipt_id, on=today)
            repay(
                uow,
                receipt_id,
                amount_fen=max(1, owed // 3),
                on=today,
                idempotency_key=f"r{key}",
                actor="bench",
            )
        run_end_of_day(store, today)
    return engine, (uow, line_ids, FIRST_DAY + timedelta(days=days))


def _time_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _summary(label: str, ms: list[float], baseline_ms: float) -> None:
    p50 = statistics.median(ms)
    p99 = sorted(ms)[max(0, int(len(ms) * 0.99) - 1)]
    print(f"  {label:<34} p50 {p50:8.2f} ms   p99 {p99:8.2f} ms   ×{p50 / baseline_ms:7.1f}")


def _cycle_before(today: date) -> tuple[int, int]:
    """The last interest cycle that ended before ``today`` (it ends on the 20th)."""
    last = today - timedelta(days=1)
    if last.day >= 20:
        return last.year, last.month
    return (last.year - 1, 12) if last.month == 1 else (last.year, last.month - 1)


def measure(context: Any, *, samples: int, seed: int) -> None:
    uow, line_ids, today = context
    rng = random.Random(seed)
    chosen = [rng.choice(line_ids) for _ in range(samples)]
    year, month = _cycle_before(today)

    def read_line(line_id: CreditLineId) -> None:
        with uow() as unit:
            unit.lines.get(line_id)

    baseline_ms = [_time_ms(partial(read_line, lid)) for lid in chosen]
    baseline = statistics.median(baseline_ms)
    _summary("baseline: read the line (1 UoW)", baseline_ms, baseline)

    def statement(line_id: CreditLineId) -> None:
        line_statement(uow, line_id, year=year, month=month, today=today)

    def page(line_id: CreditLineId) -> None:
        line_receipts(uow, line_id, limit=50)

    statement_ms = [_time_ms(partial(statement, lid)) for lid in chosen]
    _summary(f"statement {year:04d}-{month:02d}", statement_ms, baseline)
    page_ms = [_time_ms(partial(page, lid)) for lid in chosen]
    _summary("receipts page (limit 50)", page_ms, baseline)

    def accruals_probed(line_id: CreditLineId) -> None:
        with uow() as unit:
            receipts = unit.loans.of_line(line_id)
            unit.ledger.receipt_accruals(
                [r.loan_id for r in receipts],
                since=min(r.disbursed_on for r in receipts),
                daily_from=today - timedelta(days=31),
                through=today,
            )

    def accruals_ranged(line_id: CreditLineId) -> None:
        with uow() as unit:
            ids = [r.loan_id for r in unit.loans.of_line(line_id)]
            unit.connection.execute(
                select(accrual_entries.c.loan_id, func.sum(accrual_entries.c.interest_fen))
                .where(accrual_entries.c.loan_id.in_(ids))
                .where(accrual_entries.c.as_of <= today)
                .group_by(accrual_entries.c.loan_id, accrual_entries.c.as_of)
            ).all()

    _summary(
        "accruals: key probed (sums + 31 d)",
        [_time_ms(partial(accruals_probed, lid)) for lid in chosen],
        baseline,
    )
    _summary(
        "accruals: date range, all daily rows",
        [_time_ms(partial(accruals_ranged, lid)) for lid in chosen[:10]],
        baseline,
    )
    found = line_statement(uow, chosen[0], year=year, month=month, today=today)
    print(
        f"  sample statement: {len(found.movements)} movements, "
        f"opening {found.opening.total_fen} fen, closing {found.closing.total_fen} fen, "
        f"reconciles: {found.opening + found.totals.net_change == found.closing}"
    )


def _counts(engine: Any) -> str:
    with engine.connect() as connection:
        parts = []
        for table in (service_requests, journal_entries, accrual_entries):
            rows = connection.execute(select(func.count()).select_from(table)).scalar_one()
            parts.append(f"{table.name} {rows:,}")
    return ", ".join(parts)


@contextmanager
def _database(backend: str) -> Iterator[str]:
    """A new, empty database: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--receipts", type=int, default=5, help="receipts per line")
    parser.add_argument("--days", type=int, default=200, help="business days of history")
    parser.add_argument("--samples", type=int, default=100, help="lines timed")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--compare", action="store_true", help="also time without the indexes")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with _database(args.backend) as url:
        started = time.perf_counter()
        engine, context = build_book(
            url, lines=args.lines, receipts=args.receipts, days=args.days, seed=args.seed
        )
        print(
            f"{args.backend}: built {args.lines} lines × {args.receipts} receipts over "
            f"{args.days} days in {time.perf_counter() - started:.1f} s ({_counts(engine)})"
        )
        measure(context, samples=args.samples, seed=args.seed)
        if args.compare:
            with engine.begin() as connection:
                connection.execute(text(f"DROP INDEX {REQUESTS_BY_RECEIPT}"))
            print("without the request-log index (migration 0008 undone):")
            measure(context, samples=args.samples, seed=args.seed)
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
