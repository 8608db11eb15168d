"""Contagion uplift: the default model's held-out AUC with the relationship graph's features
against without, on the same split.

Usage: .venv/bin/python bench/graph_uplift.py [--train-enterprises 60000]
           [--eval-enterprises 60000] [--train-seed 11] [--eval-seed 12] [--as-of 2025-12]
           [--workdir /tmp/graph-uplift] [--kinds gbm] [--variants enterprise,application]
           [--bootstrap 200]

The split is the repo's held-out market (as ``bench/bench_heldout.py``): the model is trained
on one generated market (``--train-seed``) and scored on another (``--eval-seed``), never seen
in training; markets are generated into ``--workdir`` unless there. Each model is trained by
``puhui.risk.market_training.train_on_market`` — the default market model — once as it is and
once with ``augment`` adding ``puhui.graph.features.with_graph_features`` (the graph of the
month before origination, point in time). Both score the same held-out loans. The difference
comes with a paired bootstrap interval over the held-out loans (the same resample for both),
and the AUCs are also given on the loans whose firm had a graph neighbour in distress (where
contagion can show). ``truth/`` is read only to count the held-out bad loans whose default the
generator's contagion caused or hastened (``truth/contagion_events``, when the market has it).
"""

from __future__ import annotations

import argparse
import time
import warnings
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.graph.features import GRAPH_FEATURE_NAMES, GRAPH_MONOTONE_RISK, with_graph_features
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.risk.artefact import ModelArtefact, ModelKind
from puhui.risk.features import MarketTables, labelled_dataset
from puhui.risk.market_training import train_on_market
from puhui.risk.metrics import auc
from puhui.risk.scorer import scorer_for
from puhui.risk.training import scoring_frame

VARIANTS = ("enterprise", "application")
GRAPH_TABLES = ("guarantees",)


def _market(workdir: Path, enterprises: int, seed: int, start: date, months: int) -> Path:
    folder = workdir / f"seed{seed}_{enterprises}"
    if not (folder / "manifest.json").is_file():
        started = time.perf_counter()
        params = MarketParams(enterprises=enterprises, months=months, start=start, seed=seed)
        generate_market(params, folder, overwrite=True)
        print(f"generated {folder} in {time.perf_counter() - started:.0f} s")
    return folder


def _tables(market: Path) -> MarketTables:
    return MarketTables.from_dir(market, optional=("applications", *GRAPH_TABLES))


def _score(artefact: ModelArtefact, frame: pl.DataFrame) -> npt.NDArray[np.float64]:
    scorer = scorer_for(artefact.model)
    return scorer.predict_pd(scorer.matrix(scoring_frame(artefact, frame)))


def _paired_interval(
    y: npt.NDArray[np.int8],
    without: npt.NDArray[np.float64],
    with_graph: npt.NDArray[np.float64],
    rounds: int,
) -> tuple[float, float]:
    """95 % interval of AUC(with) - AUC(without) over bootstrap resamples of the loans."""
    rng = np.random.default_rng(2029)
    diffs = []
    for _ in range(rounds):
        pick = rng.integers(0, len(y), len(y))
        if 0 < y[pick].sum() < len(pick):
            diffs.append(auc(y[pick], with_graph[pick]) - auc(y[pick], without[pick]))
    low, high = np.percentile(diffs, [2.5, 97.5])
    return float(low), float(high)


def _contagion_bads(market: Path, validation: pl.DataFrame) -> int | None:
    """Held-out bad loans whose firm's default came from a partner's (the generator's truth)."""
    folder = market / "truth" / "contagion_events"
    if not folder.is_dir():
        return None
    events = pl.read_parquet(folder / "*.parquet").select("uscc", pl.col("month").alias("d"))
    hit = validation.filter(pl.col("bad") == 1).join(events, on="uscc")
    in_horizon = (pl.col("d") >= pl.col("origination_month")) & (
        pl.col("d") < pl.col("origination_month").dt.offset_by("12mo")
    )
    return hit.filter(in_horizon).height


