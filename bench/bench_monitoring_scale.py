"""The monitoring kernel over a large market: inputs -> behavioural PD -> triggers -> alerts.

One month of a generated market, every enterprise filing tax a customer (as the backtest
does): :func:`monitoring_inputs` in chunks of enterprises (the feature store's kernels and the
behavioural model on each chunk), then :func:`evaluate_alerts` (the trigger document through
its compiled function, one alert per customer). Reports wall time per stage and the process's
peak resident memory. The market is generated beforehand with the real simulator, e.g.

    puhui market generate -n 1000000 -m 24 --start 2023-01 --seed 31 \\
        --out /tmp/behaviour/market-1m --chunk-size 25000
    PYTHONPATH=src .venv/bin/python bench/bench_monitoring_scale.py \\
        --market /tmp/behaviour/market-1m --model DIR --month 2024-12
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import time
from pathlib import Path

import polars as pl

from puhui.decision.triggers import load_shipped_triggers
from puhui.pipelines.monitoring_inputs import (
    DEFAULT_CHUNK_SIZE,
    active_enterprises,
    evaluate_alerts,
    monitoring_inputs,
    month_of,
    open_market,
)
from puhui.risk.behaviour import load_behaviour_model
from puhui.risk.features import ENTERPRISES, month_start_plus


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--market", type=Path, required=True)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument(
        "--every-enterprise",
        action="store_true",
        help="Every enterprise registered by the month's end is a customer (also the closed "
        "ones), instead of those filing tax in the last 3 months.",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    month = month_of(args.month)
    started = time.perf_counter()
    tables = open_market(args.market)
    model = load_behaviour_model(args.model)
    triggers = load_shipped_triggers()
    book = None
    if args.every_enterprise:
        book = (
            tables[ENTERPRISES]
            .filter(pl.col("registration_date") < month_start_plus(month, 1))
            .select("uscc")
            .collect()
        )
        customers = book.height
    else:
        customers = len(active_enterprises(tables, month))
    loaded = time.perf_counter()
    inputs = monitoring_inputs(
        tables, month, customers=book, model=model, chunk_size=args.chunk_size
    )
    computed = time.perf_counter()
    alerts = evaluate_alerts(inputs, triggers)
    done = time.perf_counter()
    report = {
        "market": str(args.market),
        "month": args.month,
        "customers_are": "every enterprise" if args.every_enterprise else "filing in 3 months",
        "customers": customers,
        "rows": inputs.height,
        "alerts": alerts.height,
        "alert_rate": round(alerts.height / inputs.height, 4) if inputs.height else None,
        "chunk_size": args.chunk_size,
        "seconds": {
            "open_and_list_customers": round(loaded - started, 1),
            "inputs_and_behavioural_pd": round(computed - loaded, 1),
            "triggers_and_alert_rule": round(done - computed, 1),
            "total": round(done - started, 1),
        },
        "peak_rss_mib": round(_peak_mib()),
    }
    text = json.dumps(report, indent=1)
    print(text)
    if args.json is not None:
        args.json.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
