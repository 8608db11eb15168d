"""Pre-approval (主动授信): the risk bar on a held-out market, and the run's time at scale.

Usage:
  .venv/bin/python bench/preapproval.py risk --train DIR --heldout DIR --as-of 2024-09 \
      --models DIR [--train-as-of YYYY-MM] [--engine local] [--detail FILE.parquet]
  .venv/bin/python bench/preapproval.py risk ... --as-of 2024-03,2024-06,2024-09 ...
  .venv/bin/python bench/preapproval.py scale --market DIR --as-of 2025-12 --models DIR \
      --out FILE [--engine local|spark] [--master local[2]]

``risk``: the models are trained once on ``--train`` (another seed), point in time as of
``--train-as-of`` (default: the first as-of month), unless ``--models`` holds them already; the
walk-ins' standard PD model likewise. For each as-of month the models pre-approve the held-out
market; the share of limits at or below the true need (``truth/need_events`` in the 3 months
after it) is printed; then each enterprise's first application of the three months after it is
followed for twelve months in the market's truth (``enterprises_truth.default_month``; fewer
months when the market ends sooner, printed). Printed per month and, with several months,
pooled (an enterprise counted once per group and window): applicants, bad, the bad rate with
its Wilson 95 % interval for (a) the pre-approved that applied, (b) those of them approved
online too, (c) walk-in applicants (not on the list) approved by the same strategy online —
with the data they consent to (tax, invoices, bureau) — and the difference (a) − (c) with
Newcombe's 95 % interval. ``--detail`` writes the rows (group, bad, the online grade and PD,
the need probability and PD before consent) for a closer look.

``scale``: one run of the pre-approval over a market with the engine, timed, and the SHA-256 of
the file written (equal hashes: identical output).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from puhui.decision.outcome import ModelResult, Outcome
from puhui.decision.strategy import load_strategy, shipped_strategy_text
from puhui.domain.errors import InvalidInput
from puhui.market.params import parse_month
from puhui.pipelines.engines import engine_from_options
from puhui.pipelines.preapproval import LICENCE_TYPE, run_preapproval, write_prospects
from puhui.pipelines.preapproval_models import ProspectModels, train_prospect_models
from puhui.risk.artefact import ModelArtefact
from puhui.risk.enterprise_inputs import enterprise_inputs
from puhui.risk.features import APPLICATIONS, MarketTables, compute_features, month_start_plus
from puhui.risk.kinds import ModelKind
from puhui.risk.market_training import train_on_market
from puhui.risk.need import PRE_CONSENT_SOURCES
from puhui.risk.rates import BadRate, difference_interval, standardised_difference
from puhui.risk.scorer import scorer_for
from puhui.risk.training import scoring_frame

STRATEGY = "mse-online-credit"
WINDOW_MONTHS = 3
OUTCOME_MONTHS = 12
DECIDED_SCHEMA = {
    "uscc": pl.String,
    "month": pl.Date,
    "approved": pl.Boolean,
    "grade": pl.String,
    "pd": pl.Float64,
}


def _models(models_dir: Path, train: Path, as_of: date) -> ProspectModels:
    if (models_dir / "prospect-models.json").is_file():
        return ProspectModels.load(models_dir)
    started = time.perf_counter()
    models = train_prospect_models(train, as_of, PRE_CONSENT_SOURCES, trained_at=datetime.now(UTC))
    models.save(models_dir)
    print(f"trained the prospect models on {train} in {time.perf_counter() - started:.0f} s")
    return models


def _walk_in_decisions(
    heldout: Path, applications: pl.DataFrame, model: ModelArtefact, as_of: date
) -> pl.DataFrame:
    """Every application of the window decided online: ``uscc, month, approved, grade, pd``
    (the grade and PD of the strategy with the data the applicant consents to)."""
    strategy = load_strategy(f"{STRATEGY}.yaml", text=shipped_strategy_text(STRATEGY))
    scorer = scorer_for(model.model)
    tables = MarketTables.from_dir(heldout)
    rows: list[dict[str, object]] = []
    for offset in range(1, WINDOW_MONTHS + 1):
        month = month_start_plus(as_of, offset)
        applied = applications.filter(pl.col("month") == month)
        scope = tables.for_enterprises(applied.get_column("uscc").unique().to_list())
        features = compute_features(scope, month)
        inputs = enterprise_inputs(scope, features, month)
        pd_values = scorer.predict_pd(scorer.matrix(scoring_frame(model, features)))
        known = inputs.join(features.select("uscc").with_columns(pd=pl.Series(pd_values)), "uscc")
        frame = applied.join(known, on="uscc", how="inner")
        for row in frame.iter_rows(named=True):
            values = {k: v for k, v in row.items() if k not in {"pd", "month"}}
            try:
                decision = strategy.evaluate(
                    values,
                    ModelResult(pd=row["pd"], score=None),
                    as_of=month,
                    licence_type=LICENCE_TYPE,
                )
                approved = decision.outcome is Outcome.APPROVE
                grade = decision.grade
            except InvalidInput:
                approved, grade = False, None
            rows.append(
                {
                    "uscc": row["uscc"],
                    "month": month,
                    "approved": approved,
                    "grade": grade,
                    "pd": row["pd"],
                }
            )
    return pl.DataFrame(rows, schema=DECIDED_SCHEMA)


def _bad(frame: pl.DataFrame, heldout: Path) -> pl.DataFrame:
    """``bad``: the enterprise defaulted within twelve months after its application month."""
    truth = pl.read_parquet(heldout / "truth" / "enterprises_truth" / "*.parquet").select(
        "uscc", "default_month"
    )
    months = pl.col("default_month").dt.year() * 12 + pl.col("default_month").dt.month()
    applied = pl.col("month").dt.year() * 12 + pl.col("month").dt.month()
    return frame.join(truth, on="uscc", how="left").with_columns(
        ((months > applied) & (months <= applied + OUTCOME_MONTHS)).fill_null(False).alias("bad")
    )


def _true_needs(heldout: Path, as_of: date) -> pl.DataFrame:
    """Each enterprise's first true need event in the horizon: ``uscc, true_need_fen``."""
    return (
        pl.scan_parquet(str(heldout / "truth" / "need_events" / "*.parquet"))
        .filter(pl.col("month").is_between(month_start_plus(as_of, 1), month_start_plus(as_of, 3)))
        .sort("uscc", "month", "need_id")
        .unique("uscc", keep="first", maintain_order=True)
        .select("uscc", pl.col("amount_fen").alias("true_need_fen"))
        .collect()
    )


