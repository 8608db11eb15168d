"""Online and batch scoring of the scorecard and the GBM against the libraries' own scoring.

Usage: .venv/bin/python bench/bench_scoring.py [--data FILE --target COL] [--rows N]
       [--gbm-batch-only]
Without --data a public-like synthetic credit set is generated. Prints p50 per applicant,
rows/s in batch, ratios against baselines run in the same process, and AUC against
optbinning's default Scorecard on the same split.
"""

from __future__ import annotations

import argparse
import bisect
import math
import os
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

warnings.simplefilter("ignore")

from optbinning import BinningProcess, Scorecard  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from puhui.risk.dataset import FeatureKind, prepare_training, read_table  # noqa: E402
from puhui.risk.gbm import GbmConfig, train_gbm  # noqa: E402
from puhui.risk.metrics import auc  # noqa: E402
from puhui.risk.scorecard import ScorecardModel, train_scorecard  # noqa: E402
from puhui.risk.scorer import GbmScorer, ScorecardScorer, _numpy_points  # noqa: E402
from puhui.risk.synthetic import make_credit_frame  # noqa: E402
from puhui.risk.trees import predict_raw_numpy  # noqa: E402


def p50_us(function: Callable[[], Any], calls: int) -> float:
    for _ in range(min(calls, 200)):
        function()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        start = clock()
        function()
        samples.append(clock() - start)
    return statistics.median(samples) / 1000.0


def rows_per_second(function: Callable[[], Any], n_rows: int, repeat: int = 3) -> float:
    function()
    best = min(_timed(function) for _ in range(repeat))
    return n_rows / best


