"""What the relationship graph's inputs cost the monitoring kernel on a large market.

Usage: .venv/bin/python bench/graph_inputs_scale.py --market DIR --month YYYY-MM
           [--model DIR] [--skip-kernel]

Times, in one process on one month: ``graph_inputs`` alone (the graph facts of every firm with
a guarantee or trade partner: the invoices of 12 months grouped by pair, the distress of the
month and the month before, circles, contagion), then the whole ``monitoring_inputs`` kernel
(which computes the graph inputs once more, among the rest), with the peak RSS after each.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from puhui.pipelines.monitoring_inputs import (
    graph_inputs,
    monitoring_inputs,
    month_of,
    open_market,
)
from puhui.risk.behaviour import load_behaviour_model


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--market", type=Path, required=True)
    parser.add_argument("--month", required=True)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--skip-kernel", action="store_true")
    args = parser.parse_args()
    tables = open_market(args.market)
    month = month_of(args.month)
    began = time.perf_counter()
    graph = graph_inputs(tables, month)
    graph_s = time.perf_counter() - began
    print(
        f"graph inputs {month:%Y-%m}: {graph.height:,} firms with a partner in {graph_s:.1f} s, "
        f"peak {_peak_mib():,.0f} MiB",
        flush=True,
    )
    if args.skip_kernel:
        return
    model = load_behaviour_model(args.model) if args.model is not None else None
    began = time.perf_counter()
    inputs = monitoring_inputs(tables, month, model=model)
    kernel_s = time.perf_counter() - began
    print(
        f"monitoring_inputs: {inputs.height:,} customers in {kernel_s:.1f} s (graph inputs "
        f"{graph_s / kernel_s:.0%} of it), peak {_peak_mib():,.0f} MiB"
    )


if __name__ == "__main__":
    main()