def _limits_within_need(listed: pl.DataFrame, heldout: Path, as_of: date) -> None:
    """The measure "limits not above the true need in ≥ 90 % of pre-approvals", two ways:
    among the pre-approved with a true need in the horizon, and over every pre-approved row
    (a row without a true need counts as a limit above the need)."""
    joined = listed.select("uscc", "limit_fen").join(
        _true_needs(heldout, as_of), on="uscc", how="left"
    )
    with_need = joined.filter(pl.col("true_need_fen").is_not_null())
    within = int((with_need["limit_fen"] <= with_need["true_need_fen"]).sum())
    share_needed = within / with_need.height if with_need.height else float("nan")
    share_all = within / joined.height if joined.height else float("nan")
    print(
        f"limit <= true need: {share_needed:.2%} of the {with_need.height:,} pre-approved with a"
        f" true need in the horizon ({within:,}); {share_all:.2%} of all {joined.height:,}"
        " pre-approved (no true need = above the need)",
        flush=True,
    )


GROUPS = (
    ("preapproved", "(a) pre-approved that applied"),
    ("also_online", "(b) … of them approved online too"),
    ("walk_in", "(c) walk-ins approved by the strategy"),
    ("all", "    all applicants of the window"),
)


def _as_of_months(text: str) -> list[date]:
    """``2024-03,2024-06`` → the months, in order, each once."""
    months = sorted({parse_month(part.strip()) for part in text.split(",") if part.strip()})
    if not months:
        raise SystemExit("--as-of: give one month or several, comma-separated (YYYY-MM,…)")
    return months


def _market_last_month(market: Path) -> date | None:
    document = json.loads((market / "manifest.json").read_text(encoding="utf-8"))
    parameters = document.get("parameters") or {}
    if "start" not in parameters or "months" not in parameters:
        return None
    return month_start_plus(parse_month(str(parameters["start"])), int(parameters["months"]) - 1)


def _count(frame: pl.DataFrame) -> BadRate:
    return BadRate(frame.height, int(frame.get_column("bad").sum()) if frame.height else 0)


def _percent(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2%}"


def _line(label: str, rate: BadRate) -> str:
    low, high = rate.interval
    return (
        f"{label:<42} {rate.applicants:>7,} {rate.bad:>6,} {_percent(rate.rate):>8}"
        f"  [{_percent(low)} – {_percent(high)}]"
    )


