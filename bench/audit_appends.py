"""Concurrent writers appending to the audit trail on PostgreSQL: transactions per second.

Usage: .venv/bin/python bench/audit_appends.py --database URL [--threads 16] [--seconds 10]
       [--work-ms 2]

Each of ``--threads`` threads runs units of work in a loop: append an audit event, wait
``--work-ms`` on the server (``pg_sleep``, standing for the other statements a real unit of
work runs after its first append), append a second event, commit. The database is reset and
migrated first. Printed: committed units per second, their latency p50/p99, and (baseline in
the same run) the same loop with one thread, so the ratio shows how far the writers run in
parallel. Then ``puhui audit verify``'s check on the whole chain.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from sqlalchemy import Engine, text

from puhui.adapters.db.database import Database
from puhui.adapters.db.unit_of_work import SqlUnitOfWork
from puhui.domain.audit import AuditRecord
from puhui.domain.clock import SystemClock
from puhui.services.audit import verify_audit_chain

KEY = b"bench-audit-key-" * 2


def run(engine: Engine, threads: int, seconds: float, work_ms: float) -> tuple[int, list[float]]:
    clock = SystemClock()
    stop = time.monotonic() + seconds
    latencies: list[float] = []
    guard = threading.Lock()

    def loop(worker: int) -> None:
        n = 0
        mine: list[float] = []
        while time.monotonic() < stop:
            started = time.perf_counter()
            with SqlUnitOfWork(engine, clock=clock, audit_key=KEY) as uow:
                for step in ("started", "finished"):
                    uow.audit.append(
                        AuditRecord(
                            actor=f"bench:{worker}",
                            action=f"bench.{step}",
                            entity="bench",
                            entity_id=f"{worker}-{n}",
                            payload={"n": n},
                        )
                    )
                    if step == "started":
                        uow.connection.execute(text("SELECT pg_sleep(:s)"), {"s": work_ms / 1000})
                uow.commit()
            mine.append((time.perf_counter() - started) * 1000)
            n += 1
        with guard:
            latencies.extend(mine)

    pool = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return len(latencies), latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--work-ms", type=float, default=2.0)
    args = parser.parse_args()
    database = Database(args.database, clock=SystemClock(), audit_key=KEY)
    database.reset()
    database.upgrade()
    engine = database.engine
    engine.pool.dispose()
    rows = []
    for threads in (1, args.threads):
        done, latencies = run(engine, threads, args.seconds, args.work_ms)
        cuts = statistics.quantiles(latencies, n=100)
        rows.append((threads, done / args.seconds, cuts[49], cuts[98]))
    for threads, rate, p50, p99 in rows:
        print(f"{threads:>3} thread(s): {rate:8.1f} units/s  p50 {p50:7.2f} ms  p99 {p99:8.2f} ms")
    print(f"parallel speed-up: {rows[1][1] / rows[0][1]:.1f}x with {args.threads} threads")
    report = verify_audit_chain(
        lambda: SqlUnitOfWork(engine, clock=SystemClock(), audit_key=KEY), key=KEY
    )
    print(
        f"chain: {'intact' if report.ok else 'BROKEN'}, {report.events_checked} events verified, "
        f"{getattr(report, 'pending', 0)} pending"
    )
    database.dispose()


if __name__ == "__main__":
    main()
