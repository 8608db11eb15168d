"""Post-loan monitoring on a held-out market: recall@3m, alert rate, lead time, precision.

Two markets of the same size and months, different seeds: the behavioural model (and the
origination baseline) are trained on the training market's public tables; the monitoring
kernel runs month by month on the evaluated market exactly as ``puhui monitor backtest`` does
(every enterprise filing tax is a customer, data known at each month's end). The evaluated
market's ``truth/`` is read only here, to score:

- **recall@3m**: among enterprises whose default month D lies in [from + 3, to], the share with
  an alert in a month of [D - 12, D - 3] (also shown for D ≥ from + 12, a full look-back);
- **alert rate**: alert rows over customer-months;
- **lead time**: months from the first alert in [D - 12, D] to D, median over the detected;
- **precision**: enterprises alerted in a month M ≤ to - 12 that default in (M, M + 12]
  (enterprise level: the first such alert; and per alert row).

Baselines in the same run, on the same customer-months: **DPD-only** (an alert whenever the
book's days past due are ≥ 1) and the **origination score** (the market origination model of
``risk/market_training.py``, trained on the training market, alerting above the PD threshold
that gives the behavioural pipeline's alert rate), both re-scored each month on the month's
data and frozen at its first score in the window (as a lender holds an origination score).

    PYTHONPATH=src .venv/bin/python bench/bench_monitoring.py \
        --enterprises 30000 --months 48 --train-seed 21 --eval-seed 12 --from 2022-07 --to 2024-12
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from puhui.decision.triggers import load_shipped_triggers, load_triggers
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams, parse_month
from puhui.pipelines.monitoring_inputs import (
    evaluate_alerts,
    monitoring_inputs,
    month_of,
    months_between,
    open_market,
)
from puhui.risk.artefact import ModelKind
from puhui.risk.behaviour import load_behaviour_model, train_behaviour_model
from puhui.risk.features import month_index
from puhui.risk.market_training import train_on_market
from puhui.risk.scorer import scorer_for
from puhui.risk.training import scoring_frame


def _months(a: pl.Expr) -> pl.Expr:
    return a.dt.year().cast(pl.Int32) * 12 + a.dt.month().cast(pl.Int32) - 1


def score(
    alerts: pl.DataFrame,
    customer_months: int,
    truth: pl.DataFrame,
    first: date,
    last: date,
) -> dict[str, float | int | None]:
    """The measures of one alert set: ``alerts`` has ``uscc`` and ``month`` (first days);
    ``truth`` has ``uscc`` and ``default_month`` (null when none)."""
    f, t = month_index(first), month_index(last)
    hits = alerts.select("uscc", _months(pl.col("month")).alias("m")).unique()
    defaults = truth.filter(pl.col("default_month").is_not_null()).select(
        "uscc", _months(pl.col("default_month")).alias("d")
    )

    def recall(earliest: int) -> tuple[float | None, int]:
        pool = defaults.filter(pl.col("d").is_between(earliest, t))
        if pool.height == 0:
            return None, 0
        caught = (
            pool.join(hits, on="uscc")
            .filter(pl.col("m").is_between(pl.col("d") - 12, pl.col("d") - 3))
            .select("uscc")
            .unique()
            .height
        )
        return caught / pool.height, pool.height

    recall_all, pool_all = recall(f + 3)
    recall_full, pool_full = recall(f + 12)
    first_alert = (
        defaults.filter(pl.col("d").is_between(f + 3, t))
        .join(hits, on="uscc")
        .filter(pl.col("m").is_between(pl.col("d") - 12, pl.col("d")))
        .group_by("uscc", "d")
        .agg(pl.col("m").min().alias("first"))
    )
    leads = (first_alert["d"] - first_alert["first"]).to_list()
    observable = hits.filter(pl.col("m") <= t - 12)
    with_outcome = observable.join(defaults, on="uscc", how="left").with_columns(
        ((pl.col("d") > pl.col("m")) & (pl.col("d") <= pl.col("m") + 12)).fill_null(False)
        .alias("bad")
    )  # fmt: skip
    first_rows = with_outcome.sort("m").group_by("uscc").first()
    return {
        "customer_months": customer_months,
        "alert_rows": hits.height,
        "alert_rate": hits.height / customer_months if customer_months else None,
        "defaults_scored": pool_all,
        "recall_3m": recall_all,
        "defaults_full_lookback": pool_full,
        "recall_3m_full_lookback": recall_full,
        "median_lead_months": statistics.median(leads) if leads else None,
        "precision_enterprises": float(first_rows["bad"].mean()) if first_rows.height else None,
        "alerted_enterprises_scored": first_rows.height,
        "precision_alert_rows": float(with_outcome["bad"].mean()) if with_outcome.height else None,
    }


def _generate(size: int, months: int, start: str, seed: int, out: Path) -> Path:
    if not (out / "manifest.json").is_file():
        params = MarketParams(enterprises=size, months=months, start=parse_month(start), seed=seed)
        generate_market(params, out, workers=1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=30_000)
    parser.add_argument("--train-enterprises", type=int, default=120_000)
    parser.add_argument("--months", type=int, default=48)
    parser.add_argument("--start", default="2021-01")
    parser.add_argument("--train-seed", type=int, default=21)
    parser.add_argument("--eval-seed", type=int, default=12)
    parser.add_argument("--from", dest="first", default="2022-07")
    parser.add_argument("--to", dest="last", default="2024-12")
    parser.add_argument(
        "--work", type=Path, default=Path(tempfile.gettempdir()) / "puhui-bench-monitoring"
    )
    parser.add_argument("--triggers", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="Write the figures here too.")
    args = parser.parse_args()
    started = time.perf_counter()
    work: Path = args.work
    train_market = _generate(
        args.train_enterprises, args.months, args.start, args.train_seed,
        work / f"market-{args.train_enterprises}-{args.train_seed}",
    )  # fmt: skip
    eval_market = _generate(
        args.enterprises, args.months, args.start, args.eval_seed,
        work / f"market-{args.enterprises}-{args.eval_seed}",
    )  # fmt: skip
    generated = time.perf_counter()
    model_dir = work / f"behaviour-{args.train_enterprises}-{args.train_seed}"
    if not (model_dir / "behaviour.json").is_file():
        train_behaviour_model(train_market, trained_at=datetime.now(UTC), out=model_dir)
    model = load_behaviour_model(model_dir)
    last_train = parse_month(args.start)
    origination = train_on_market(
        train_market,
        date(last_train.year + (last_train.month - 1 + args.months) // 12,
             (last_train.month - 1 + args.months) % 12 + 1, 1),
        ModelKind.GBM,
        trained_at=datetime.now(UTC),
    ).artefact  # fmt: skip
    origination_scorer = scorer_for(origination.model)

    def origination_pd(features: pl.DataFrame) -> pl.Series:
        matrix = origination_scorer.matrix(scoring_frame(origination, features))
        return pl.Series(origination_scorer.predict_pd(matrix))

    trained = time.perf_counter()
    triggers = load_shipped_triggers() if args.triggers is None else load_triggers(args.triggers)
    tables = open_market(eval_market)
    first, last = month_of(args.first), month_of(args.last)
    frames = []
    alerts = []
    for month in months_between(first, last):
        inputs = monitoring_inputs(
            tables, month, model=model, scores={"origination_score_pd": origination_pd}
        )
        frames.append(
            inputs.select("customer_id", "days_past_due", "origination_score_pd").with_columns(
                pl.lit(month).alias("month")
            )
        )
        alerts.append(evaluate_alerts(inputs, triggers).with_columns(pl.lit(month).alias("month")))
        print(f"{month:%Y-%m}: {inputs.height} customers, {alerts[-1].height} alerts", flush=True)
    monitored = time.perf_counter()
    rows = pl.concat(frames).rename({"customer_id": "uscc"})
    pipeline = pl.concat(alerts).rename({"customer_id": "uscc"})
    truth = pl.read_parquet(eval_market / "truth" / "enterprises_truth" / "*.parquet").select(
        "uscc", "default_month"
    )
    results = {"behavioural_pipeline": score(pipeline, rows.height, truth, first, last)}
    results["dpd_only"] = score(
        rows.filter(pl.col("days_past_due") >= 1), rows.height, truth, first, last
    )
    rate = results["behavioural_pipeline"]["alert_rate"] or 0.0
    threshold = rows.get_column("origination_score_pd").quantile(1.0 - rate, "higher")
    results["origination_score"] = score(
        rows.filter(pl.col("origination_score_pd") >= threshold), rows.height, truth, first, last
    )
    # The origination score as a lender holds it: computed once (the window's first month, or
    # the enterprise's first month in it) and not updated, thresholded to the same alert rate.
    frozen = rows.join(
        rows.sort("month")
        .group_by("uscc")
        .agg(pl.col("origination_score_pd").first().alias("frozen_pd")),
        on="uscc",
    )
    frozen_threshold = frozen.get_column("frozen_pd").quantile(1.0 - rate, "higher")
    results["origination_score_frozen"] = score(
        frozen.filter(pl.col("frozen_pd") >= frozen_threshold), rows.height, truth, first, last
    )
    codes = (
        pipeline.select(pl.col("codes").str.split(";")).explode("codes").group_by("codes").len()
        .with_columns((pl.col("len") / rows.height).alias("rate")).sort("len", descending=True)
    )  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "command": " ".join(sys.argv),
        "evaluated_market": str(eval_market),
        "training_market": str(train_market),
        "behavioural_model": model.info,
        "behavioural_model_out_of_sample": model.artefact.metadata.metrics.get("out_of_sample"),
        "origination_threshold_pd": threshold,
        "results": results,
        "codes": codes.to_dicts(),
        "seconds": {
            "generate": round(generated - started, 1),
            "train": round(trained - generated, 1),
            "monitor": round(monitored - trained, 1),
        },
        "peak_rss_mib": round(peak),
    }
    text = json.dumps(report, indent=1, default=str)
    print(text)
    if args.json is not None:
        args.json.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
