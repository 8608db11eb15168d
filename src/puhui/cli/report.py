"""``puhui report``: rebuild the portfolio dashboards' aggregates of a date."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import typer

from puhui.adapters.db.reporting import SqlReportingStore
from puhui.cli.context import fail, platform
from puhui.cli.ledger import parse_business_date
from puhui.services.reporting.dashboards import refresh_reports
from puhui.services.reporting.model import RefreshResult

app = typer.Typer(
    help="Portfolio reporting: the dashboards' daily aggregates.", no_args_is_help=True
)


@app.callback()
def main() -> None:
    """Portfolio reporting: the dashboards' daily aggregates."""


@app.command("refresh")
def refresh_command(
    as_of: str = typer.Option(..., "--as-of", help="Date to rebuild, YYYY-MM-DD."),
    since: str | None = typer.Option(
        None, "--from", help="Rebuild every day from this date through --as-of (backfill)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Rebuild a date's aggregates, replacing them atomically.

    The end of day builds them each night. The latest closed date is rebuilt whole, an
    earlier one only its origination figures (its balances are gone: the book has moved
    on)."""
    last = parse_business_date(as_of)
    first = last if since is None else parse_business_date(since)
    if first > last:
        raise fail("--from is after --as-of", code="invalid_date")
    results: list[RefreshResult] = []
    with platform() as p:
        store = SqlReportingStore(p.database.engine, clock=p.clock)
        day = first
        while day <= last:
            results.append(refresh_reports(store, day))
            day += timedelta(days=1)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "as_of": r.as_of.isoformat(),
                        "portfolio_rebuilt": r.portfolio_rebuilt,
                        "rows": r.rows,
                    }
                    for r in results
                ]
            )
        )
        return
    for r in results:
        what = "portfolio and origination" if r.portfolio_rebuilt else "origination only"
        typer.echo(f"report {r.as_of.isoformat()} rebuilt ({what}): {r.rows:,} rows")


@app.command("green")
def green_command(
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of lines."),
) -> None:
    """Green loans: outstanding loans and balance by green label and catalogue category.

    A loan carries the label its application was decided with (docs/green.md).
    """
    from puhui.domain.money import format_yuan  # noqa: PLC0415

    with platform() as p:
        book = SqlReportingStore(p.database.engine, clock=p.clock).green_loans()
    rows: list[dict[str, Any]] = [
        {
            "label": line.label,
            "category": line.category,
            "loans": line.loans,
            "outstanding_principal_fen": line.outstanding_principal_fen,
        }
        for line in book
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        typer.echo("no loan with principal outstanding")
        return
    typer.echo(f"{'label':<17} {'category':<28} {'loans':>7} {'outstanding (RMB)':>20}")
    for row in rows:
        typer.echo(
            f"{row['label']:<17} {row['category']:<28} {row['loans']:>7} "
            f"{format_yuan(row['outstanding_principal_fen']):>20}"
        )