def _month(text: str) -> date:
    year, month = (int(part) for part in text.split("-"))
    return date(year, month, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-enterprises", type=int, default=60_000)
    parser.add_argument("--eval-enterprises", type=int, default=60_000)
    parser.add_argument("--train-seed", type=int, default=11)
    parser.add_argument("--eval-seed", type=int, default=12)
    parser.add_argument("--start", default="2023-01")
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--as-of", default="2025-12")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/graph-uplift"))
    parser.add_argument("--kinds", default="gbm")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--bootstrap", type=int, default=200)
    args = parser.parse_args()
    start, as_of = _month(args.start), _month(args.as_of)
    kinds = [ModelKind(k) for k in args.kinds.split(",") if k]
    variants = [v for v in args.variants.split(",") if v]
    if set(variants) - set(VARIANTS):
        parser.error(f"variants are {VARIANTS}")

    args.workdir.mkdir(parents=True, exist_ok=True)
    train_market = _market(
        args.workdir, args.train_enterprises, args.train_seed, start, args.months
    )
    eval_market = _market(args.workdir, args.eval_enterprises, args.eval_seed, start, args.months)
    train_tables, eval_tables = _tables(train_market), _tables(eval_market)

    started = time.perf_counter()
    validation = with_graph_features(
        eval_tables.frames, labelled_dataset(eval_tables, as_of, with_applications=True)
    )
    print(f"held-out sample: {validation.height:,} loans in {time.perf_counter() - started:.0f} s")
    y = validation.get_column("bad").to_numpy()
    exposed = (
        validation.select(
            (pl.col("graph_guarantors_distressed") > 0)
            | (pl.col("graph_guaranteed_distressed") > 0)
            | (pl.col("graph_circle_distressed_share") > 0)
            | (pl.col("graph_main_partner_distressed") > 0)
        )
        .to_series()
        .to_numpy()
    )
    augment_seconds: list[float] = []

    def augment(sample: pl.DataFrame) -> pl.DataFrame:
        began = time.perf_counter()
        frame = with_graph_features(train_tables.frames, sample)
        augment_seconds.append(time.perf_counter() - began)
        return frame

    rows = []
    for variant in variants:
        for kind in kinds:
            scores = {}
            for graph in (False, True):
                began = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    trained = train_on_market(
                        train_market,
                        as_of,
                        kind,
                        trained_at=datetime.now(UTC),
                        with_applications=variant == "application",
                        augment=augment if graph else None,
                        augment_monotone=GRAPH_MONOTONE_RISK if graph else None,
                    )
                used = [n for n in trained.artefact.model.feature_names if n in GRAPH_FEATURE_NAMES]
                scores[graph] = _score(trained.artefact, validation)
                print(
                    f"{variant} {kind.value} graph={graph}: {trained.sample.height:,} training "
                    f"loans ({int(trained.sample.get_column('bad').sum()):,} bad), "
                    f"{len(trained.artefact.model.feature_names)} features "
                    f"({len(used)} graph), {time.perf_counter() - began:.0f} s"
                )
            low, high = _paired_interval(y, scores[False], scores[True], args.bootstrap)
            rows.append((variant, kind.value, scores[False], scores[True], low, high))

    print()
    print(
        f"train seed {args.train_seed} x {args.train_enterprises:,}, held-out seed "
        f"{args.eval_seed} x {args.eval_enterprises:,}, as of {as_of:%Y-%m}: {len(y):,} "
        f"held-out loans ({int(y.sum()):,} bad); {int(exposed.sum()):,} with a graph neighbour "
        f"in distress ({int(y[exposed].sum()):,} bad); graph features of the training sample "
        f"in {sum(augment_seconds):.1f} s; held-out bad loans from contagion (truth): "
        f"{_contagion_bads(eval_market, validation)}"
    )
    print(
        "| features | model | AUC without graph | AUC with graph | difference | 95 % interval "
        "| exposed loans: without | with |"
    )
    print("| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |")
    for variant, kind, without, with_graph, low, high in rows:
        base, lifted = auc(y, without), auc(y, with_graph)
        if 0 < y[exposed].sum() < exposed.sum():
            pair = (auc(y[exposed], without[exposed]), auc(y[exposed], with_graph[exposed]))
            sub = f"{pair[0]:.4f} | {pair[1]:.4f}"
        else:
            sub = "- | -"
        print(
            f"| {variant} | {kind} | {base:.4f} | {lifted:.4f} | {lifted - base:+.4f} "
            f"| [{low:+.4f}, {high:+.4f}] | {sub} |"
        )


if __name__ == "__main__":
    main()
