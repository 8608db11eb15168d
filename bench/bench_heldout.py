"""Held-out market: train on one seed, evaluate on another, against the oracle (the models' bar).

Usage: .venv/bin/python bench/bench_heldout.py [--train-enterprises N] [--eval-enterprises N]
           [--train-seed 11] [--eval-seed 12] [--as-of 2025-12] [--workdir /tmp/heldout]
           [--variants enterprise,application] [--kinds gbm,scorecard]

Generates the two markets into --workdir unless they are there already (the generator is
deterministic per seed and size), builds the labelled samples from the markets' public
tables (the loan history, never ``truth/``), trains both kinds exactly as
``puhui model train-market`` does, and scores the held-out sample. ``truth/`` is read only
for the oracle AUC. The baseline in the same process is the enterprise-features model (what
``train-market`` trains); the application variant adds the features of the application each
loan was granted on. Bars: GBM AUC >= oracle AUC - 0.03; scorecard AUC >= GBM AUC - 0.02;
expected vs observed bad rate within 20 % in deciles with at least 100 bads.
"""

from __future__ import annotations

import argparse
import resource
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl
from sklearn.linear_model import LogisticRegression

from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.risk.artefact import ModelKind
from puhui.risk.dataset import prepare_training
from puhui.risk.features import (
    APPLICATION_FEATURE_NAMES,
    MONOTONE_RISK,
    MarketTables,
    labelled_dataset,
)
from puhui.risk.gbm import GbmConfig
from puhui.risk.market_oracle import oracle_pd
from puhui.risk.metrics import auc, calibration_by_decile
from puhui.risk.scorer import scorer_for
from puhui.risk.training import scoring_frame, train_model

VARIANTS = ("enterprise", "application")
ORACLE_MARGIN = 0.03
SCORECARD_MARGIN = 0.02
CALIBRATION_TOLERANCE = 0.20
MIN_BADS_TO_JUDGE = 100
TERMS = ("3", "6", "12", "24", "36")


@dataclass(frozen=True)
class Result:
    variant: str
    kind: str
    auc: float
    pd: npt.NDArray[np.float64]
    seconds: float
    n_features: int


def _market(workdir: Path, enterprises: int, seed: int, start: date, months: int) -> Path:
    folder = workdir / f"seed{seed}_{enterprises}"
    if not (folder / "manifest.json").is_file():
        started = time.perf_counter()
        params = MarketParams(enterprises=enterprises, months=months, start=start, seed=seed)
        generate_market(params, folder, overwrite=True)
        print(f"generated {folder} in {time.perf_counter() - started:.0f} s")
    return folder


def _labelled(market: Path, as_of: date) -> pl.DataFrame:
    """The sample with both feature sets (the enterprise variant ignores the extra columns)."""
    started = time.perf_counter()
    frame = labelled_dataset(MarketTables.from_dir(market), as_of, with_applications=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"labelled sample of {market.name}: {frame.height:,} loans "
        f"({int(frame.get_column('bad').sum()):,} bad) in {time.perf_counter() - started:.1f} s "
        f"(process peak {peak_mb:,.0f} MB)"
    )
    return frame


def _train_and_score(
    variant: str, kind: str, development: pl.DataFrame, validation: pl.DataFrame
) -> Result:
    excluded = ["origination_month"]
    if variant == "enterprise":
        excluded += list(APPLICATION_FEATURE_NAMES)
    prepared = prepare_training(development, target="bad", id_col="uscc", exclude=excluded)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optbinning's solver chatter
        artefact = train_model(
            prepared,
            ModelKind(kind),
            trained_at=datetime.now(UTC),
            target="bad",
            id_col="uscc",
            gbm_config=GbmConfig(monotone=MONOTONE_RISK),
        )
    scorer = scorer_for(artefact.model)
    pd = scorer.predict_pd(scorer.matrix(scoring_frame(artefact, validation)))
    y = validation.get_column("bad").to_numpy()
    return Result(
        variant,
        kind,
        auc(y, pd),
        pd,
        time.perf_counter() - started,
        len(artefact.model.feature_names),
    )


def _calibration(y: npt.NDArray[np.int8], pd: npt.NDArray[np.float64]) -> tuple[str, bool]:
    judged = [b for b in calibration_by_decile(y, pd) if b.n_bad >= MIN_BADS_TO_JUDGE]
    if not judged:
        return "no decile with 100 bads", True
    parts, holds = [], True
    for bucket in judged:
        error = abs(bucket.expected_bad_rate / bucket.observed_bad_rate - 1.0)
        holds &= error <= CALIBRATION_TOLERANCE
        parts.append(
            f"d{bucket.bucket} {bucket.expected_bad_rate:.1%} vs {bucket.observed_bad_rate:.1%}"
        )
    return "; ".join(parts), holds


def _by_term(
    validation: pl.DataFrame, oracle: npt.NDArray[np.float64], best: Result
) -> list[tuple[float, int, int, float, float]]:
    """Model and oracle AUC within each requested term: the part of the gain not due to the
    term bounding the exposure (a loan repaid before the decline never defaults)."""
    rows = []
    terms = validation.get_column("application_term").cast(pl.Float64).to_numpy()
    y = validation.get_column("bad").to_numpy()
    known = ~np.isnan(oracle)
    for term in np.unique(terms[~np.isnan(terms)]):
        mask = (terms == term) & known
        n_bad = int(y[mask].sum())
        if 0 < n_bad < mask.sum():
            rows.append(
                (float(term), int(mask.sum()), n_bad, auc(y[mask], best.pd[mask]),
                 auc(y[mask], oracle[mask]))
            )  # fmt: skip
    return rows