def _timed(function: Callable[[], Any]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def rates_wall_and_cpu(
    function: Callable[[], Any], n_rows: int, repeat: int = 3
) -> tuple[float, float]:
    """Best rows/s over wall time and over process CPU time (all threads): on a shared machine
    the CPU figure shows what the code does, the wall figure what the neighbours left of it."""
    function()  # warm-up: JIT compilation or loading Numba's on-disk cache is not timed
    best_wall, best_cpu = math.inf, math.inf
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        function()
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return n_rows / best_wall, n_rows / best_cpu


def gbm_batch(gbm: Any, x_g: np.ndarray, repeat: int) -> None:
    """GBM batch against LightGBM's own predict in the same process, wall and CPU time."""
    n = x_g.shape[0]
    threads = os.cpu_count() or 1
    print(f"  load average {os.getloadavg()[0]:.2f} on {threads} cores")
    lgb_wall, lgb_cpu = rates_wall_and_cpu(
        lambda: gbm.booster.predict(x_g, raw_score=True, num_threads=threads), n, 1
    )
    ours_wall, ours_cpu = rates_wall_and_cpu(lambda: gbm.raw_margin(x_g), n, repeat)
    print(f"  {'':<52} {'wall rows/s':>14} {'rows/CPU-s':>14} {'x cores (idle)':>15}")
    for label, wall, cpu in (
        (f"LightGBM Booster.predict ({threads} threads)", lgb_wall, lgb_cpu),
        (f"puhui GBM batch (Numba, {threads} threads)", ours_wall, ours_cpu),
    ):
        print(f"  {label:<52} {wall:>14,.0f} {cpu:>14,.0f} {cpu * threads:>15,.0f}")
    print(
        f"  ratio puhui / LightGBM: wall x{ours_wall / lgb_wall:.1f}, CPU x{ours_cpu / lgb_cpu:.1f}"
    )
    diff_g = np.abs(gbm.raw_margin(x_g) - gbm.booster.predict(x_g, raw_score=True)).max()
    print(f"  max |puhui - LightGBM| raw score = {diff_g:.2e} ({n:,} rows)")


def plain_bisect_scorer(model: ScorecardModel) -> Callable[[dict[str, Any]], float]:
    """The straightforward Python scorer: a loop over characteristics with bisect."""
    chars = model.characteristics
    offset, factor = model.config.offset, model.config.factor

    def score(row: dict[str, Any]) -> float:
        total = 0.0
        for c in chars:
            value = row.get(c.name)
            if value is None or (isinstance(value, float) and math.isnan(value)):
                total += c.points[-1]
            elif c.kind is FeatureKind.CATEGORICAL:
                total += c.points[c.categories.get(value, c.n_bins + 1)]
            else:
                total += c.points[bisect.bisect_right(c.edges, value)]
        return 1.0 / (1.0 + math.exp((total - offset) / factor))

    return score


def line(label: str, value: float, unit: str, baseline: float | None = None) -> None:
    ratio = f"  (x{baseline / value:,.1f} vs baseline above)" if baseline and unit == "us" else ""
    if baseline and unit == "rows/s":
        ratio = f"  (x{value / baseline:,.1f} vs baseline above)"
    print(f"  {label:<52} {value:>14,.2f} {unit}{ratio}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--target", default="bad")
    parser.add_argument("--rows", type=int, default=1_000_000, help="batch size")
    parser.add_argument("--calls", type=int, default=20_000, help="online calls per measure")
    parser.add_argument("--trees", type=int, default=150)
    parser.add_argument(
        "--gbm-batch-only", action="store_true", help="train the GBM, time only its batch path"
    )
    args = parser.parse_args()

    frame = read_table(args.data) if args.data else make_credit_frame(40_000, seed=1)
    target = args.target if args.data else "bad"
    frame = frame.sample(fraction=1.0, shuffle=True, seed=0)
    split = int(frame.height * 0.7)
    train_frame, test_frame = frame[:split], frame[split:]
    id_col = "id" if "id" in frame.columns and not args.data else None
    data = prepare_training(train_frame, target=target, id_col=id_col)
    held = prepare_training(test_frame, target=target, id_col=id_col)
    print(f"data: {args.data or 'synthetic'}; train {data.n_rows:,} rows, test {held.n_rows:,}")
    if args.gbm_batch_only:
        gbm = train_gbm(
            data.features,
            data.target,
            data.specs,
            GbmConfig(n_estimators=args.trees, early_stopping_rounds=None),
        )
        rng = np.random.default_rng(0)
        big = held.features[rng.integers(0, held.n_rows, args.rows).tolist()]
        print(f"\nGBM batch, {gbm.ensemble.n_trees} trees (max depth {gbm.config.max_depth}), "
              f"{args.rows:,} rows, float matrix input")  # fmt: skip
        gbm_batch(gbm, gbm.matrix(big), repeat=5)
        return

    # --- discrimination against optbinning's default scorecard -----------------------------
    model = train_scorecard(data.features, data.target, data.specs)
    scorer = ScorecardScorer(model)
    names = [s.name for s in data.specs]
    categorical = [s.name for s in data.specs if s.kind is FeatureKind.CATEGORICAL]
    baseline = Scorecard(
        binning_process=BinningProcess(names, categorical_variables=categorical),
        estimator=LogisticRegression(),
    ).fit(data.features.to_pandas(), data.target)
    our_auc = auc(held.target, scorer.predict_pd(scorer.matrix(held.features)))
    base_auc = auc(held.target, baseline.predict_proba(held.features.to_pandas())[:, 1])
    print("\nAUC on the same split")
    print(f"  puhui scorecard {our_auc:.4f}   optbinning Scorecard (default) {base_auc:.4f}   "
          f"difference {our_auc - base_auc:+.4f}")  # fmt: skip

    gbm = train_gbm(
        data.features,
        data.target,
        data.specs,
        GbmConfig(n_estimators=args.trees, early_stopping_rounds=None),
    )
    gbm_scorer = GbmScorer(gbm)
    gbm_auc = auc(held.target, gbm.predict_pd(gbm.matrix(held.features)))
    print(f"  puhui GBM ({gbm.ensemble.n_trees} trees, max depth {gbm.config.max_depth}) "
          f"{gbm_auc:.4f}")  # fmt: skip

    # --- online ----------------------------------------------------------------------------
    rows = held.features.head(2000).to_dicts()
    pick = iter(range(10**9))

    def cycle() -> dict[str, Any]:
        return rows[next(pick) % len(rows)]

    print("\nonline, one applicant from a feature mapping (p50)")
    one_row = held.features.head(1).to_pandas()
    opt_us = p50_us(lambda: baseline.score(one_row), 300)
    plain = plain_bisect_scorer(model)
    plain_us = p50_us(lambda: plain(cycle()), args.calls)
    ours_sc = p50_us(lambda: scorer.assess(cycle()), args.calls)
    ours_sc_bare = p50_us(lambda: scorer.assess(cycle(), with_reasons=False), args.calls)
    line("optbinning Scorecard.score, one-row frame", opt_us, "us")
    line("plain Python bisect over the same bins (PD only)", plain_us, "us", opt_us)
    line("puhui scorecard: PD, score, grade, reasons", ours_sc, "us", plain_us)
    line("puhui scorecard: PD, score, grade", ours_sc_bare, "us", plain_us)

    x_one = gbm.matrix(held.features.head(1))
    lgb_us = p50_us(lambda: gbm.booster.predict(x_one, num_threads=1), 2000)
    ours_gbm = p50_us(lambda: gbm_scorer.assess(cycle(), with_reasons=False), args.calls)
    ours_gbm_reasons = p50_us(lambda: gbm_scorer.assess(cycle()), 500)
    line("LightGBM Booster.predict, one row", lgb_us, "us")
    line(f"puhui GBM ({gbm.ensemble.n_trees} trees): PD, score, grade", ours_gbm, "us", lgb_us)
    line("puhui GBM: PD, score, grade + SHAP reasons", ours_gbm_reasons, "us", lgb_us)
    lleaves_model = None
    try:
        import lleaves  # noqa: PLC0415

        booster_file = Path("/tmp/puhui-bench-booster.txt")
        booster_file.write_text(gbm.model_text)
        lleaves_model = lleaves.Model(model_file=str(booster_file))
        lleaves_model.compile()
        ll_us = p50_us(lambda: lleaves_model.predict(x_one, n_jobs=1), 2000)
        line("lleaves compiled model, one row", ll_us, "us")
    except ImportError:
        print("  lleaves not installed: skipped")
    except AttributeError as exc:  # lleaves 1.3 calls an API llvmlite 0.45+ removed
        lleaves_model = None
        print(f"  lleaves installed but cannot compile with this llvmlite: {exc}")

    # --- batch -----------------------------------------------------------------------------
    n = args.rows
    rng = np.random.default_rng(0)
    big = held.features[rng.integers(0, held.n_rows, n).tolist()]
    print(f"\nbatch, {n:,} rows (input: float matrix; building it from Polars is timed apart)")
    build = rows_per_second(lambda: scorer.matrix(big), n, 1)
    x_sc = scorer.matrix(big)
    ours = rows_per_second(lambda: scorer.predict_pd(x_sc), n)
    plan = scorer._plan
    numpy_rate = rows_per_second(lambda: model.pd_from_points(_numpy_points(x_sc, plan)), n)
    sample = big.head(200_000).to_pandas()
    opt_rate = rows_per_second(lambda: baseline.predict_proba(sample), sample.shape[0], 1)
    line("optbinning Scorecard.predict_proba (200k sample)", opt_rate, "rows/s")
    line("plain NumPy searchsorted over the same bins", numpy_rate, "rows/s", opt_rate)
    line("puhui scorecard batch", ours, "rows/s", numpy_rate)
    line("  (Polars frame -> matrix, once)", build, "rows/s")
    regression = LogisticRegression(C=1.0, max_iter=2000).fit(
        model.woe_matrix(data.features), data.target
    )
    check = big.head(100_000)
    expected = regression.predict_proba(model.woe_matrix(check))[:, 1]
    diff = np.abs(scorer.predict_pd(scorer.matrix(check)) - expected).max()
    print(f"  max |puhui - scikit-learn LogisticRegression on WoE| = {diff:.2e} (100k rows)")

    x_g = gbm.matrix(big)
    lgb_rate = rows_per_second(lambda: gbm.booster.predict(x_g, raw_score=True), n, 1)
    np_rate = rows_per_second(lambda: predict_raw_numpy(gbm.ensemble, x_g[:100_000]), 100_000, 1)
    line("LightGBM Booster.predict", lgb_rate, "rows/s")
    line("NumPy level-wise traversal (100k)", np_rate, "rows/s", lgb_rate)
    if lleaves_model is not None:
        ll_rate = rows_per_second(lambda: lleaves_model.predict(x_g, n_jobs=2), n)
        line("lleaves (2 threads)", ll_rate, "rows/s", lgb_rate)
    print(f"\nGBM batch, {gbm.ensemble.n_trees} trees, wall and CPU time")
    gbm_batch(gbm, x_g, repeat=3)


if __name__ == "__main__":
    main()
