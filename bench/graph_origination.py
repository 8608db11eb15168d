"""The online graph check of one application: latency on a snapshot of a million enterprises.

Usage: PYTHONPATH=src .venv/bin/python bench/graph_origination.py [--enterprises 1000000]
       [--checks 20000] [--keep DIR]

Writes a synthetic snapshot through the contract (``write_snapshot``; a built one holds no
clear identifiers to check with): ``--enterprises`` enterprises, each with a legal
representative (one in ten shares one with another enterprise), a registered phone, an
address (shared by about three enterprises on average: buildings), a settlement account; 40%
applied in the last months with a device and an IP from shared pools; 200 intermediaries'
devices with 50 clients each; rings of 5 sharing two devices and a phone. Then it loads the
snapshot (``GraphIndex.load``: seconds and resident memory) and times ``GraphIndex.check``
for ``--checks`` applications: half from enterprises in the graph with their own
identifiers, a quarter newcomers on an intermediary's or a ring's device with two applications
since the snapshot on it, a quarter unknown. Baseline in the same process: the same checks
on a snapshot of 10,000 enterprises built the same way (the ratio shows what size costs).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import hmac
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from puhui.domain.origination.application import Applicant
from puhui.graph.online import GraphIndex, RecentTie
from puhui.graph.snapshot import (
    FORMAT_VERSION,
    TABLES,
    Anomalies,
    BuildReport,
    key_id,
    write_snapshot,
)

MONTH = date(2026, 3, 1)
TODAY = date(2026, 4, 8)
KEY = b"graph-identifier-key-of-the-bench-01"
AGENTS, CLIENTS_PER_AGENT, RING_SIZE = 200, 50, 5


def _uscc(i: int) -> str:
    return f"91{i:016d}"


def _values(n: int) -> dict[str, np.ndarray]:
    """Per enterprise, the clear identifier values (integers rendered by kind below)."""
    rng = np.random.default_rng(7)
    person = np.arange(n)
    shared = rng.random(n) < 0.1
    person[shared] = rng.integers(0, n, shared.sum())
    return {
        "person": person,
        "phone": np.arange(n),
        "address": rng.integers(0, max(1, n // 3), n),
        "account": np.arange(n),
        "device": np.where(rng.random(n) < 0.4, rng.integers(0, max(1, n // 2), n), -1),
        "ip": np.where(rng.random(n) < 0.4, rng.integers(0, max(1, n // 2), n), -1),
    }


RENDER = {
    "person": lambda v: f"110101{v:012d}",
    "phone": lambda v: f"13{v:09d}",
    "address": lambda v: f"某市某区某路{v}号",
    "account": lambda v: f"6222{v:012d}",
    "device": lambda v: f"DV{v:012d}",
    "ip": lambda v: f"10.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}",
}
EDGE_KIND = {"person": "legal_rep"}
SOURCE = {"person": "registry", "phone": "registry", "address": "registry", "account": "registry"}


def _key(kind: str, value: str) -> str:
    """``identifier_key`` inlined (millions of calls): HMAC-SHA256 under the graph key."""
    digest = hmac.new(KEY, f"{kind}\x1f{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{digest[:24]}"


def synthetic_snapshot(folder: Path, n: int) -> dict[str, np.ndarray]:
    """Write the snapshot; return the identifier values (for the checks)."""
    values = _values(n)
    rng = np.random.default_rng(11)
    agents = rng.integers(0, n, AGENTS * CLIENTS_PER_AGENT)
    values["device"][agents] = n + np.repeat(np.arange(AGENTS), CLIENTS_PER_AGENT)
    n_rings = max(1, n // 2000)
    ring_members = rng.choice(n, n_rings * RING_SIZE, replace=False)
    ring_of = np.repeat(np.arange(n_rings), RING_SIZE)
    values["device"][ring_members] = 2 * n + ring_of
    values["phone"][ring_members] = n + ring_of
    frames = []
    for kind, column in values.items():
        keep = column >= 0
        rows, ints = np.nonzero(keep)[0], column[keep]
        distinct, inverse = np.unique(ints, return_inverse=True)
        render = RENDER[kind]
        keys = np.array([_key(kind, render(int(v))) for v in distinct], dtype=object)
        frames.append(
            pl.DataFrame(
                {
                    "src": ["E:" + _uscc(int(r)) for r in rows],
                    "dst": keys[inverse],
                    "kind": EDGE_KIND.get(kind, kind),
                    "source": SOURCE.get(kind, "applications"),
                }
            )
        )
    edges = pl.concat(frames).with_columns(
        pl.lit(date(2026, 2, 1)).alias("month"),
        pl.lit(MONTH).alias("last_month"),
        pl.lit(None, pl.Int64).alias("amount_fen"),
    )
    ring_list: list[str | None] = [None] * n
    for member, ring in zip(ring_members, ring_of, strict=True):
        ring_list[int(member)] = f"R{ring}"
    ring_ids = pl.Series(ring_list, dtype=pl.String)
    facts = pl.DataFrame(
        {
            "uscc": [_uscc(i) for i in range(n)],
            "ring_id": ring_ids,
            "ring_score": np.where(ring_ids.is_not_null().to_numpy(), 0.8, np.nan),
            "packaging_score": rng.random(n) * 0.5,
            "invoice_round_trip_ratio": rng.random(n) * 0.2,
            "contagion_score": rng.random(n) * 0.4,
            "shared_contact_count": rng.integers(0, 4, n),
            "applications_30d": rng.integers(0, 3, n),
            "guarantors_in_distress": np.zeros(n, dtype=np.int32),
        }
    ).with_columns(pl.col("ring_score").fill_nan(None))
    facts = facts.with_columns(
        pl.lit(None, dtype).alias(c)
        for c, dtype in TABLES["enterprise_facts"].items()
        if c not in facts.columns
    )
    rings = pl.DataFrame(
        {
            "ring_id": [f"R{r}" for r in range(n_rings)],
            "members": [
                sorted(_uscc(int(m)) for m in ring_members[ring_of == r]) for r in range(n_rings)
            ],
            "score": [0.8] * n_rings,
            "evidence": [["5 enterprises share two devices and a phone"]] * n_rings,
        }
    )
    empty = {name: pl.DataFrame(schema=schema) for name, schema in TABLES.items()}
    report = BuildReport(
        format_version=FORMAT_VERSION,
        as_of=MONTH,
        built_at=datetime.now(UTC),
        key_id=key_id(KEY),
        counts={"enterprises": n, "identifier_edges": edges.height},
        anomalies=Anomalies(),
        seconds=0.0,
    )
    write_snapshot(
        folder, report, {**empty, "edges": edges, "enterprise_facts": facts, "rings": rings}
    )
    return values


def applications(values: dict[str, np.ndarray], n: int, count: int) -> list[tuple[list[RecentTie]]]:
    rng = random.Random(5)
    found: list[tuple[list[RecentTie]]] = []
    shared_devices = [int(v) for v in np.unique(values["device"][values["device"] >= n])]
    for k in range(count):
        draw = rng.random()
        if draw < 0.5:
            i = rng.randrange(n)
            device = int(values["device"][i])
            app = Applicant(
                uscc=_uscc(i),
                id_number=RENDER["person"](int(values["person"][i])),
                phone=RENDER["phone"](int(values["phone"][i])),
                device_id=RENDER["device"](device) if device >= 0 else None,
                address=RENDER["address"](int(values["address"][i])),
            )
            found.append((app, []))
            continue
        newcomer = _uscc(10 * n + k)
        if draw < 0.75:
            device = RENDER["device"](rng.choice(shared_devices))
            ties = [RecentTie("device", _uscc(10 * n + k + j + 1), False, TODAY) for j in (0, 1)]
        else:
            device, ties = f"DV-NEW-{k}", []
        app = Applicant(
            uscc=newcomer,
            id_number=f"5101011990{k:08d}",
            phone=f"15{k:09d}",
            device_id=device,
            ip_address=f"172.16.{k % 256}.{k // 256 % 256}",
            address=f"新区新路{k}号",
        )
        found.append((app, ties))
    return found


def timed(index: GraphIndex, apps: list[tuple[list[RecentTie]]]) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds per check (on a shared machine the CPU time is steadier)."""
    for app, ties in apps[:500]:  # warm-up
        index.check(app, TODAY, ties)
    gc.collect()
    gc.disable()
    wall, cpu = [], []
    try:
        for app, ties in apps:
            started, started_cpu = time.perf_counter_ns(), time.thread_time_ns()
            index.check(app, TODAY, ties)
            cpu.append((time.thread_time_ns() - started_cpu) / 1e6)
            wall.append((time.perf_counter_ns() - started) / 1e6)
    finally:
        gc.enable()
    return wall, cpu


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def quantiles(spent: list[float]) -> str:
    cut = statistics.quantiles(spent, n=100)
    return f"p50 {cut[49]:.3f} ms, p99 {cut[98]:.3f} ms, max {max(spent):.3f} ms"


