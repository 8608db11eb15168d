"""Fund-use monitoring (资金流向) on a held-out market: misuse recall at few false flags.

Usage: .venv/bin/python bench/bench_fund_use.py [--enterprises 20000] [--months 36]
           [--tune-seed 31] [--eval-seed 32] [--max-false-flags 0.01] [--workdir /tmp/fund_use]

Generates two markets into --workdir unless they are there already (the generator is
deterministic per seed and size). The detector's parameters are chosen on the tuning market
only: over a small grid (how much of the pre-draw pattern to net off, how much of the draw it
may excuse, the flag threshold), the highest misuse recall whose false-flag rate among clean
draws stays within --max-false-flags (half the bar, for margin). The chosen parameters are
then run once on the held-out market, whose ``truth/draw_use_truth`` is read only to score.
Draws whose 30-day window runs past the data are left out (nothing can be said yet).
Bar: recall >= 0.8 at <= 2 % false flags among clean draws. The baseline in the same run is
gross debits to the diversion destinations at the same threshold (no netting of the usual
pattern); the shipped ``DEFAULT_THRESHOLDS`` are reported too.
"""

from __future__ import annotations

import argparse
import itertools
import time
from datetime import date
from pathlib import Path

import polars as pl

from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.risk.fund_use import DEFAULT_THRESHOLDS, FundUseThresholds, fund_use_evidence

RECALL_BAR = 0.8
FALSE_FLAG_BAR = 0.02
WEIGHTS = (0.0, 0.5, 1.0)
CAPS = (0.1, 0.25, 1.0)
SHARES = tuple(round(0.2 + 0.05 * k, 2) for k in range(11))


def market(workdir: Path, enterprises: int, months: int, seed: int) -> Path:
    out = workdir / f"market_{enterprises}_{months}_{seed}"
    if not (out / "manifest.json").is_file():
        started = time.perf_counter()
        params = MarketParams(
            enterprises=enterprises, months=months, start=date(2023, 1, 1), seed=seed
        )
        generate_market(params, out, overwrite=out.exists())
        print(f"generated {out} in {time.perf_counter() - started:.1f} s")
    return out


