"""The need model on a market it was not trained on: timing, amount, floors (issue #16).

Usage:
    PYTHONPATH=src .venv/bin/python bench/need_model.py (--train-market DIR | --model DIR)
        --market DIR --as-of YYYY-MM [--out-model DIR] [--seed 7]

Trains on ``--train-market`` as of the month (snapshots t with t + 3 <= as-of), scores every
enterprise of ``--market`` (another seed) as of the same month from its pre-consent tables,
and compares with that market's ``truth/need_events`` in the three months after (docs/
benchmarks.md, "Need model (demand identification)"). The truth is read only here, to score
and to rank by the generator's own hidden need chance (the ceiling any model can reach).
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import date
from pathlib import Path

import polars as pl

from puhui.risk.features import MarketTables
from puhui.risk.need import PRE_CONSENT_SOURCES, NeedModel, need_features, train_need_model
from puhui.risk.need.evaluate import evaluate_need_model, top_share
from puhui.risk.need.labels import need_labels


def _month(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def _tables(market: Path) -> MarketTables:
    return MarketTables.from_dir(market, names=sorted(PRE_CONSENT_SOURCES), optional=())


def oracle_top_share(market: Path, features: pl.DataFrame, as_of: date) -> dict[str, float]:
    """The ceiling: ranking by the market's own need chance from its hidden state (truth).

    The generator's monthly chance is 0.022 × 1.9 in a season month × 1.4 when health is well
    above the firm's base, plus 0.15 in distress, for live firms not in default and not shells
    (``market.simulation.demand``); no model can rank better than this on average.
    """
    truth = market / "truth"
    state = pl.scan_parquet(str(truth / "monthly_truth" / "*.parquet")).filter(
        pl.col("month") == as_of
    )
    statics = pl.scan_parquet(str(truth / "enterprises_truth" / "*.parquet")).select(
        "uscc", "base_health", "is_shell"
    )
    thriving = pl.col("latent_health") > pl.col("base_health") + 0.3
    seasonal = pl.col("season_months_ahead") / 3.0
    chance = 0.022 * (1.0 + 0.9 * seasonal) * pl.when(thriving).then(1.4).otherwise(1.0) + (
        0.15 * pl.col("in_distress").cast(pl.Float64)
    )
    ineligible = pl.col("in_default") | pl.col("is_shell") | pl.col("latent_health").is_null()
    ranked = (
        features.lazy()
        .select("uscc", "season_months_ahead")
        .join(state, on="uscc", how="left")
        .join(statics, on="uscc", how="left")
        .select("uscc", pl.when(ineligible).then(0.0).otherwise(chance).alias("oracle"))
        .collect()
    )
    events = pl.scan_parquet(str(truth / "need_events" / "*.parquet"))
    labels = need_labels(events, as_of).join(features.select("uscc"), on="uscc")
    result = top_share(ranked, "oracle", labels)
    return {"precision": result.precision, "recall": result.recall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-market", type=Path)
    parser.add_argument("--model", type=Path, help="a saved need model instead of training")
    parser.add_argument("--market", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--out-model", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    as_of = _month(args.as_of)
    started = time.perf_counter()
    if args.model is not None:
        model = NeedModel.load(args.model)
    elif args.train_market is not None:
        events = pl.scan_parquet(str(args.train_market / "truth" / "need_events" / "*.parquet"))
        model = train_need_model(_tables(args.train_market), events, as_of, seed=args.seed)
    else:
        parser.error("give --train-market or --model")
    trained = time.perf_counter()
    if args.out_model:
        model.save(args.out_model)
    features = need_features(_tables(args.market), as_of)
    held_out = pl.scan_parquet(str(args.market / "truth" / "need_events" / "*.parquet"))
    evaluation = evaluate_need_model(model, features, held_out, as_of)
    done = time.perf_counter()
    ceiling = oracle_top_share(args.market, features, as_of)
    report = {
        "model_id": model.model_id,
        "training": dict(model.metrics),
        "floor_ratio": model.floor_ratio,
        "margin_slope": model.start.margin_slope,
        "held_out": evaluation.to_dict(),
        "oracle_top_decile": ceiling,
        "train_seconds": round(trained - started, 1),
        "score_seconds": round(done - trained, 1),
    }
    print(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    main()
