"""``puhui eod``: close a business date (accrual, settlement, overdue, classification, GL)."""

from __future__ import annotations

import json

import typer

from puhui.cli.context import platform
from puhui.cli.ledger import parse_business_date
from puhui.cli.progress import progress_bar
from puhui.pipelines.eod import run_end_of_day

app = typer.Typer(help="End of day: the nightly batch of servicing.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """End of day: the nightly batch of servicing."""


@app.command("run")
def run_command(
    as_of: str = typer.Option(..., "--as-of", help="Business date to close, YYYY-MM-DD."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Run (or resume) the end of day of a date; a completed date is left unchanged."""
    day = parse_business_date(as_of)
    with platform() as p, progress_bar(as_json=as_json) as progress:
        store = p.end_of_day_store()
        report = run_end_of_day(store, day, progress)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "as_of": report.as_of.isoformat(),
                    "already_completed": report.already_completed,
                    "resumed": report.resumed,
                    "rows_by_step": report.rows_by_step,
                }
            )
        )
    elif report.already_completed:
        typer.echo(f"end of day {day.isoformat()} was already completed: nothing changed")
    else:
        verb = "resumed and completed" if report.resumed else "completed"
        typer.echo(f"end of day {day.isoformat()} {verb}")
        for step, rows in report.rows_by_step.items():
            typer.echo(f"  {step:<12} {rows:>12,} rows")
