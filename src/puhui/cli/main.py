"""Entry point of the ``puhui`` command."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

import puhui
from puhui.cli import (
    advisor,
    apikey,
    audit,
    db,
    dealer,
    decision,
    eod,
    features,
    federated,
    graph,
    green,
    guarantee,
    keys,
    ledger,
    line,
    loan,
    loan_changes,
    market,
    model,
    monitor,
    monitor_backtest,
    monitor_run,
    partner,
    prospect,
    prosperity,
    qr,
    report,
    serve,
    strategy,
    user,
    voucher,
)
from puhui.cli import collections as collections_cli
from puhui.cli import concentration as concentration_cli
from puhui.cli.demo import demo
from puhui.cli.errors import DEBUG_KEY, PuhuiGroup
from puhui.cli.model_monitor import monitor_command

if TYPE_CHECKING:
    from puhui.bootstrap import Platform
    from puhui.services.model_monitoring import DecisionHistory


def _decision_history(platform: Platform) -> DecisionHistory:
    from puhui.bootstrap.wiring import decision_history  # noqa: PLC0415 - heavy imports

    return decision_history(platform)


app = typer.Typer(
    name="puhui",
    help="Puhui (普惠): digital lending for micro and small enterprises.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=PuhuiGroup,
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    debug: bool = typer.Option(
        False, "--debug", help="Show the traceback of an error instead of one sentence."
    ),
) -> None:
    """Puhui (普惠): digital lending for micro and small enterprises."""
    ctx.meta[DEBUG_KEY] = debug


app.command(name="demo")(demo)
app.command(name="qr")(qr.qr)
app.add_typer(db.app, name="db")
app.add_typer(audit.app, name="audit")
app.add_typer(market.app, name="market")
app.add_typer(graph.app, name="graph")
app.add_typer(model.app, name="model")
model.app.command(name="monitor")(monitor_command(_decision_history))
app.add_typer(loan.app, name="loan")
app.add_typer(partner.app, name="partner")
loan_changes.register(loan.app)
app.add_typer(line.app, name="line")
app.add_typer(eod.app, name="eod")
app.add_typer(ledger.app, name="ledger")
app.add_typer(serve.app, name="serve")
app.add_typer(strategy.app, name="strategy")
app.add_typer(decision.app, name="decision")
app.add_typer(features.app, name="features")
app.add_typer(user.app, name="user")
app.add_typer(apikey.app, name="apikey")
app.add_typer(keys.app, name="keys")
app.add_typer(monitor.app, name="monitor")
app.add_typer(collections_cli.app, name="collections")
app.add_typer(concentration_cli.app, name="concentration")
app.add_typer(report.app, name="report")
app.add_typer(prospect.app, name="prospect")
app.add_typer(prosperity.app, name="prosperity")
app.add_typer(voucher.app, name="voucher")
app.add_typer(dealer.app, name="dealer")
app.add_typer(guarantee.app, name="guarantee")
app.add_typer(federated.app, name="federated")
app.add_typer(advisor.app, name="advisor")
app.add_typer(green.app, name="green")
monitor_run.register(monitor.app)
monitor.app.command(name="backtest")(monitor_backtest.backtest)
monitor.app.command(name="train-model")(monitor_backtest.train_model)


@app.command()
def version() -> None:
    """Print the version of Puhui."""
    typer.echo(f"puhui {puhui.__version__}")


def main() -> None:
    app()


if __name__ == "__main__":  # `python -m puhui.cli.main` (the benchmarks run it so)
    main()
