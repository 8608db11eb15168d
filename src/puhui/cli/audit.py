"""``puhui audit``: check the hash chain of the audit trail."""

from __future__ import annotations

import typer

from puhui.cli.context import platform
from puhui.services.audit import verify_audit_chain

app = typer.Typer(help="Audit trail.", no_args_is_help=True)


@app.command()
def verify() -> None:
    """Check every audit event against the chain; exit 1 naming the first broken event."""
    with platform() as p:
        report = verify_audit_chain(p.uow, key=p.audit_key)
    if report.first_break is not None:
        typer.echo(
            f"audit chain BROKEN at event {report.first_break.seq}: {report.first_break.reason} "
            f"({report.events_checked} events verified before it)",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {report.events_checked} events verified")
