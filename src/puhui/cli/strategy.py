"""``puhui strategy``: validate, backtest, JDM interchange and the lifecycle of strategies."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from puhui.cli.context import fail, platform
from puhui.cli.progress import progress_bar
from puhui.decision.backtest import DEFAULT_LGD, backtest_file, run_backtest, write_report
from puhui.decision.document import json_schema
from puhui.decision.engine import CompiledStrategy
from puhui.decision.jdm import export_jdm, import_jdm
from puhui.decision.outcome import ModelResult
from puhui.decision.population import write_population
from puhui.decision.strategy import (
    StrategyInvalid,
    dump_document,
    load_strategy,
    parse_document,
    shipped_strategy_text,
)
from puhui.domain.clock import Clock, SystemClock
from puhui.domain.errors import PuhuiError
from puhui.services import strategies as lifecycle

app = typer.Typer(
    help="Credit strategies: validate, backtest, JDM, lifecycle.", no_args_is_help=True
)

StrategyFile = Annotated[Path, typer.Option("--strategy", "-s", help="Strategy YAML file.")]
Actor = Annotated[str, typer.Option("--actor", help="Who does this (recorded in the audit trail).")]
AsOf = Annotated[
    str | None, typer.Option("--as-of", help="Decision date YYYY-MM-DD (default: today, Shanghai).")
]
Licence = Annotated[str, typer.Option("--licence-type", help="Lender licence type (legal cap).")]


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except StrategyInvalid as exc:
        typer.echo(exc.message, err=True)
        raise typer.Exit(1) from None
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    except OSError as exc:
        raise fail(str(exc), code="io_error") from None


def _load(path: Path) -> CompiledStrategy:
    if not path.exists() and not path.suffix:
        # A bare name means a shipped strategy (e.g. `mse-online-credit`).
        return load_strategy(f"{path}.yaml", text=shipped_strategy_text(str(path)))
    return load_strategy(path)


def _as_of(text: str | None) -> dt.date:
    if text is None:
        return SystemClock().today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail(f"--as-of must be YYYY-MM-DD, got {text!r}", code="invalid_date") from None


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="Strategy YAML file.")]) -> None:
    """Check a strategy document; exit 1 listing every problem with its line and path."""
    with _errors():
        compiled = _load(file)
    typer.echo(f"{compiled.version} is valid (content {compiled.content_hash[:12]})")


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option("--out", help="Write to a file.")] = None,
) -> None:
    """Print the JSON Schema of strategy documents."""
    text = json.dumps(json_schema(), indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"schema written to {out}")


@app.command()
def decide(  # noqa: PLR0917
    strategy: StrategyFile,
    inputs: Annotated[Path, typer.Option("--inputs", help="JSON file of decision inputs.")],
    pd: Annotated[float | None, typer.Option("--pd", help="Model PD.")] = None,
    score: Annotated[float | None, typer.Option("--score", help="Model score.")] = None,
    as_of: AsOf = None,
    licence_type: Licence = "bank",
    trace: Annotated[bool, typer.Option("--trace", help="Include every rule evaluated.")] = False,
) -> None:
    """Decide one application from stored inputs and model outputs; print the decision as JSON."""
    with _errors():
        compiled = _load(strategy)
        data: dict[str, Any] = json.loads(inputs.read_text(encoding="utf-8"))
        decision = compiled.evaluate(
            data,
            ModelResult(pd=pd, score=score),
            as_of=_as_of(as_of),
            licence_type=licence_type,
            trace=trace,
        )
    record = decision.to_dict(with_trace=trace)
    record["reason_text_zh"] = compiled.explain(decision, "zh")
    record["reason_text_en"] = compiled.explain(decision, "en")
    typer.echo(json.dumps(record, ensure_ascii=False, indent=2, default=str))


@app.command()
def population(
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write.")],
    size: Annotated[int, typer.Option("--size", min=1)] = 10_000,
    seed: Annotated[int, typer.Option("--seed")] = 42,
) -> None:
    """Write a synthetic population of stored decision inputs (for trying backtests)."""
    write_population(out, size, seed=seed)
    typer.echo(f"{size} applicants written to {out}")


def _stored_population(first: str, last: str) -> list[dict[str, Any]]:
    from puhui.bootstrap.wiring import origination_units  # noqa: PLC0415 - heavy imports
    from puhui.services.origination.replay import stored_population  # noqa: PLC0415

    try:
        first_day, last_day = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    except ValueError:
        raise fail(
            f"--decided-from and --decided-to are dates YYYY-MM-DD, got {first!r} and {last!r}",
            code="invalid_date",
        ) from None
    with platform() as p:
        rows = stored_population(origination_units(p).reader, first_day, last_day)
    if not rows:
        raise fail(f"no stored decisions from {first} to {last}", code="not_found")
    return rows


@app.command()
def backtest(  # noqa: PLR0917
    strategy: StrategyFile,
    population: Annotated[
        Path | None, typer.Option("--population", help="Parquet of stored inputs.")
    ] = None,
    decided_from: Annotated[
        str | None,
        typer.Option("--decided-from", help="Or: real decisions stored from YYYY-MM-DD ..."),
    ] = None,
    decided_to: Annotated[
        str | None, typer.Option("--decided-to", help="... to YYYY-MM-DD (in the database).")
    ] = None,
    against: Annotated[
        Path | None, typer.Option("--against", help="The current strategy, for the swap set.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for backtest.md/.png.")] = Path(
        "backtest"
    ),
    as_of: AsOf = None,
    licence_type: Licence = "bank",
    lgd: Annotated[str, typer.Option("--lgd", help="Loss given default.")] = str(DEFAULT_LGD),
) -> None:
    """Replay a population through a strategy (and the current one): Markdown + PNG report.

    The population is a Parquet file of inputs (``--population``), or the real decisions
    stored in the database between two dates (``--decided-from``/``--decided-to``): each
    replayed with the inputs it read and its model's score.
    """
    try:
        lgd_value = Decimal(lgd)
    except InvalidOperation:
        raise fail(f"--lgd must be a decimal number, got {lgd!r}", code="invalid_input") from None
    stored = decided_from is not None or decided_to is not None
    if stored == (population is not None) or (stored and not (decided_from and decided_to)):
        raise fail(
            "give either --population FILE or both --decided-from and --decided-to",
            code="invalid_input",
        )
    rows = _stored_population(decided_from or "", decided_to or "") if stored else None
    with _errors(), progress_bar() as progress:
        progress.start(None, f"backtest: replaying the population through {strategy}")
        candidate = _load(strategy)
        current = None if against is None else _load(against)
        if rows is not None:
            report = run_backtest(
                candidate,
                rows,
                against=current,
                as_of=_as_of(as_of),
                licence_type=licence_type,
                lgd=lgd_value,
                population=f"stored decisions {decided_from} .. {decided_to}",
            )
        else:
            report = backtest_file(
                candidate,
                population or Path(),
                against=current,
                as_of=_as_of(as_of),
                licence_type=licence_type,
                lgd=lgd_value,
            )
        progress.start(None, f"backtest: writing the report into {out}")
        markdown, chart = write_report(report, out)
    total = report.candidate.total
    typer.echo(
        f"{report.candidate.strategy_version}: {report.applicants} applicants, approval rate "
        f"{total.approval_rate:.2%}, expected bad rate {total.expected_bad_rate:.2%}"
    )
    if report.current is not None and report.swaps is not None:
        typer.echo(
            f"{report.current.strategy_version}: approval rate "
            f"{report.current.total.approval_rate:.2%}; swap-in {report.swaps.swap_in}, "
            f"swap-out {report.swaps.swap_out}"
        )
    typer.echo(f"report: {markdown} and {chart}")


@app.command("export-jdm")
def export_jdm_command(
    strategy: StrategyFile,
    out: Annotated[Path | None, typer.Option("--out", help="JDM JSON file.")] = None,
) -> None:
    """Export the strategy's decision tables as a GoRules JDM graph."""
    with _errors():
        compiled = _load(strategy)
    text = json.dumps(export_jdm(compiled.document), indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"JDM written to {out}")