def labelled(path: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The public draw outflows and, for scoring only, each draw's truth and applicant group."""
    outflows = pl.read_parquet(path / "tables/draw_outflows/*.parquet")
    truth = pl.read_parquet(path / "truth/draw_use_truth/*.parquet")
    apps = pl.read_parquet(path / "truth/applications_truth/*.parquet")
    monthly = pl.read_parquet(path / "truth/monthly_truth/*.parquet").select(
        "uscc", "month", (pl.col("in_distress") | pl.col("in_default")).alias("distressed")
    )
    applied = pl.read_parquet(path / "tables/applications/*.parquet").select(
        "application_id", pl.col("month").alias("applied_month")
    )
    labels = (
        truth.join(apps, on="application_id")
        .join(applied, on="application_id")
        .join(
            monthly,
            left_on=["uscc", "applied_month"],
            right_on=["uscc", "month"],
            how="left",
        )
        .with_columns(
            pl.when("is_fraud")
            .then(pl.lit("fraud"))
            .when("is_packaged")
            .then(pl.lit("packaged"))
            .when(pl.col("distressed").fill_null(False))
            .then(pl.lit("distressed"))
            .otherwise(pl.lit("other"))
            .alias("group")
        )
        .select("application_id", "is_misuse", "misuse_type", "group")
    )
    return outflows, labels


def scored(outflows: pl.DataFrame, labels: pl.DataFrame, t: FundUseThresholds) -> pl.DataFrame:
    evidence = fund_use_evidence(outflows, t)
    return evidence.filter("window_complete").join(labels, on="application_id")


def rates(frame: pl.DataFrame, flag: pl.Expr) -> tuple[float, float, float, int, int]:
    """Recall among misused, false-flag rate among clean, precision, misused, clean."""
    marked = frame.with_columns(flag.alias("_flag"))
    bad = marked.filter("is_misuse")
    good = marked.filter(~pl.col("is_misuse"))
    recall = bad["_flag"].mean() if bad.height else 0.0
    false_flags = good["_flag"].mean() if good.height else 0.0
    flagged = marked.filter("_flag")
    precision = flagged["is_misuse"].mean() if flagged.height else 0.0
    return (
        float(recall or 0.0),
        float(false_flags or 0.0),
        float(precision or 0.0),
        bad.height,
        good.height,
    )


def choose(outflows: pl.DataFrame, labels: pl.DataFrame, max_false: float) -> FundUseThresholds:
    best: tuple[float, float, FundUseThresholds] | None = None
    for weight, cap in itertools.product(WEIGHTS, CAPS):
        frame = scored(
            outflows, labels, FundUseThresholds(baseline_weight=weight, baseline_cap_share=cap)
        )
        for share in SHARES:
            recall, false_flags, *_ = rates(frame, pl.col("diverted_share") >= share)
            if false_flags > max_false:
                continue
            candidate = FundUseThresholds(
                baseline_weight=weight, baseline_cap_share=cap, diverted_share_min=share
            )
            if best is None or (recall, -false_flags) > (best[0], -best[1]):
                best = (recall, false_flags, candidate)
    if best is None:
        raise SystemExit(
            f"no parameters keep false flags within {max_false:.2%} on the tuning market"
        )
    print(
        f"chosen on the tuning market: {best[2]} (recall {best[0]:.3f}, false flags {best[1]:.2%})"
    )
    return best[2]


def report(name: str, frame: pl.DataFrame) -> tuple[float, float]:
    flag = pl.col("flagged")
    recall, false_flags, precision, n_bad, n_good = rates(frame, flag)
    print(f"\n### {name}\n")
    print("| slice | misused draws | clean draws | recall | false flags among clean | precision |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    print(f"| all | {n_bad:,} | {n_good:,} | {recall:.3f} | {false_flags:.2%} | {precision:.3f} |")
    for group in ("fraud", "packaged", "distressed", "other"):
        r, f, p, b, g = rates(frame.filter(pl.col("group") == group), flag)
        print(f"| applicant: {group} | {b:,} | {g:,} | {r:.3f} | {f:.2%} | {p:.3f} |")
    for kind in ("related_owner", "securities_real_estate", "other_lenders"):
        part = frame.filter(pl.col("misuse_type") == kind)
        hit = float(part["flagged"].mean() or 0.0) if part.height else 0.0
        print(f"| misuse: {kind} | {part.height:,} | – | {hit:.3f} | – | – |")
    return recall, false_flags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--tune-seed", type=int, default=31)
    parser.add_argument("--eval-seed", type=int, default=32)
    parser.add_argument("--max-false-flags", type=float, default=0.01)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fund_use"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    tune = market(args.workdir, args.enterprises, args.months, args.tune_seed)
    held_out = market(args.workdir, args.enterprises, args.months, args.eval_seed)
    chosen = choose(*labelled(tune), args.max_false_flags)
    outflows, labels = labelled(held_out)
    started = time.perf_counter()
    evidence = fund_use_evidence(outflows, chosen)
    seconds = time.perf_counter() - started
    print(
        f"\ndetector over the held-out market: {outflows.height:,} rows, "
        f"{evidence.height:,} draws in {seconds:.2f} s"
    )
    frame = evidence.filter("window_complete").join(labels, on="application_id")
    recall, false_flags = report(
        f"held-out market (seed {args.eval_seed}), chosen parameters", frame
    )
    report("shipped DEFAULT_THRESHOLDS", scored(outflows, labels, DEFAULT_THRESHOLDS))
    gross = FundUseThresholds(baseline_weight=0.0, diverted_share_min=chosen.diverted_share_min)
    report(
        "baseline: gross debits (no netting of the usual pattern)", scored(outflows, labels, gross)
    )
    ok = recall >= RECALL_BAR and false_flags <= FALSE_FLAG_BAR
    print(
        f"\nbar: recall >= {RECALL_BAR} at <= {FALSE_FLAG_BAR:.0%} false flags: "
        f"{'MET' if ok else 'NOT MET'} (recall {recall:.3f}, false flags {false_flags:.2%})"
    )


if __name__ == "__main__":
    main()
