"""Benchmark: the portfolio aggregates of the end of day, and the dashboards' reads of them.

    PYTHONPATH=src .venv/bin/python bench/reporting.py --backend both

Loads a synthetic but valid book in bulk (100,000 applications with their stored decisions,
50,000 credit lines, a receipt or two per line drawn over three years, delinquency and
classification history), closes two month ends, and times:

- the aggregate step (``build_snapshot``, what the end of day's last step runs) at the first
  month end (no roll rates yet) and at the next one (roll rates from the first);
- each read the dashboard makes (service function + JSON body), p50 and p95 over repeated
  calls, against the baseline a page would pay without aggregates: one GROUP BY scan of the
  loans per request (the DPD buckets alone), run in the same process.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

from puhui.adapters.db import migrate
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.origination.tables import applications, decision_records
from puhui.adapters.db.reporting import SqlReportingStore
from puhui.adapters.db.reporting.snapshot import bucket_sql
from puhui.adapters.db.servicing.tables import (
    category_history,
    credit_lines,
    eod_runs,
    loan_products,
    loans,
)
from puhui.bootstrap.settings import Settings
from puhui.domain.clock import BANK_ZONE, FixedClock
from puhui.services.reporting import dashboards
from puhui.services.reporting.model import GroupBy
from puhui.services.security.permissions import Principal, Role
from puhui.web.schemas.reports import origination_out, portfolio_out, vintages_out

PG_ADMIN_URL = "postgresql+psycopg://puhui@127.0.0.1:55432/postgres"
FIRST_MONTH_END = date(2026, 10, 31)
MONTH_END = date(2026, 11, 30)
PRODUCTS = ("prod_revolving", "prod_term")
READER = Principal(user_id="bench", role=Role.RISK_OFFICER)
BATCH = 10_000
BAR_MS = 150.0


def _category(dpd: int) -> str:
    if dpd > 360:
        return "loss"
    if dpd > 270:
        return "doubtful"
    if dpd > 90:
        return "substandard"
    return "special-mention" if dpd > 0 else "pass"


def _lines(rng: random.Random, count: int) -> Iterator[dict[str, Any]]:
    for i in range(count):
        limit = rng.randrange(50_000_00, 3_000_000_00, 1_000_00)
        yield {
            "line_id": f"line_{i:026d}",
            "enterprise_id": f"E{i:08d}",
            "product_id": PRODUCTS[i % 2],
            "annual_rate": "0.0435",
            "limit_fen": limit,
            "drawn_fen": rng.randrange(0, limit),
            "opened_on": MONTH_END - timedelta(days=rng.randrange(30, 1_095)),
            "expiry_date": MONTH_END + timedelta(days=rng.randrange(-90, 700)),
            "status": "frozen" if rng.random() < 0.03 else "active",
            "version": 1,
        }


def _loan(rng: random.Random, i: int, line_id: str, product_id: str) -> dict[str, Any]:
    disbursed = MONTH_END - timedelta(days=rng.randrange(0, 1_095))
    status = rng.choices(["active", "closed", "written_off"], [70, 28, 2])[0]
    age = (MONTH_END - disbursed).days
    dpd = 0 if rng.random() < 0.9 or age == 0 else min(age, rng.randrange(1, 400))
    principal = rng.randrange(10_000_00, 1_000_000_00)
    outstanding = rng.randrange(1, principal) if status == "active" else 0
    return {
        "loan_id": f"rcpt_{i:026d}",
        "line_id": line_id,
        "product_id": product_id,
        "enterprise_id": "E",
        "annual_rate": "0.0435",
        "rate_e8": 4_350_000,
        "penalty_rate_e8": 6_525_000,
        "year_days": 360,
        "half_even": False,
        "grace_days": 0,
        "settlement_day": 20,
        "non_accrual_days": 90,
        "disbursed_on": disbursed,
        "maturity_date": MONTH_END + timedelta(days=rng.randrange(1, 365)),
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
        "status": status,
        "outstanding_principal_fen": outstanding,
        "overdue_principal_fen": outstanding if dpd else 0,
        "interest_accum_fen_days": 0,
        "interest_accrued_fen": rng.randrange(0, 20_000),
        "penalty_accum_fen_days": 0,
        "penalty_accrued_fen": 0,
        "compound_accum_fen_days": 0,
        "compound_accrued_fen": 0,
        "interest_billed_fen": 0,
        "penalty_billed_fen": 0,
        "compound_billed_fen": 0,
        "billed_due_on": None,
        "overdue_interest_fen": 0,
        "memo_interest_fen": rng.randrange(0, 10_000) if dpd > 90 else 0,
        "memo_penalty_fen": 0,
        "overdue_since": MONTH_END - timedelta(days=dpd - 1) if dpd else None,
        "days_past_due": dpd,
        "category": _category(dpd),
        "non_accrual": dpd > 90,
        "accrued_through": MONTH_END,
        "written_off_fen": 0,
        "recovered_fen": 0,
        "closed_on": None,
        "version": 1,
    }


def _record_json(rng: random.Random, application_id: str, outcome: str) -> str:
    """A decision record of a realistic size: the PD among the scores and features."""
    features = {f"feature_{k:02d}": round(rng.random() * 100, 4) for k in range(24)}
    return json.dumps(
        {
            "application_id": application_id,
            "outcome": outcome,
            "pd": f"{rng.uniform(0.002, 0.12):.6f}",
            "score": rng.randrange(400, 800),
            "evidence": {"features": features, "strategy_name": "sme-default"},
        },
        sort_keys=True,
    )


_CIPHER = FieldCipher(Settings().data_key.get_secret_value().encode())
SEALED_ID_NUMBER = _CIPHER.encrypt("id_number", "110101199003074578")
SEALED_PHONE = _CIPHER.encrypt("phone", "13800138000")
"""One real ciphertext each under the default data key, so pages that unseal them work."""


def _origination(
    rng: random.Random, count: int, line_ids: list[str]
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Applications over the last 365 days; the first ``len(line_ids)`` opened those lines."""
    for i in range(count):
        day = MONTH_END - timedelta(days=rng.randrange(0, 365))
        created = datetime.combine(day, day_time(9), BANK_ZONE).astimezone(UTC) + timedelta(
            seconds=rng.randrange(0, 12 * 3600)
        )
        application_id = f"app_{i:026d}"
        line_id = line_ids[i] if i < len(line_ids) else None
        roll = rng.random()
        partner = "partner-1" if roll < 0.3 else None
        manager = f"am_{rng.randrange(200)}" if 0.3 <= roll < 0.7 else None
        application = {
            "application_id": application_id,
            "application_no": f"AP{i:012d}",
            "uscc": f"91350100{i:010d}",
            "open_uscc": None,
            "id_number_enc": SEALED_ID_NUMBER,
            "id_number_index": f"{i:064x}",
            "phone_enc": SEALED_PHONE,
            "phone_index": f"{i:064x}",
            "status": "line_opened" if line_id else "declined",
            "partner_id": partner,
            "account_manager_id": manager,
            "credit_line_id": line_id,
            "created_at": created,
            "updated_at": created,
            "version": 1,
        }
        decision = None
        if line_id is not None or rng.random() < 0.9:
            outcome = "approve" if line_id else rng.choice(["decline", "decline", "refer"])
            decision = {
                "application_id": application_id,
                "decided_at": created,
                "as_of": day,
                "strategy_name": "sme-default",
                "strategy_version": 1,
                "arm": "champion",
                "outcome": outcome,
                "feature_source": "online",
                "record_json": _record_json(rng, application_id, outcome),
            }
        yield application, decision


