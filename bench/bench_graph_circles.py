"""Guarantee circles on dense circles: the cycle search stops at its caps.

Usage: .venv/bin/python bench/bench_graph_circles.py [--members 30 200]

For each size, every member guarantees every other (a complete directed graph: the worst
circle there is, with more short cycles than can be listed). Printed: guarantees, the time of
``detect_circles``, whether the exposure equals the exact sum, and the cycles kept.
"""

from __future__ import annotations

import argparse
import time

import polars as pl

from puhui.graph.circles import detect_circles


def complete(n: int) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
    amounts = [1_000 * a + b + 1 for a, b in pairs]
    guarantees = pl.DataFrame(
        {
            "src": pl.Series([a for a, _ in pairs], dtype=pl.UInt32),
            "dst": pl.Series([b for _, b in pairs], dtype=pl.UInt32),
            "amount_fen": amounts,
        }
    )
    index = pl.DataFrame(
        {"eid": pl.Series(range(n), dtype=pl.UInt32), "uscc": [f"9133{i:014d}" for i in range(n)]}
    )
    return guarantees, index, sum(amounts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, nargs="+", default=[30, 200])
    args = parser.parse_args()
    none = pl.DataFrame({"eid": pl.Series([], dtype=pl.UInt32)})
    for n in args.members:
        guarantees, index, total = complete(n)
        started = time.perf_counter()
        found = detect_circles(guarantees, index, none)
        seconds = time.perf_counter() - started
        row = found.circles.row(0, named=True)
        print(
            f"{n} members, {guarantees.height} guarantees: {seconds * 1000:.1f} ms, "
            f"exposure exact: {row['exposure_fen'] == total}, cycles kept: {len(row['cycles'])}"
        )


if __name__ == "__main__":
    main()