def _difference(first: BadRate, second: BadRate) -> str:
    difference, low, high = difference_interval(first, second)
    if math.isnan(difference):
        return "n/a (an empty group)"
    sign = "+" if difference >= 0 else "−"
    holds = (
        "holds (the interval is at or below 0)"
        if high <= 0
        else "fails (the interval is above 0)"
        if low > 0
        else "holds as observed, not shown (the interval spans 0)"
        if difference <= 0
        else "fails as observed, not shown (the interval spans 0)"
    )
    return (
        f"{sign}{abs(difference) * 100:.2f} points, 95 % interval "
        f"[{low * 100:+.2f}, {high * 100:+.2f}] points: {holds}"
    )


def _stratified(first: list[BadRate], walk_ins: list[BadRate]) -> str:
    """The difference against the walk-ins' rates weighted by the group's applicants in each
    window: a pooled comparison that a different mix of months cannot tilt."""
    difference, low, high = standardised_difference(first, walk_ins)
    if math.isnan(difference):
        return "n/a"
    expected = sum(
        r.applicants * w.rate for r, w in zip(first, walk_ins, strict=True) if r.applicants
    )
    total = sum(first, BadRate(0, 0))
    return (
        f"the walk-ins' rate at this group's mix of windows {expected / total.applicants:.2%};"
        f" difference {difference * 100:+.2f} points, 95 % interval"
        f" [{low * 100:+.2f}, {high * 100:+.2f}]"
    )


def _print_table(title: str, rates: dict[str, BadRate]) -> None:
    print(title)
    print(f"{'group':<42} {'applied':>7} {'bad':>6} {'rate':>8}  [Wilson 95 %]")
    for key, label in GROUPS:
        print(_line(label, rates[key]))
    print(f"(a) − (c): {_difference(rates['preapproved'], rates['walk_in'])}")
    print(f"(b) − (c): {_difference(rates['also_online'], rates['walk_in'])}", flush=True)