def _month(text: str) -> date:
    year, month = (int(part) for part in text.split("-"))
    return date(year, month, 1)


def _oracle(market: Path, sample: pl.DataFrame) -> npt.NDArray[np.float64]:
    frame = oracle_pd(market, sample.select("uscc", "origination_month"))
    return frame.get_column("oracle_pd").cast(pl.Float64).fill_null(np.nan).to_numpy()


def _term_design(oracle: npt.NDArray[np.float64], sample: pl.DataFrame) -> npt.NDArray[np.float64]:
    """The oracle's log-odds and the requested term (one-hot, and the log-odds per term)."""
    clipped = np.clip(np.nan_to_num(oracle, nan=0.5), 1e-6, 1 - 1e-6)
    logit = np.log(clipped / (1 - clipped))
    terms = sample.get_column("application_term").to_numpy()
    columns = [logit]
    for term in TERMS:
        indicator = (terms == term).astype(np.float64)
        columns += [indicator, indicator * logit]
    return np.column_stack(columns)


def _term_aware_oracle(
    train_market: Path,
    development: pl.DataFrame,
    validation_oracle: npt.NDArray[np.float64],
    validation: pl.DataFrame,
) -> npt.NDArray[np.float64]:
    """Evaluation only: the true PD and the requested term together, a logistic regression
    fitted on the training market's truth. The oracle's PD is the firm's 12-month PD and knows
    nothing of the loan; the loan's outcome also depends on its term (a loan repaid before the
    decline never defaults), so this is the ceiling for a model that reads the term."""
    development_oracle = _oracle(train_market, development)
    fitted = LogisticRegression(C=1e6, max_iter=2000).fit(
        _term_design(development_oracle, development), development.get_column("bad").to_numpy()
    )
    pd = fitted.predict_proba(_term_design(validation_oracle, validation))[:, 1]
    return np.where(np.isnan(validation_oracle), np.nan, pd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train-enterprises", type=int, default=250_000)
    parser.add_argument("--eval-enterprises", type=int, default=200_000)
    parser.add_argument("--train-seed", type=int, default=11)
    parser.add_argument("--eval-seed", type=int, default=12)
    parser.add_argument("--start", default="2023-01")
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--as-of", default="2025-12")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/heldout"))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--kinds", default="gbm,scorecard")
    args = parser.parse_args()
    start, as_of = _month(args.start), _month(args.as_of)
    variants = [v for v in args.variants.split(",") if v]
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}: choose from {VARIANTS}")

    args.workdir.mkdir(parents=True, exist_ok=True)
    train_market = _market(
        args.workdir, args.train_enterprises, args.train_seed, start, args.months
    )
    eval_market = _market(args.workdir, args.eval_enterprises, args.eval_seed, start, args.months)
    development = _labelled(train_market, as_of)
    validation = _labelled(eval_market, as_of)
    y = validation.get_column("bad").to_numpy()
    oracle = _oracle(eval_market, validation)
    known = ~np.isnan(oracle)
    oracle_auc = auc(y[known], oracle[known])
    term_oracle = _term_aware_oracle(train_market, development, oracle, validation)
    term_oracle_auc = auc(y[known], term_oracle[known])

    results = [
        _train_and_score(variant, kind, development, validation)
        for variant in variants
        for kind in kinds
    ]
    print()
    print(
        f"train seed {args.train_seed} x {args.train_enterprises:,}: "
        f"{development.height:,} loans ({int(development.get_column('bad').sum()):,} bad); "
        f"held-out seed {args.eval_seed} x {args.eval_enterprises:,}: {validation.height:,} "
        f"loans ({int(y.sum()):,} bad); as of {as_of:%Y-%m}; oracle AUC {oracle_auc:.4f}; "
        f"oracle with the requested term {term_oracle_auc:.4f}"
    )
    baseline = {r.kind: r.auc for r in results if r.variant == variants[0]}
    print(
        "| features | model | features used | AUC | vs first variant | oracle − AUC "
        "| term-aware oracle − AUC | bar | holds? | calibration (deciles with ≥ 100 bads) "
        "| train s |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | ---: |")
    for result in results:
        gbm_auc = next(
            (r.auc for r in results if r.variant == result.variant and r.kind == "gbm"), None
        )
        if result.kind == "gbm":
            bar, holds = "≥ oracle − 0.03", result.auc >= oracle_auc - ORACLE_MARGIN
        elif gbm_auc is not None:
            bar, holds = "≥ GBM − 0.02", result.auc >= gbm_auc - SCORECARD_MARGIN
        else:
            bar, holds = "-", True
        calibration, calibrated = _calibration(y, result.pd)
        print(
            f"| {result.variant} | {result.kind} | {result.n_features} | {result.auc:.4f} "
            f"| {result.auc - baseline[result.kind]:+.4f} | {oracle_auc - result.auc:+.4f} "
            f"| {term_oracle_auc - result.auc:+.4f} "
            f"| {bar} | {'yes' if holds else 'NO'} "
            f"| {calibration} ({'holds' if calibrated else 'MISSED'}) | {result.seconds:.0f} |"
        )

    best = next((r for r in results if r.variant == "application" and r.kind == "gbm"), None)
    if best is not None:
        print()
        print("Within one requested term (the term no longer separates loans), application GBM:")
        print("| term (months) | loans | bads | GBM AUC | oracle AUC |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        for term, n, n_bad, model_auc, term_oracle_auc in _by_term(validation, oracle, best):
            print(f"| {term:.0f} | {n:,} | {n_bad:,} | {model_auc:.4f} | {term_oracle_auc:.4f} |")


if __name__ == "__main__":
    main()
