"""Speed and memory of ``puhui graph build`` on a large market (the bar: 1M x 36 in 10 min, 8 GB).

Usage:
    PYTHONPATH=src .venv/bin/python bench/graph_build.py --market /tmp/graph-1m --as-of 2025-12
        [--out /tmp/graph-1m-graph]

The build runs in a subprocess under ``/usr/bin/time -v`` (wall time, CPU time, peak RSS).
The baseline, run by this process on the same machine state, reads every invoice row up to
the as-of month and sums them by seller with Polars' streaming engine: the I/O floor of any
build that has to look at every invoice. The ratio build / baseline is comparable across busy
and quiet machines; the step times come from the build's own log.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

from puhui.graph.sources import parse_as_of

_BUILD = """
import logging, sys
from pathlib import Path
logging.basicConfig(level=logging.INFO, format="%(message)s")
from puhui.bootstrap.settings import Settings
from puhui.graph.build import build
from puhui.graph.sources import parse_as_of
key = Settings().graph_identifier_key()
print(build(Path(sys.argv[1]), parse_as_of(sys.argv[2]), Path(sys.argv[3]), key=key).to_json())
"""


def baseline_seconds(market: Path, as_of: str) -> float:
    started = time.perf_counter()
    (
        pl.scan_parquet(f"{market}/tables/invoices/*.parquet")
        .filter(pl.col("month") <= parse_as_of(as_of))
        .group_by("seller_uscc")
        .agg(pl.col("amount_fen").sum())
        .collect(engine="streaming")
    )
    return time.perf_counter() - started


def run_build(market: Path, as_of: str, out: Path) -> dict[str, object]:
    command = ["/usr/bin/time", "-v", sys.executable, "-c", _BUILD, str(market), as_of, str(out)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    err = done.stderr

    def field(name: str) -> str:
        match = re.search(rf"{re.escape(name)}: (.+)", err)
        return match.group(1).strip() if match else ""

    wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(p) for p in wall.split(":")]
    seconds = sum(p * 60**i for i, p in enumerate(reversed(parts)))
    report = json.loads(done.stdout)
    return {
        "wall_seconds": round(seconds, 1),
        "cpu_seconds": round(
            float(field("User time (seconds)")) + float(field("System time (seconds)")), 1
        ),
        "peak_rss_gb": round(int(field("Maximum resident set size (kbytes)")) / 1024**2, 2),
        "steps": re.findall(r"graph step (.+): ([0-9.]+) s", err),
        "counts": report["counts"],
        "anomalies": report["anomalies"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--market", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--out", type=Path, default=Path("/tmp/graph-bench-out"))
    args = parser.parse_args()
    base = baseline_seconds(args.market, args.as_of)
    result = run_build(args.market, args.as_of, args.out)
    result["baseline_seconds"] = round(base, 1)
    result["ratio_to_baseline"] = round(float(str(result["wall_seconds"])) / base, 1)
    result["bar_10_min_8_gb"] = (
        float(str(result["wall_seconds"])) <= 600 and float(str(result["peak_rss_gb"])) <= 8.0
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
