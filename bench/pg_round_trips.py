"""Benchmark: what a round trip to PostgreSQL costs, and whether psycopg's pipeline mode saves it.

    PYTHONPATH=src:bench .venv/bin/python bench/pg_round_trips.py \\
        --database postgresql+psycopg://puhui@127.0.0.1:55432/DB [--transactions 3000]

An application on PostgreSQL takes about 32 round trips (statements, BEGIN and COMMIT). This
measures, on psycopg alone (no SQLAlchemy, no application), transactions of the shape of the
application's writes: BEGIN, then ``k`` small writes (inserts and versioned updates), then
COMMIT, for k = 1 .. 6, each way:

- ``plain``: every statement waits for its result (how the platform runs today);
- ``pipeline``: the transaction inside ``Connection.pipeline()``: psycopg sends BEGIN and the
  writes without waiting and reads the results at the commit's sync, one wait in all.

For each it prints the client's CPU (this process), the backend's CPU (``/proc`` of the
server process, so the server must be on this machine) and the elapsed time per
transaction, and the slope over k: what one more statement costs each way.
``--database`` is a scratch database: the benchmark creates and drops its own two tables
there.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import psycopg

from origination_api import process_stat

STATEMENTS = (
    "INSERT INTO rt_applications (id, status, version, body) VALUES (%s, 'new', 1, %s)",
    "UPDATE rt_applications SET status = 'consented', version = 2 WHERE id = %s AND version = 1",
    "INSERT INTO rt_events (id, application_id, payload) VALUES (%s, %s, %s)",
    "UPDATE rt_applications SET status = 'decided', version = 3 WHERE id = %s AND version = 2",
    "INSERT INTO rt_events (id, application_id, payload) VALUES (%s, %s, %s)",
    "INSERT INTO rt_events (id, application_id, payload) VALUES (%s, %s, %s)",
)


def _arguments(index: int, key: int) -> tuple[Any, ...]:
    if index == 0:
        return (key, "b" * 400)
    if index in (1, 3):
        return (key,)
    return (key * 8 + index, key, "p" * 300)


def _transaction(conn: psycopg.Connection[Any], key: int, count: int, *, piped: bool) -> None:
    with conn.cursor() as cursor:
        for index in range(count):
            cursor.execute(STATEMENTS[index], _arguments(index, key))
            # Plain, a versioned update's row count is checked at once, as the platform does;
            # in a pipeline it is known only at the sync (not checked: in the pipeline's favour).
            if index in (1, 3) and not piped and cursor.rowcount != 1:
                raise RuntimeError("the versioned update missed its row")
    conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True, help="a scratch PostgreSQL database")
    parser.add_argument("--transactions", type=int, default=3000, help="per shape and mode")
    args = parser.parse_args()
    url = args.database.replace("postgresql+psycopg://", "postgresql://")
    conn = psycopg.connect(url, prepare_threshold=0)  # prepared at once, as the platform's
    for ddl in (
        "DROP TABLE IF EXISTS rt_events",
        "DROP TABLE IF EXISTS rt_applications",
        "CREATE TABLE rt_applications (id bigint PRIMARY KEY, status text, version int, body text)",
        "CREATE TABLE rt_events (id bigint PRIMARY KEY, application_id bigint, payload text)",
    ):
        conn.execute(ddl, prepare=False)
    conn.commit()
    row = conn.execute("SELECT pg_backend_pid()").fetchone()
    conn.commit()
    backend = int(row[0]) if row is not None else 0
    if process_stat(backend) is None:
        raise SystemExit("the server is not on this machine: its CPU cannot be read")
    print(f"{'mode':<9} {'k':>2} {'client µs':>10} {'backend µs':>11} {'elapsed µs':>11}")
    key = 0
    slopes: dict[str, list[tuple[int, float, float]]] = {}
    for count in range(1, len(STATEMENTS) + 1):
        for mode in ("plain", "pipeline"):
            n = args.transactions
            before = process_stat(backend)
            cpu, wall = time.process_time(), time.perf_counter()
            for _ in range(n):
                key += 1
                if mode == "pipeline":
                    with conn.pipeline():
                        _transaction(conn, key, count, piped=True)
                else:
                    _transaction(conn, key, count, piped=False)
            client = (time.process_time() - cpu) / n * 1e6
            elapsed = (time.perf_counter() - wall) / n * 1e6
            after = process_stat(backend)
            server = (after[1] - before[1]) / n * 1e6 if before and after else float("nan")
            slopes.setdefault(mode, []).append((count, client, server))
            print(f"{mode:<9} {count:>2} {client:>10.0f} {server:>11.0f} {elapsed:>11.0f}")
    for mode, points in slopes.items():
        (k0, c0, s0), (k1, c1, s1) = points[0], points[-1]
        print(
            f"{mode}: one more statement costs {(c1 - c0) / (k1 - k0):.0f} µs of the client and "
            f"{(s1 - s0) / (k1 - k0):.0f} µs of the backend; a transaction of one statement "
            f"{c0:.0f} + {s0:.0f} µs"
        )
    conn.close()
    print(f"({args.transactions} transactions per line)")


if __name__ == "__main__":
    main()
