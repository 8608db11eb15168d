"""``puhui db``: schema migrations."""

from __future__ import annotations

import typer

from puhui.cli.context import platform

app = typer.Typer(help="Database schema: migrate and inspect.", no_args_is_help=True)


@app.command()
def upgrade() -> None:
    """Apply every pending migration (creates the SQLite file if needed).

    A fresh database also gets the packaged strategy as its active version 1.
    """
    with platform() as p:
        before = p.database.status()
        after = p.migrate()
        applied = [rev for rev in before.pending if rev not in after.pending]
        typer.echo(f"database: {p.database.display_url}")
        if applied:
            typer.echo(f"applied: {', '.join(applied)}")
        typer.echo(f"at revision {after.current} (head {after.head}); up to date")


@app.command()
def status() -> None:
    """Show the current revision and what is pending; exit 1 if not up to date."""
    with platform() as p:
        state = p.database.status()
        typer.echo(f"database: {p.database.display_url}")
        typer.echo(f"current:  {state.current or '(empty)'}")
        typer.echo(f"head:     {state.head}")
        if state.pending:
            typer.echo(f"pending:  {', '.join(state.pending)}")
            raise typer.Exit(1)
        typer.echo("up to date")