def _window(
    args: argparse.Namespace, as_of: date, models: ProspectModels, standard: ModelArtefact
) -> pl.DataFrame:
    """One as-of month: pre-approve, follow the three months' applicants. One row per
    enterprise and group (``as_of, group, uscc, month, bad`` and what explains it)."""
    started = time.perf_counter()
    listed = run_preapproval(
        args.heldout,
        as_of,
        engine=engine_from_options(args.engine, None),
        need_model=models.need,
        risk_model=models.pd,
        strategy=(f"{STRATEGY}.yaml", shipped_strategy_text(STRATEGY)),
        risk_model_label=models.pd_label,
    )
    print(
        f"{as_of:%Y-%m}: pre-approved {listed.height:,} enterprises in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    _limits_within_need(listed, args.heldout, as_of)
    last = month_start_plus(as_of, WINDOW_MONTHS)
    applications = (
        pl.scan_parquet(str(args.heldout / "tables" / APPLICATIONS / "*.parquet"))
        .filter(pl.col("month").is_between(month_start_plus(as_of, 1), last))
        .sort("application_date", "application_id")
        .unique("uscc", keep="first", maintain_order=True)  # each enterprise's first application
        .select("uscc", "month", "requested_amount_fen", "requested_term_months")
        .collect()
    )
    offered = listed.select(
        "uscc",
        "need_probability",
        pl.col("pd").alias("pd_before_consent"),
        pl.col("grade").alias("grade_before_consent"),
    )
    decided = _walk_in_decisions(args.heldout, applications, standard, as_of).join(
        offered, on="uscc", how="left"
    )
    applied = (
        applications.select("uscc", "month")
        .join(offered, on="uscc", how="left")
        .join(decided.select("uscc", "approved", "grade", "pd"), on="uscc", how="left")
    )
    on_list = pl.col("need_probability").is_not_null()
    groups = {
        "preapproved": applied.filter(on_list),
        "also_online": decided.filter(on_list & pl.col("approved")),
        "walk_in": decided.filter(~on_list & pl.col("approved")),
        "all": applied,
    }
    frames = [
        _bad(frame.select(DETAIL_COLUMNS), args.heldout).with_columns(
            pl.lit(as_of).alias("as_of"), pl.lit(group).alias("group")
        )
        for group, frame in groups.items()
    ]
    return pl.concat(frames).drop("default_month")


DETAIL_COLUMNS = [
    "uscc",
    "month",
    "approved",
    "grade",
    "pd",
    "need_probability",
    "pd_before_consent",
    "grade_before_consent",
]


def risk(args: argparse.Namespace) -> None:
    months = _as_of_months(args.as_of)
    train_as_of = parse_month(args.train_as_of) if args.train_as_of else months[0]
    models = _models(args.models, args.train, train_as_of)
    if models.as_of != train_as_of:
        print(f"note: the models in {args.models} were trained as of {models.as_of:%Y-%m}")
    started = time.perf_counter()
    standard = train_on_market(args.train, train_as_of, ModelKind.GBM, trained_at=datetime.now(UTC))
    print(
        f"prospect models trained on {models.trained_on.path} as of {models.as_of:%Y-%m}; "
        f"the walk-ins' standard PD model on {args.train} as of {train_as_of:%Y-%m} "
        f"({time.perf_counter() - started:.0f} s)",
        flush=True,
    )
    end = _market_last_month(args.heldout)
    windows: list[pl.DataFrame] = []
    by_window: list[dict[str, BadRate]] = []
    for as_of in months:
        detail = _window(args, as_of, models, standard.artefact)
        windows.append(detail)
        rates = {key: _count(detail.filter(pl.col("group") == key)) for key, _ in GROUPS}
        by_window.append(rates)
        follow = ""
        if end is not None:
            first = _months_between(month_start_plus(as_of, WINDOW_MONTHS), end)
            last = _months_between(month_start_plus(as_of, 1), end)
            if first < OUTCOME_MONTHS:
                follow = (
                    f"; outcome observed for {max(first, 0)}–{min(last, OUTCOME_MONTHS)} of "
                    f"{OUTCOME_MONTHS} months (the market ends in {end:%Y-%m})"
                )
        _print_table(
            f"as of {as_of:%Y-%m}, applications {month_start_plus(as_of, 1):%Y-%m}.."
            f"{month_start_plus(as_of, WINDOW_MONTHS):%Y-%m}{follow}:",
            rates,
        )
    pooled = pl.concat(windows)
    if args.detail is not None:
        pooled.write_parquet(args.detail)
        print(f"one row per enterprise, group and window written to {args.detail}")
    if len(months) > 1:
        rates = {key: _count(pooled.filter(pl.col("group") == key)) for key, _ in GROUPS}
        _print_table(
            f"pooled over {len(months)} as-of months ({', '.join(f'{m:%Y-%m}' for m in months)}),"
            " an enterprise counted once per group and window:",
            rates,
        )
        for key, name in (("preapproved", "(a)"), ("also_online", "(b)")):
            mixed = _stratified([w[key] for w in by_window], [w["walk_in"] for w in by_window])
            print(f"{name} − (c), month by month: {mixed}")
        for key, label in GROUPS[:3]:
            group = pooled.filter(pl.col("group") == key)
            print(
                f"{label.strip()}: {group['uscc'].n_unique():,} distinct enterprises in "
                f"{group.height:,} rows"
            )


def _months_between(first: date, last: date) -> int:
    """Whole months from ``first`` to ``last`` (both month starts)."""
    return (last.year - first.year) * 12 + last.month - first.month


def scale(args: argparse.Namespace) -> None:
    as_of = parse_month(args.as_of)
    models = ProspectModels.load(args.models)
    models.refuse_same_market(args.market)
    engine = engine_from_options(args.engine, args.master)
    started = time.perf_counter()
    listed = run_preapproval(
        args.market,
        as_of,
        engine=engine,
        need_model=models.need,
        risk_model=models.pd,
        strategy=(f"{STRATEGY}.yaml", shipped_strategy_text(STRATEGY)),
        risk_model_label=models.pd_label,
    )
    write_prospects(listed, args.out)
    seconds = time.perf_counter() - started
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(
        f"{args.engine} engine: {listed.height:,} pre-approved in {seconds:.0f} s "
        f"({seconds / 60:.1f} min); {args.out} sha256 {digest}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(required=True)
    risk_parser = commands.add_parser("risk")
    risk_parser.add_argument("--train", type=Path, required=True)
    risk_parser.add_argument("--heldout", type=Path, required=True)
    risk_parser.add_argument("--as-of", required=True, help="YYYY-MM, or several: YYYY-MM,…")
    risk_parser.add_argument(
        "--train-as-of", default=None, help="the models' month (default: the first --as-of)"
    )
    risk_parser.add_argument("--models", type=Path, required=True)
    risk_parser.add_argument("--engine", default="local")
    risk_parser.add_argument("--detail", type=Path, default=None, help="a Parquet file")
    risk_parser.set_defaults(run=risk)
    scale_parser = commands.add_parser("scale")
    scale_parser.add_argument("--market", type=Path, required=True)
    scale_parser.add_argument("--as-of", required=True)
    scale_parser.add_argument("--models", type=Path, required=True)
    scale_parser.add_argument("--out", type=Path, required=True)
    scale_parser.add_argument("--engine", default="local")
    scale_parser.add_argument("--master", default=None)
    scale_parser.set_defaults(run=scale)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