@app.command("import-jdm")
def import_jdm_command(
    strategy: StrategyFile,
    jdm: Annotated[Path, typer.Option("--jdm", help="JDM JSON file edited in GoRules.")],
    out: Annotated[Path, typer.Option("--out", help="New strategy YAML file.")],
    version: Annotated[
        int | None, typer.Option("--version", help="Version of the new document.")
    ] = None,
) -> None:
    """Replace the strategy's tables by the JDM graph's; write and validate a new document."""
    with _errors():
        document, _ = parse_document(strategy.read_text(encoding="utf-8"), source=str(strategy))
        graph = json.loads(jdm.read_text(encoding="utf-8"))
        updated = import_jdm(document, graph)
        if version is not None:
            updated = updated.model_copy(update={"version": version})
        text = dump_document(updated)
        compiled = load_strategy(out, text=text)
        out.write_text(text, encoding="utf-8")
    typer.echo(f"{compiled.version} written to {out}")


# --- lifecycle ---------------------------------------------------------------------------


@contextmanager
def _lifecycle() -> Iterator[tuple[lifecycle.UowFactory, Clock]]:
    with platform() as p, _errors():
        yield p.strategy_uow, p.clock


def _show(item: lifecycle.StrategyVersion) -> None:
    typer.echo(
        f"{item.label}\t{item.status.value}\tcreated by {item.created_by}"
        + (f", approved by {item.approved_by}" if item.approved_by else "")
        + f"\t{item.content_hash[:12]}"
        + _sent_back(item)
    )


def _sent_back(item: lifecycle.StrategyVersion) -> str:
    """The latest sending back to draft, if any: who, which day and why."""
    if item.returned_by is None or item.returned_at is None:
        return ""
    why = f": {item.return_reason}" if item.return_reason else ""
    return f"\tsent back by {item.returned_by} on {item.returned_at.date()}{why}"


