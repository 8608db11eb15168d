"""``puhui prospect``: the monthly pre-approval run (主动授信), its models and the marketing map."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from puhui.cli.context import fail, load_settings
from puhui.decision.preapproval import preapproval_mode
from puhui.decision.strategy import load_strategy, shipped_strategy_text
from puhui.domain.errors import PuhuiError
from puhui.market.params import parse_month
from puhui.pipelines.marketing_map import (
    customers_by_place,
    marketing_map,
    read_prospects,
)
from puhui.pipelines.preapproval import (
    check_out_path,
    prospect_rows,
    run_preapproval,
    write_prospects,
)
from puhui.pipelines.preapproval_models import (
    MarketIdentity,
    ProspectModels,
    check_market,
    train_prospect_models,
)
from puhui.risk.features import ENTERPRISES, LOAN_HISTORY, MarketTables
from puhui.risk.need import PRE_CONSENT_SOURCES

app = typer.Typer(
    help="Pre-approval (主动授信): who to invite this month, and the marketing map.",
    no_args_is_help=True,
)

SHIPPED_STRATEGY = "mse-online-credit"

MarketDir = Annotated[Path, typer.Option("--market", help="Folder of a generated market.")]
AsOf = Annotated[str, typer.Option("--as-of", help="Last month of data, YYYY-MM.")]
StrategyFile = Annotated[
    Path | None,
    typer.Option(
        "--strategy", help="Strategy file with a preapproval: section (default: the shipped one)."
    ),
]


def _month(text: str) -> date:
    try:
        return parse_month(text)
    except PuhuiError as exc:
        raise fail(exc.message.replace("a month", "--as-of"), code=exc.code) from None


def _market(path: Path, option: str = "--market") -> Path:
    if not (path / "tables").is_dir():
        raise fail(
            f"{option} {path} holds no market tables: "
            "give the folder `puhui market generate` wrote",
            code="market_not_found",
        )
    return path


def _strategy(path: Path | None) -> tuple[str, str]:
    if path is None:
        return f"{SHIPPED_STRATEGY}.yaml", shipped_strategy_text(SHIPPED_STRATEGY)
    if not path.is_file():
        raise fail(f"no strategy file at {path}", code="not_found")
    return str(path), path.read_text(encoding="utf-8")


@app.command("train")
def train_command(
    market: MarketDir,
    as_of: AsOf,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the two models into.")],
    strategy: StrategyFile = None,
) -> None:
    """Train the need model and the PD model on a market, from data before consent only."""
    month = _month(as_of)
    try:
        source, text = _strategy(strategy)
        sources = preapproval_mode(
            load_strategy(source, text=text, preapproval_sources=PRE_CONSENT_SOURCES)
        ).sources_before_consent
        models = train_prospect_models(
            _market(market), month, sources, trained_at=datetime.now(UTC)
        )
        models.save(out)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    typer.echo(
        f"models trained on {market} as of {as_of} -> {out} "
        f"(need {models.need.model_id}, pd {models.pd_label})"
    )


@app.command("run")
def run_command(  # noqa: PLR0917 - the contract's options
    market: MarketDir,
    as_of: AsOf,
    out: Annotated[Path, typer.Option("--out", help="Prospect file: .csv or .parquet.")],
    engine: Annotated[str, typer.Option("--engine", help="local or spark.")] = "local",
    master: Annotated[
        str | None, typer.Option("--master", help="Spark master URL (with --engine spark).")
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Folder `puhui prospect train` wrote.")
    ] = None,
    train_market: Annotated[
        Path | None,
        typer.Option("--train-market", help="Train both models on this market first."),
    ] = None,
    strategy: StrategyFile = None,
    load: Annotated[
        bool, typer.Option("--load", help="Also load the list into the platform's database.")
    ] = False,
) -> None:
    """Pre-approve the market's enterprises as of --as-of and write the list, best first."""
    from puhui.pipelines.engines import engine_from_options  # noqa: PLC0415 - Spark is heavy
    from puhui.risk.need import need_features  # noqa: PLC0415

    month = _month(as_of)
    if (model is None) == (train_market is None):
        raise fail("give exactly one of --model DIR and --train-market DIR", code="usage")
    try:
        check_out_path(out)
        scored = _market(market)
        source, text = _strategy(strategy)
        mode = preapproval_mode(
            load_strategy(source, text=text, preapproval_sources=PRE_CONSENT_SOURCES)
        )
        runner = engine_from_options(engine, master)
        if train_market is not None:
            # Training takes minutes: a scored market that cannot be run is refused first.
            check_market(scored, month, mode.sources_before_consent)
        models = _models(model, train_market, scored, month, mode.sources_before_consent)
        models.refuse_same_market(scored)
        frame = run_preapproval(
            scored,
            month,
            engine=runner,
            need_model=models.need,
            risk_model=models.pd,
            strategy=(source, text),
            need_features=need_features,
            risk_model_label=models.pd_label,
        )
        write_prospects(frame, out)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    typer.echo(f"{frame.height:,} enterprises pre-approved as of {as_of} -> {out}")
    if load:
        meta = {
            "sources": ",".join(sorted(mode.sources_before_consent)),
            "strategy": mode.version,
            "models": f"{models.need.model_id}+{models.pd_label}",
            "engine": engine,
        }
        _load(frame, scored, month, meta)


