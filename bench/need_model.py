"""The need model on a market it was not trained on: timing, amount, floors (issue #16).

Usage:
    PYTHONPATH=src .venv/bin/python bench/need_model.py --train-market DIR --market DIR
        --as-of YYYY-MM [--out-model DIR] [--seed 7]

Trains on ``--train-market`` as of the month (snapshots t with t + 3 <= as-of), scores every
enterprise of ``--market`` (another seed) as of the same month from its pre-consent tables,
and compares with that market's ``truth/need_events`` in the three months after (docs/
benchmarks.md, "Need model (demand identification)"). The truth is read only here, to score.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

import polars as pl

from puhui.risk.features import MarketTables
from puhui.risk.need import PRE_CONSENT_SOURCES, need_features, train_need_model
from puhui.risk.need.evaluate import evaluate_need_model


def _month(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def _tables(market: Path) -> MarketTables:
    return MarketTables.from_dir(market, names=sorted(PRE_CONSENT_SOURCES), optional=())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-market", type=Path, required=True)
    parser.add_argument("--market", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--out-model", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    as_of = _month(args.as_of)
    started = time.perf_counter()
    events = pl.scan_parquet(str(args.train_market / "truth" / "need_events" / "*.parquet"))
    model = train_need_model(_tables(args.train_market), events, as_of, seed=args.seed)
    trained = time.perf_counter()
    if args.out_model:
        model.save(args.out_model)
    features = need_features(_tables(args.market), as_of)
    held_out = pl.scan_parquet(str(args.market / "truth" / "need_events" / "*.parquet"))
    evaluation = evaluate_need_model(model, features, held_out, as_of)
    done = time.perf_counter()
    report = {
        "model_id": model.model_id,
        "training": dict(model.metrics),
        "floor_ratio": model.floor_ratio,
        "margin_slope": model.start.margin_slope,
        "held_out": evaluation.to_dict(),
        "train_seconds": round(trained - started, 1),
        "score_seconds": round(done - trained, 1),
    }
    print(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
