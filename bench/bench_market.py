"""Benchmark of the market generator: wall time and peak memory (whole process tree).

Usage:
    .venv/bin/python bench/bench_market.py [--enterprises 100000] [--months 36]
        [--workers 2] [--chunk-size 20000] [--out /tmp/bench_market] [--skip-baseline]

Each run happens in a fresh subprocess; a sampler sums the RSS of that process and its
worker processes every 0.1 s, so "peak RSS" is the peak of the whole tree. The baseline,
run in the same process and on the same machine state, writes the same number of rows of
random integers to Parquet with NumPy + Polars: an I/O-and-allocation floor that makes
the ratio comparable across busy and quiet machines.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl

_GEN = """
import sys
from datetime import date
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
n, m, w, c, out, profile = sys.argv[1:7]
p = MarketParams(int(n), int(m), date(2023, 1, 1), 20231, profile)
manifest = generate_market(p, out, chunk_size=int(c), workers=int(w), overwrite=True)
print(manifest["content_hash"])
"""


def _tree_rss_bytes(root: int) -> int:
    """Sum of VmRSS over ``root`` and its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def run_generator(
    n: int, months: int, workers: int, chunk: int, out: Path, profile: str = "baseline"
) -> tuple[float, int, str, float]:
    """Wall seconds, peak tree RSS bytes, content hash, CPU seconds of the whole tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _GEN,
            str(n),
            str(months),
            str(workers),
            str(chunk),
            str(out),
            profile,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_bytes(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = proc.communicate()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"generator failed with exit code {proc.returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, peak, stdout.strip(), cpu


def baseline_floor(rows: int, out: Path) -> float:
    """Write ``rows`` rows x 8 random Int64 columns to Parquet in 20 parts."""
    started = time.perf_counter()
    rng = np.random.default_rng(0)
    out.mkdir(parents=True, exist_ok=True)
    per = max(rows // 20, 1)
    for part in range(20):
        frame = pl.DataFrame({f"c{i}": rng.integers(0, 10**9, per) for i in range(8)})
        frame.write_parquet(out / f"part-{part}.parquet", compression="zstd", compression_level=1)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--enterprises", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk-size", type=int, default=20_000)
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench_market"))
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()

    print(f"machine: {os.cpu_count()} cpus, load average {os.getloadavg()}")
    seconds, peak, digest, cpu = run_generator(
        args.enterprises, args.months, args.workers, args.chunk_size, args.out / "market"
    )
    manifest = json.loads((args.out / "market" / "manifest.json").read_text())
    rows = sum(t["rows"] for t in manifest["tables"].values())
    size = sum(p.stat().st_size for p in (args.out / "market").rglob("*.parquet"))
    print(
        f"market {args.enterprises:,} x {args.months} months, workers={args.workers}, "
        f"chunk={args.chunk_size:,}: {seconds:.1f} s, peak RSS {peak / 2**30:.2f} GiB, "
        f"{rows:,} rows, {size / 2**20:.0f} MiB on disk, {rows / seconds:,.0f} rows/s"
    )
    print(
        f"CPU time of the process tree {cpu:.1f} s; on {args.workers} free cores the wall "
        f"time would be about {cpu / args.workers:.1f} s "
        f"(load average now {os.getloadavg()[0]:.1f})"
    )
    print(f"content hash {digest}")
    if not args.skip_baseline:
        floor = baseline_floor(rows, args.out / "floor")
        print(f"baseline (same rows of random Int64 x 8 to Parquet): {floor:.1f} s")
        print(f"ratio market / baseline: {seconds / floor:.2f}x")
        small = max(args.enterprises // 5, 1_000)
        one, _, h1, _ = run_generator(small, args.months, 1, args.chunk_size, args.out / "w1")
        two, _, h2, _ = run_generator(small, args.months, 2, args.chunk_size // 2, args.out / "w2")
        print(
            f"scaling at {small:,} enterprises: 1 worker {one:.1f} s, 2 workers {two:.1f} s "
            f"(speed-up {one / two:.2f}x); same content: {h1 == h2}"
        )
    shutil.rmtree(args.out, ignore_errors=True)


if __name__ == "__main__":
    main()
