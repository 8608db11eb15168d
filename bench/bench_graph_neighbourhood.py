"""One enterprise's neighbourhood from a loaded graph snapshot: milliseconds per look-up.

Usage: .venv/bin/python bench/bench_graph_neighbourhood.py [--enterprises 200000]
       [--months 12] [--lookups 300]

A synthetic snapshot (seeded): every enterprise has a legal representative, a phone and an
address, a tenth of the phones and persons are shared by 2 to 6 enterprises, a few hundred IP
addresses are hubs of up to 2,000 enterprises, and each enterprise invoices two partners every
month. Printed: the time to load and index the snapshot once (``load_snapshot``), then the
median and p99 time of ``neighbourhood`` (depth 2, 40 nodes) for ``--lookups`` enterprises,
and, as the baseline in the same process, the same two-tie walk by filtering the loaded edge
table (a scan per tie level, what a reader without the index would do).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from puhui.graph.loaded import load_snapshot
from puhui.graph.neighbourhood import neighbourhood
from puhui.graph.snapshot import FORMAT_VERSION, TABLES, Anomalies, BuildReport, write_snapshot

AS_OF = date(2026, 3, 1)


def _month(i: int) -> date:
    index = AS_OF.year * 12 + AS_OF.month - 1 - i
    return date(index // 12, index % 12 + 1, 1)


def synthetic(n: int, months: int, rng: np.random.Generator) -> dict[str, pl.DataFrame]:
    usccs = np.array([f"9133{i:014d}" for i in range(n)])
    ents = np.char.add("E:", usccs)

    def identifiers(kind: str, shared_share: float) -> tuple[np.ndarray, np.ndarray]:
        owner = np.arange(n)
        ids = np.char.add(f"{kind}:", owner.astype(str))
        shared = rng.random(n) < shared_share
        # Shared identifiers: point at another enterprise's, in groups of a few.
        ids[shared] = ids[rng.integers(0, n, shared.sum())]
        return ents, ids

    frames: list[pl.DataFrame] = []
    for kind, edge_kind, share in (("person", "legal_rep", 0.1), ("phone", "phone", 0.1)):
        src, dst = identifiers(kind, share)
        frames.append(pl.DataFrame({"src": src, "dst": dst, "kind": edge_kind}))
    frames.append(
        pl.DataFrame(
            {"src": ents, "dst": np.char.add("address:", np.arange(n).astype(str))}
        ).with_columns(kind=pl.lit("address"))
    )
    hubs = rng.integers(0, 300, n // 3)
    frames.append(
        pl.DataFrame(
            {"src": ents[: n // 3], "dst": np.char.add("ip:", hubs.astype(str))}
        ).with_columns(kind=pl.lit("ip"))
    )
    ties = pl.concat(frames, how="diagonal").with_columns(
        month=pl.lit(_month(months)), amount_fen=pl.lit(None, pl.Int64)
    )
    buyers = rng.integers(0, n, (n, 2))
    invoices = pl.DataFrame(
        {
            "src": np.repeat(ents, 2),
            "dst": ents[buyers.ravel()],
            "kind": "invoice",
        }
    )
    monthly = pl.concat(
        [invoices.with_columns(month=pl.lit(_month(i))) for i in range(months)]
    ).with_columns(amount_fen=pl.lit(1_000_000, pl.Int64))
    edges = pl.concat([ties, monthly], how="diagonal").with_columns(
        last_month=pl.col("month"), source=pl.lit("bench")
    )
    nodes = (
        pl.concat([edges.select(node="src"), edges.select(node="dst")])
        .unique()
        .with_columns(
            kind=pl.col("node").str.split(":").list.first().replace({"E": "enterprise"}),
            label=pl.col("node"),
            first_month=pl.lit(_month(months)),
        )
    )
    facts = pl.DataFrame({"uscc": usccs}).with_columns(
        shared_contact_count=pl.lit(0),
        applications_30d=pl.lit(0),
        ring_id=pl.lit(None, pl.String),
        ring_score=pl.lit(None, pl.Float64),
        packaging_score=pl.lit(0.0),
        invoice_round_trip_ratio=pl.lit(0.0),
        round_trip=pl.lit(False),
        guarantee_circle=pl.lit(None, pl.String),
        circle_exposure_fen=pl.lit(None, pl.Int64),
        distressed=pl.lit(False),
        contagion_score=pl.lit(0.0),
        guarantors_in_distress=pl.lit(0),
        degree=pl.lit(0),
    )
    empty = {
        name: pl.DataFrame(schema=TABLES[name]) for name in ("rings", "circles", "round_trips")
    }
    return {"nodes": nodes, "edges": edges, "enterprise_facts": facts, **empty}


def scan_walk(edges: pl.DataFrame, centre: str) -> int:
    """The baseline: two ties out by filtering the whole edge table at each level."""
    first = edges.filter((pl.col("src") == centre) | (pl.col("dst") == centre))
    near = set(first["src"]) | set(first["dst"])
    second = edges.filter(pl.col("src").is_in(list(near)) | pl.col("dst").is_in(list(near)))
    return second.height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--enterprises", type=int, default=200_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--lookups", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(20260301)
    frames = synthetic(args.enterprises, args.months, rng)
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "2026-03"
        report = BuildReport(
            format_version=FORMAT_VERSION,
            as_of=AS_OF,
            built_at=datetime.now(UTC),
            key_id="bench",
            counts={k: v.height for k, v in frames.items()},
            anomalies=Anomalies(),
            seconds=0.0,
        )
        write_snapshot(folder, report, frames)
        print(f"snapshot: {frames['nodes'].height:,} nodes, {frames['edges'].height:,} edge rows")
        started = time.perf_counter()
        snapshot = load_snapshot(folder)
        print(f"load and index once: {time.perf_counter() - started:.2f} s")
        centres = [f"9133{i:014d}" for i in rng.integers(0, args.enterprises, args.lookups)]
        neighbourhood(snapshot, centres[-1])  # warm-up: Polars' first calls compile kernels
        indexed: list[float] = []
        for uscc in centres:
            started = time.perf_counter()
            hood = neighbourhood(snapshot, uscc)
            indexed.append((time.perf_counter() - started) * 1000)
            if hood is None:
                raise SystemExit(f"{uscc} is missing from the synthetic graph")
        edges = pl.read_parquet(folder / "edges.parquet")
        scanned: list[float] = []
        for uscc in centres[: max(10, args.lookups // 10)]:
            started = time.perf_counter()
            scan_walk(edges, "E:" + uscc)
            scanned.append((time.perf_counter() - started) * 1000)
    for name, times in (("neighbourhood (indexed)", indexed), ("baseline: scan walk", scanned)):
        ordered = sorted(times)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(
            f"{name}: median {statistics.median(times):.2f} ms, p99 {p99:.2f} ms (n={len(times)})"
        )
    print(
        f"scan / indexed (medians): {statistics.median(scanned) / statistics.median(indexed):.1f}x"
    )


if __name__ == "__main__":
    main()