def _models(
    model: Path | None,
    train_market: Path | None,
    scored: Path,
    month: date,
    sources: frozenset[str],
) -> ProspectModels:
    """The models of --model, or trained on --train-market (never the market scored)."""
    if train_market is None:
        if model is None:
            raise fail("give exactly one of --model DIR and --train-market DIR", code="usage")
        return ProspectModels.load(model)
    trained_on = MarketIdentity.of(_market(train_market, "--train-market"))
    if trained_on.same_as(MarketIdentity.of(scored)):
        raise fail(
            f"--train-market {train_market} is the market being scored ({scored}, "
            f"seed {trained_on.seed}): train on a market generated with another seed",
            code="same_market",
        )
    return train_prospect_models(train_market, month, sources, trained_at=datetime.now(UTC))


def _load(frame: pl.DataFrame, market: Path, month: date, meta: dict[str, str]) -> None:
    """Hand the list to the platform in one transaction (all or nothing per run)."""
    from puhui.bootstrap.prospects import load_run  # noqa: PLC0415 - the database only here
    from puhui.services.prospects.ports import RunMeta  # noqa: PLC0415

    settings = load_settings()
    tables = MarketTables.from_dir(market, names=(ENTERPRISES, LOAN_HISTORY), optional=())
    run_meta = RunMeta(
        sources=frozenset(meta["sources"].split(",")),
        strategy_version=meta["strategy"],
        model_version=meta["models"],
        engine=meta["engine"],
        customers=customers_by_place(tables, month),
    )
    try:
        report = load_run(settings, prospect_rows(frame), run_meta=run_meta, month=month)
    except PuhuiError as exc:
        raise fail(f"the list was written but not loaded: {exc.message}", code=exc.code) from None
    typer.echo(
        f"loaded run {report.run_id} for {report.month:%Y-%m}: {report.rows_loaded:,} prospects "
        f"({report.rows_new:,} new, {report.rows_kept:,} kept, {report.rows_expired:,} expired; "
        f"{report.assigned:,} assigned, {report.unassigned:,} without a manager)"
    )


@app.command("report")
def report_command(
    prospects: Annotated[Path, typer.Option("--prospects", help="File `prospect run` wrote.")],
    market: MarketDir,
    out: Annotated[Path, typer.Option("--out", help="Folder for the tables and pictures.")],
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of",
            help="The run's as-of month, YYYY-MM: customers are counted at its end "
            "(the file does not carry it).",
        ),
    ],
) -> None:
    """The marketing map: prospects, need, customers and penetration as CSV and PNG.

    Counted by region code, industry and park.
    """
    from puhui.cli.prospect_charts import map_chart  # noqa: PLC0415 - matplotlib is heavy

    load_settings()
    try:
        listed = read_prospects(prospects)
        tables = MarketTables.from_dir(_market(market), names=(ENTERPRISES, LOAN_HISTORY))
        month = _month(as_of)
        by_dimension = marketing_map(listed, tables, month)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    out.mkdir(parents=True, exist_ok=True)
    for dimension, table in by_dimension.items():
        table.write_csv(out / f"prospects_by_{dimension}.csv")
        map_chart(table, dimension, out / f"prospects_by_{dimension}.png")
    typer.echo(
        f"marketing map of {listed.height:,} prospects (customers as of {month:%Y-%m}) -> {out}"
    )
