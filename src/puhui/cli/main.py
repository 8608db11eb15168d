"""Entry point of the ``puhui`` command."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperCommand

import puhui
from puhui.cli.errors import DEBUG_KEY, PuhuiGroup

if TYPE_CHECKING:
    from types import ModuleType

    from puhui.bootstrap import Platform
    from puhui.services.model_monitoring import DecisionHistory


def _decision_history(platform: Platform) -> DecisionHistory:
    from puhui.bootstrap.wiring import decision_history  # noqa: PLC0415 - heavy imports

    return decision_history(platform)


def _cli(name: str) -> ModuleType:
    return importlib.import_module(f"puhui.cli.{name}")


def _add_model_monitor(model: ModuleType) -> None:
    monitor_command = _cli("model_monitor").monitor_command
    model.app.command(name="monitor")(monitor_command(_decision_history))


def _add_loan_changes(loan: ModuleType) -> None:
    _cli("loan_changes").register(loan.app)


def _add_monitor_commands(monitor: ModuleType) -> None:
    _cli("monitor_run").register(monitor.app)
    backtest = _cli("monitor_backtest")
    monitor.app.command(name="backtest")(backtest.backtest)
    monitor.app.command(name="train-model")(backtest.train_model)


@dataclass(frozen=True, slots=True)
class _Sub:
    """A sub-command whose module is imported only when it runs (or its own help is asked)."""

    summary: str
    """Its first line of help, for ``puhui --help`` (a test holds it equal to the module's)."""
    module: str
    attribute: str = "app"
    extend: Callable[[ModuleType], None] | None = None
    """Commands other modules add to the group."""


_SUBS: dict[str, _Sub] = {
    "demo": _Sub(
        "Generate a market, train on its history, lend for a year on the configured database.",
        "demo",
        "demo",
    ),
    "qr": _Sub(
        "Write the QR code that opens the H5 pages for a branch; print the address it encodes.",
        "qr",
        "qr",
    ),
    "db": _Sub("Database schema: migrate and inspect.", "db"),
    "audit": _Sub("Audit trail.", "audit"),
    "market": _Sub("Synthetic market of micro and small enterprises.", "market"),
    "graph": _Sub("Relationship graph (关系图谱) of a market.", "graph"),
    "model": _Sub(
        "Credit risk models: scorecard and gradient boosting.", "model", extend=_add_model_monitor
    ),
    "loan": _Sub("Term loans: repayment schedules.", "loan", extend=_add_loan_changes),
    "partner": _Sub(
        "Lending with partners: joint lending (联合贷款) and facilitation (助贷).", "partner"
    ),
    "line": _Sub("Revolving credit lines (随借随还).", "line"),
    "eod": _Sub("End of day: the nightly batch of servicing.", "eod"),
    "ledger": _Sub(
        "General ledger: balances, repayments reconciled with the channel, and suspense (挂账).",
        "ledger",
    ),
    "serve": _Sub("Serve the open API.", "serve"),
    "strategy": _Sub("Credit strategies: validate, backtest, JDM, lifecycle.", "strategy"),
    "decision": _Sub("Stored decisions: show and replay.", "decision"),
    "features": _Sub(
        "Feature store: enterprise features computed in batch, read by key when deciding.",
        "features",
    ),
    "user": _Sub(
        "Staff users: create, disable, enable; approver and admin roles need two admins.", "user"
    ),
    "apikey": _Sub("Partner API keys: create, rotate, revoke.", "apikey"),
    "keys": _Sub("Data-encryption keys: rotate.", "keys"),
    "monitor": _Sub(
        "Post-loan monitoring (贷后): trigger runs, backtests, alerts and tasks.",
        "monitor",
        extend=_add_monitor_commands,
    ),
    "collections": _Sub("Collections (催收): DPD queues of delinquent receipts.", "collections"),
    "concentration": _Sub("Concentration limits (集中度) of the book.", "concentration"),
    "report": _Sub("Portfolio reporting: the dashboards' daily aggregates.", "report"),
    "prospect": _Sub(
        "Pre-approval (主动授信): who to invite this month, and the marketing map.", "prospect"
    ),
    "outbox": _Sub(
        "The notification outbox: offers to prospects and notices to borrowers.", "outbox"
    ),
    "prosperity": _Sub("Prosperity indices (景气指数) by industry and region.", "prosperity"),
    "voucher": _Sub(
        "Payable vouchers (电子债权凭证): simulate issue, split, transfer, financing, settlement.",
        "voucher",
    ),
    "dealer": _Sub("Dealer loans (经销商贷): lines drawn to pay the core.", "dealer"),
    "guarantee": _Sub(
        "Guarantee agencies (银担合作): agreements, covers, claims, exposure.", "guarantee"
    ),
    "federated": _Sub(
        "Vertical federated learning with a data owner (docs/federated.md).", "federated"
    ),
    "advisor": _Sub("The owner's business-health report (智能财务顾问).", "advisor"),
    "green": _Sub("Green finance pre-screening (绿色金融预筛).", "green"),
}
_ORDER = ("demo", "qr", "version", *(name for name in _SUBS if name not in ("demo", "qr")))


@functools.cache
def _load(name: str) -> Any:
    """The sub-command ``name`` built from its module (once per process)."""
    sub = _SUBS[name]
    module = _cli(sub.module)
    if sub.extend is not None:
        sub.extend(module)
    target = getattr(module, sub.attribute)
    # Built as the root would build it (a group added with add_typer, a command with
    # command), under a stand-in root: no completion options, Typer's own naming.
    holder = typer.Typer(add_completion=False)
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
        return typer.main.get_command(holder).commands[name]  # type: ignore[attr-defined]
    holder.command(name=name)(target)
    command = typer.main.get_command(holder)
    command.name = name
    return command


class _LazyRoot(PuhuiGroup):
    """``puhui``: each sub-command imports its module when it runs, so a command pays only for
    what it uses; ``puhui --help`` lists them from their summaries without importing any."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._listing = False

    # Contexts and formatters are those of the Click that Typer ships (hence Any).
    def list_commands(self, ctx: Any) -> list[str]:
        eager = [name for name in super().list_commands(ctx) if name not in _ORDER]
        return [*_ORDER, *eager]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in _SUBS:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            return TyperCommand(cmd_name, help=_SUBS[cmd_name].summary)
        return _load(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="puhui",
    help="Puhui (普惠): digital lending for micro and small enterprises.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=_LazyRoot,
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


@app.command()
def version() -> None:
    """Print the version of Puhui."""
    typer.echo(f"puhui {puhui.__version__}")


def main() -> None:
    app()


if __name__ == "__main__":  # `python -m puhui.cli.main` (the benchmarks run it so)
    main()
