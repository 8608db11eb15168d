"""``puhui concentration``: evaluate the concentration limits on the drawn book."""

from __future__ import annotations

import json

import typer

from puhui.cli.context import platform
from puhui.cli.ledger import parse_business_date
from puhui.domain.money import format_yuan

app = typer.Typer(help="Concentration limits (集中度) of the book.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """Concentration limits (集中度) of the book."""


@app.command("evaluate")
def evaluate_command(
    as_of: str | None = typer.Option(None, "--as-of", help="Date (YYYY-MM-DD); default today."),
    actor: str = typer.Option("system:concentration", "--actor", help="Who runs it (audit)."),
    as_json: bool = typer.Option(False, "--json", help="Print the evaluation as JSON."),
) -> None:
    """Evaluate the limits, store the breaches, propose a tightened strategy for a breach.

    The proposal is a draft submitted for a second person to approve; it is never
    activated here."""
    # The wiring pulls in the data-source stack: imported when the command runs.
    from puhui.bootstrap.concentration import (  # noqa: PLC0415
        DataSourceClusters,
        concentration_service,
        market_circles,
    )
    from puhui.bootstrap.wiring import origination_ports  # noqa: PLC0415
    from puhui.services import concentration  # noqa: PLC0415

    with platform() as p:
        day = p.clock.today() if as_of is None else parse_business_date(as_of)
        ports = origination_ports(p)
        market = p.settings.market_dir
        circles = None if market is None else market_circles(market)
        clusters = (
            DataSourceClusters(ports.data_source, circles) if "data_source" in ports.wired else None
        )
        service = concentration_service(p, clusters=clusters)
        result = concentration.evaluate(service, as_of=day, actor=actor)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "evaluation_id": result.evaluation_id,
                    "document": result.document,
                    "as_of": result.as_of.isoformat(),
                    "book_fen": result.book_fen,
                    "customers": result.customers,
                    "clusters": [vars_of(c) for c in result.clusters],
                    "breaches": [vars_of(b) for b in result.breaches],
                    "proposed_strategy": result.proposed_strategy,
                },
                ensure_ascii=False,
            )
        )
        return
    typer.echo(
        f"{result.document} on {result.as_of.isoformat()}: book {format_yuan(result.book_fen)}"
        f" over {result.customers} customer(s), {len(result.breaches)} breach(es)"
    )
    for b in result.breaches:
        typer.echo(
            f"  {b.dimension:<16} {b.cluster:<12} {b.code:<30} {b.value} (limit {b.threshold})"
            f"  -> {b.parameter} {b.multiplier}"
        )
    if result.proposed_strategy is not None:
        typer.echo(f"proposed for approval: {result.proposed_strategy} (not active)")


def vars_of(item: object) -> dict[str, object]:
    return {name: getattr(item, name) for name in item.__slots__}  # type: ignore[attr-defined]