def _batched(engine: Engine, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    written = 0
    batch: list[dict[str, Any]] = []
    with engine.begin() as connection:
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                connection.execute(insert(table), batch)
                written += len(batch)
                batch.clear()
        if batch:
            connection.execute(insert(table), batch)
            written += len(batch)
    return written


def seed(engine: Engine, applications_count: int, lines_count: int) -> dict[str, int]:
    rng = random.Random(17)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        for product_id in PRODUCTS:
            connection.execute(
                insert(loan_products).values(
                    product_id=product_id, code=product_id.upper(), name=product_id,
                    method="daily-revolving", min_annual_rate="0.03", max_annual_rate="0.18",
                    min_term_months=1, max_term_months=36, min_amount_fen=100_00,
                    max_amount_fen=10_000_000_00, basis="act/360", rounding="half-up",
                    penalty_uplift="0.5", grace_days=0,
                    waterfall="penalty,compound,interest,principal", settlement_day=20,
                    early_repayment="reduce-instalment", created_at=now,
                )
            )  # fmt: skip
    lines = list(_lines(rng, lines_count))
    counts = {"lines": _batched(engine, credit_lines, iter(lines))}
    pairs = list(_origination(rng, applications_count, [x["line_id"] for x in lines]))
    counts["applications"] = _batched(engine, applications, (a for a, _ in pairs))
    counts["decisions"] = _batched(engine, decision_records, (d for _, d in pairs if d))

    def book() -> Iterator[dict[str, Any]]:
        i = 0
        for line in lines:
            for _ in range(1 if rng.random() < 0.6 else 2):
                yield _loan(rng, i, line["line_id"], line["product_id"])
                i += 1

    book_rows = list(book())
    counts["loans"] = _batched(engine, loans, iter(book_rows))
    cured = (
        {
            "loan_id": row["loan_id"],
            "changed_on": row["disbursed_on"] + timedelta(days=120),
            "from_category": "special-mention",
            "to_category": "substandard",
            "days_past_due": 91,
        }
        for row in book_rows
        if row["days_past_due"] == 0
        and (MONTH_END - row["disbursed_on"]).days > 150
        and rng.random() < 0.03
    )
    counts["category_history"] = _batched(engine, category_history, cured)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return counts


def close(engine: Engine, day: date) -> None:
    at = datetime.combine(day, day_time(22), BANK_ZONE)
    with engine.begin() as connection:
        connection.execute(
            insert(eod_runs).values(as_of=day, status="completed", started_at=at, finished_at=at)
        )


def _timed_ms(action: Callable[[], object], repeats: int) -> tuple[float, float]:
    action()  # warm: statement caches, first connection
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, round(0.95 * len(samples)) - 1)]


