"""Pre-approval (主动授信): the risk bar on a held-out market, and the run's time at scale.

Usage:
  .venv/bin/python bench/preapproval.py risk --train DIR --heldout DIR --as-of 2024-09 \
      --models DIR [--engine local]
  .venv/bin/python bench/preapproval.py scale --market DIR --as-of 2025-12 --models DIR \
      --out FILE [--engine local|spark] [--master local[2]]

``risk``: the models (trained on ``--train``, another seed, if ``--models`` does not exist yet)
pre-approve the held-out market as of the month; the share of limits at or below the true need
(``truth/need_events`` in the 3 months after it) is printed; then the applications of the
three months after it are followed for twelve months in the market's truth (``enterprises_truth.
default_month``). Printed: the bad rate of pre-approved enterprises that applied, against
walk-in applicants (not on the list) approved by the same strategy online — with the data they
consent to (tax, invoices, bureau) and the market's standard PD model trained on ``--train``.

``scale``: one run of the pre-approval over a market with the engine, timed, and the SHA-256 of
the file written (equal hashes: identical output).
"""

from __future__ import annotations

import argparse
import hashlib
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
from puhui.risk.scorer import scorer_for
from puhui.risk.training import scoring_frame

STRATEGY = "mse-online-credit"
WINDOW_MONTHS = 3
OUTCOME_MONTHS = 12


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
    """Every application of the window decided online: ``uscc, month, approved``."""
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
            except InvalidInput:
                approved = False
            rows.append({"uscc": row["uscc"], "month": month, "approved": approved})
    return pl.DataFrame(rows, schema={"uscc": pl.String, "month": pl.Date, "approved": pl.Boolean})


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


def _rate(frame: pl.DataFrame) -> str:
    if frame.height == 0:
        return "n/a (none)"
    bad = int(frame.get_column("bad").sum())
    return f"{bad / frame.height:.2%} ({bad:,} bad of {frame.height:,})"


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


def risk(args: argparse.Namespace) -> None:
    as_of = parse_month(args.as_of)
    models = _models(args.models, args.train, as_of)
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
        f"pre-approved {listed.height:,} enterprises in {time.perf_counter() - started:.0f} s",
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
    on_list = set(listed.get_column("uscc").to_list())
    preapproved = applications.filter(pl.col("uscc").is_in(list(on_list)))
    standard = train_on_market(args.train, as_of, ModelKind.GBM, trained_at=datetime.now(UTC))
    decided = _walk_in_decisions(args.heldout, applications, standard.artefact, as_of)
    walk_ins = decided.filter(~pl.col("uscc").is_in(list(on_list)) & pl.col("approved"))
    also_online = decided.filter(pl.col("uscc").is_in(list(on_list)) & pl.col("approved"))
    print(f"applications {as_of:%Y-%m}+1..+{WINDOW_MONTHS}: {applications.height:,}")
    print(f"pre-approved that applied:        {_rate(_bad(preapproved, args.heldout))}")
    print(f"  of them approved online too:    {_rate(_bad(also_online, args.heldout))}")
    print(f"walk-ins approved by the strategy: {_rate(_bad(walk_ins, args.heldout))}")
    print(f"all applicants:                   {_rate(_bad(applications, args.heldout))}")


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
    risk_parser.add_argument("--as-of", required=True)
    risk_parser.add_argument("--models", type=Path, required=True)
    risk_parser.add_argument("--engine", default="local")
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