@app.command()
def draft(file: Annotated[Path, typer.Argument()], actor: Actor) -> None:
    """Store a strategy file as a new draft version."""
    with _lifecycle() as (uow, clock):
        _show(
            lifecycle.create_draft(
                uow, text=file.read_text(encoding="utf-8"), actor=actor, clock=clock
            )
        )


@app.command()
def update(file: Annotated[Path, typer.Argument()], actor: Actor) -> None:
    """Replace a draft's document (same name and version)."""
    with _lifecycle() as (uow, clock):
        _show(
            lifecycle.update_draft(
                uow, text=file.read_text(encoding="utf-8"), actor=actor, clock=clock
            )
        )


def _step(action: Callable[..., lifecycle.StrategyVersion]) -> Callable[[str, int, str], None]:
    def command(
        name: Annotated[str, typer.Argument()],
        version: Annotated[int, typer.Argument()],
        actor: Actor,
    ) -> None:
        with _lifecycle() as (uow, clock):
            _show(action(uow, name, version, actor=actor, clock=clock))

    command.__doc__ = action.__doc__
    return command


app.command("submit", help="Submit a draft for approval.")(_step(lifecycle.submit))
app.command("approve", help="Approve a submitted version (not by its author or submitter).")(
    _step(lifecycle.approve)
)


@app.command("reject")
def reject(
    name: Annotated[str, typer.Argument()],
    version: Annotated[int, typer.Argument()],
    actor: Actor,
    reason: Annotated[
        str | None,
        typer.Option("--reason", help="What its author should change (kept on the version)."),
    ] = None,
) -> None:
    """Send a submitted version back to draft, with what its author should change."""
    with _lifecycle() as (uow, clock):
        _show(lifecycle.reject(uow, name, version, actor=actor, clock=clock, reason=reason))


@app.command("activate")
def activate(
    name: Annotated[str, typer.Argument()],
    version: Annotated[int, typer.Argument()],
    actor: Actor,
) -> None:
    """Make a version active; the active one is retired (rollback too).

    Refused, with the names, when the version reads inputs the platform does not provide.
    Every API worker decides with it from the next application on.
    """
    from puhui.bootstrap.wiring import strategy_input_schema  # noqa: PLC0415

    with _lifecycle() as (uow, clock):
        _show(
            lifecycle.activate(
                uow, name, version, actor=actor, clock=clock, schema=strategy_input_schema()
            )
        )


@app.command("challenge")
def challenge(
    name: Annotated[str, typer.Argument()],
    version: Annotated[int, typer.Argument()],
    actor: Actor,
    share_bp: Annotated[
        int,
        typer.Option(
            "--share-bp",
            help="Basis points of enterprises the challenger decides (1..5000); 0 with --shadow.",
        ),
    ] = 0,
    shadow: Annotated[
        bool, typer.Option("--shadow", help="Decide nothing; record its decision beside.")
    ] = False,
) -> None:
    """Run an approved version as challenger beside the active one (champion)."""
    from puhui.bootstrap.wiring import strategy_input_schema  # noqa: PLC0415

    mode = lifecycle.ChallengerMode.SHADOW if shadow else lifecycle.ChallengerMode.LIVE
    with _lifecycle() as (uow, clock):
        started = lifecycle.start_challenger(
            uow,
            name,
            version,
            mode=mode,
            share_bp=share_bp,
            actor=actor,
            clock=clock,
            schema=strategy_input_schema(),
        )
    typer.echo(
        f"{started.label} runs as {started.mode.value} challenger"
        + (f" on {started.share_bp} bp of enterprises" if started.share_bp else "")
    )


@app.command("end-challenge")
def end_challenge(name: Annotated[str, typer.Argument()], actor: Actor) -> None:
    """Stop the challenger of a strategy; the champion decides everything again."""
    with _lifecycle() as (uow, _):
        ended = lifecycle.stop_challenger(uow, name, actor=actor)
    typer.echo(f"{ended.label} no longer challenges")


app.command("retire", help="Retire the active version.")(_step(lifecycle.retire))


@app.command("list")
def list_command(name: Annotated[str | None, typer.Argument()] = None) -> None:
    """List stored versions and their status."""
    with _lifecycle() as (uow, _):
        for item in lifecycle.list_versions(uow, name):
            _show(item)


@app.command()
def show(name: Annotated[str, typer.Argument()], version: Annotated[int, typer.Argument()]) -> None:
    """Print a stored version's document."""
    with _lifecycle() as (uow, _):
        typer.echo(lifecycle.get_version(uow, name, version).document)


@app.command()
def diff(
    name: Annotated[str, typer.Argument()],
    old: Annotated[int, typer.Argument()],
    new: Annotated[int, typer.Argument()],
) -> None:
    """Unified diff between two stored versions (canonical form)."""
    with _lifecycle() as (uow, _):
        typer.echo(lifecycle.diff_versions(uow, name, old, new) or "(no differences)")