def measure(
    label: str, folder: Path, values: dict[str, np.ndarray] | None, n: int, checks: int
) -> float:
    before = rss_mb()
    index = GraphIndex.load(folder, KEY)
    after = rss_mb()
    print(
        f"{label}: {index.facts.height:,} enterprises, {len(index.edge_enterprise):,} identifier "
        f"edges; load {index.loaded_in_seconds:.1f} s; index {index.memory_bytes() / 1e6:,.0f} MB "
        f"(resident {after - before:+,.0f} MB)"
    )
    if values is None:
        raise SystemExit("checks on a built snapshot need its clear identifiers: not available")
    wall, cpu = timed(index, applications(values, n, checks))
    print(f"  {checks:,} checks, wall: {quantiles(wall)}")
    print(f"  {checks:,} checks, CPU:  {quantiles(cpu)}")
    return statistics.quantiles(wall, n=100)[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="write the synthetic snapshot here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="puhui-graph-bench-") as tmp:
        base = Path(tmp)
        small = 10_000
        small_values = synthetic_snapshot(base / "small", small)
        baseline = measure("baseline", base / "small", small_values, small, args.checks)
        started = time.perf_counter()
        folder = args.keep or base / "large"
        values = synthetic_snapshot(folder, args.enterprises)
        print(f"synthetic snapshot written in {time.perf_counter() - started:.0f} s")
        p99 = measure("full size", folder, values, args.enterprises, args.checks)
    load = Path("/proc/loadavg").read_text().split()[0]
    print(
        f"wall p99 ratio full size / baseline: {p99 / baseline:.2f}; target p99 <= 5 ms "
        f"(wall): {'met' if p99 <= 5 else 'NOT met'}; load average {load} on "
        f"{os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