def bench(url: str, backend: str, applications_count: int, lines_count: int, repeats: int) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine, "heads")
    started = time.perf_counter()
    counts = seed(engine, applications_count, lines_count)
    print(f"{backend}: seeded {counts} in {time.perf_counter() - started:.1f} s")
    store = SqlReportingStore(engine, clock=FixedClock(datetime(2026, 12, 1, tzinfo=UTC)))
    for day, label in ((FIRST_MONTH_END, "first month end"), (MONTH_END, "next month end")):
        close(engine, day)
        started = time.perf_counter()
        result = store.refresh(day)
        elapsed = time.perf_counter() - started
        print(f"  aggregate step {day} ({label}): {elapsed:6.2f} s, {result.rows:,} rows")
    started = time.perf_counter()
    day = MONTH_END - timedelta(days=364)
    while day < MONTH_END:
        store.refresh(day)  # an earlier day: its origination figures only
        day += timedelta(days=1)
    print(f"  backfill of 364 earlier days' origination: {time.perf_counter() - started:6.2f} s")

    def baseline() -> object:
        sql = (
            f"SELECT {bucket_sql('days_past_due')}, COUNT(*), SUM(outstanding_principal_fen)"
            f" FROM loans WHERE status = 'active' GROUP BY {bucket_sql('days_past_due')}"
        )
        with engine.connect() as connection:
            return connection.execute(text(sql)).all()

    reads: dict[str, Callable[[], object]] = {
        "baseline: DPD buckets scanned from loans": baseline,
        "portfolio (snapshot + 12-month series)": lambda: portfolio_out(
            dashboards.portfolio_report(store, actor=READER),
            dashboards.portfolio_series(store, actor=READER, months=12),
        ).model_dump_json(),
        "origination, 30 days by channel": lambda: origination_out(
            dashboards.origination_report(store, actor=READER)
        ).model_dump_json(),
        "origination, 365 days by branch": lambda: origination_out(
            dashboards.origination_report(
                store,
                actor=READER,
                first_day=MONTH_END - timedelta(days=364),
                last_day=MONTH_END,
                by=GroupBy.BRANCH,
            )
        ).model_dump_json(),
        "vintages (36 months, curves + PD)": lambda: vintages_out(
            dashboards.vintage_report(store, actor=READER)
        ).model_dump_json(),
    }
    base_p95 = 0.0
    page_p95 = 0.0
    for label, action in reads.items():
        p50, p95 = _timed_ms(action, repeats)
        base_p95 = base_p95 or p95
        ratio = "" if label.startswith("baseline") else f"  ({p95 / base_p95:.3f}x baseline p95)"
        print(f"  {label:<42} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms{ratio}")
        if not label.startswith(("baseline", "origination, 365")):
            page_p95 += p95
    verdict = "holds" if page_p95 <= BAR_MS else "MISSED"
    print(
        f"  dashboard reads together (portfolio, 30-day origination, vintages): sum of p95"
        f" {page_p95:.1f} ms of the page's {BAR_MS:.0f} ms: {verdict}"
    )
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{Path(folder) / 'bench.db'}"
            bench(url, "sqlite", args.applications, args.lines, args.repeats)
    if args.backend in ("postgres", "both"):
        name = f"puhui_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
            bench(url, "postgres", args.applications, args.lines, args.repeats)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
