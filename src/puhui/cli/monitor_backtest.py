"""``puhui monitor backtest`` and ``puhui monitor train-model``: the measured core on a market."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from puhui.bootstrap.settings import Settings
from puhui.cli.context import fail
from puhui.cli.engine_options import EngineOption, MasterOption, chosen_engine
from puhui.cli.progress import progress_bar
from puhui.decision.triggers import load_shipped_triggers, load_triggers
from puhui.domain.errors import PuhuiError
from puhui.pipelines.monitoring_backtest import run_backtest
from puhui.pipelines.monitoring_inputs import DEFAULT_CHUNK_SIZE, month_of
from puhui.risk.behaviour import (
    BehaviouralModel,
    load_behaviour_model,
    train_behaviour_model,
)


def _market(path: Path, option: str) -> Path:
    if not (path / "tables").is_dir():
        raise fail(f"{option} {path}: no generated market there (missing tables/)", code="usage")
    return path


def backtest(
    *,
    market: Annotated[Path, typer.Option(help="Market folder to monitor (every enterprise).")],
    from_month: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
    to_month: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")],
    out: Annotated[Path, typer.Option(help="CSV to write: uscc,month,severity,codes,...")],
    model: Annotated[
        Path | None, typer.Option(help="Behavioural model folder (train-model).")
    ] = None,
    train_market: Annotated[
        Path | None, typer.Option(help="Or train the model on this (other) market first.")
    ] = None,
    triggers: Annotated[
        Path | None, typer.Option(help="Trigger rules YAML (default: the shipped ones).")
    ] = None,
    chunk_size: Annotated[int, typer.Option(help="Enterprises per chunk.")] = DEFAULT_CHUNK_SIZE,
    engine: EngineOption = "local",
    master: MasterOption = None,
) -> None:
    """Monitor every enterprise of a market month by month; one CSV row per alert.

    The behavioural model comes from ``--model``, is trained first on ``--train-market`` (never
    the evaluated market), or is the configured one (``PUHUI_BEHAVIOUR_MODEL_DIR``); without
    any, the rules run on the market data alone and ``behavioural_pd`` is left empty.
    """
    runner = chosen_engine(engine, master, chunk_size)
    if model is not None and train_market is not None:
        raise fail("give one of --model DIR or --train-market DIR, not both", code="usage")
    if model is None and train_market is None:
        model = Settings().behaviour_model_dir
        if model is None:
            typer.echo(
                "no behavioural model (--model, --train-market or PUHUI_BEHAVIOUR_MODEL_DIR): "
                "the rules run without behavioural PD",
                err=True,
            )
    try:
        first, last = month_of(from_month), month_of(to_month)
        if last < first:
            raise fail(f"--to {to_month} is before --from {from_month}", code="usage")
        evaluated = _market(market, "--market")
        rules = load_shipped_triggers() if triggers is None else load_triggers(triggers)
        behaviour: BehaviouralModel | None = None
        if model is not None:
            behaviour = load_behaviour_model(model)
        elif train_market is not None:
            source = _market(train_market, "--train-market")
            if source.resolve() == evaluated.resolve():
                raise fail("--train-market must be another market than --market", code="usage")
            with tempfile.TemporaryDirectory() as folder, progress_bar() as progress:
                progress.start(None, f"behavioural model: training on {source}")
                behaviour = train_behaviour_model(
                    source, trained_at=datetime.now(UTC), out=Path(folder)
                )

        def report(month: date, customers: int, alerts: int) -> None:
            typer.echo(f"{month:%Y-%m}: {customers:,} customers, {alerts:,} alerts", err=True)

        with progress_bar() as progress:
            summary = run_backtest(
                evaluated,
                first,
                last,
                out,
                model=behaviour,
                triggers=rules,
                chunk_size=chunk_size,
                progress=report,
                bar=progress,
                engine=None if runner.name == "local" else runner,
            )
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    typer.echo(
        f"{summary.alerts:,} alerts over {summary.customer_months:,} customer-months "
        f"({summary.alert_rate:.2%}) in {summary.months} months written to {out}"
    )


def train_model(
    *,
    market: Annotated[Path, typer.Option(help="Market folder whose booked loans to learn from.")],
    out: Annotated[Path, typer.Option(help="Folder to save the behavioural model into.")],
) -> None:
    """Train the behavioural PD model on a market's loan history (never its truth/)."""
    try:
        source = _market(market, "--market")
        with progress_bar() as progress:
            progress.start(None, f"behavioural model: training on {source}")
            trained = train_behaviour_model(source, trained_at=datetime.now(UTC), out=out)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    figures = trained.artefact.metadata.metrics.get("out_of_sample", {})
    typer.echo(
        f"behavioural model on {trained.info['rows']} customer-months "
        f"({trained.info['bad']} bad), out-of-sample AUC {figures.get('auc', float('nan')):.3f}, "
        f"saved to {out}"
    )
