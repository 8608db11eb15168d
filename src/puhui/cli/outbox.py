"""``puhui outbox``: deliver the messages waiting in the notification outbox."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from puhui.cli.context import fail, load_settings
from puhui.domain.errors import PuhuiError

app = typer.Typer(
    help="The notification outbox: offers to prospects and notices to borrowers.",
    no_args_is_help=True,
)


@app.callback()
def main() -> None:
    """The notification outbox: offers to prospects and notices to borrowers."""


@app.command("dispatch")
def dispatch_command(
    limit: Annotated[
        int,
        typer.Option("--limit", min=1, max=10_000, help="Messages to deliver at most, 1-10000."),
    ] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """Deliver the outbox's pending messages, oldest first (run it on a schedule).

    Offers to prospects and notices to borrowers, each in its own transaction.

    A refused delivery is retried at the next dispatch, three attempts in all, then failed.

    An offer no longer allowed (opted out, dropped, lapsed) is cancelled; a notice never is.
    """
    from puhui.bootstrap.prospects import dispatch  # noqa: PLC0415 - the database only here

    settings = load_settings()
    try:
        report = dispatch(settings, limit=limit)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    counts = {
        "sent": report.sent,
        "retrying": report.retrying,
        "failed": report.failed,
        "cancelled": report.cancelled,
    }
    if as_json:
        typer.echo(json.dumps(counts))
    elif not any(counts.values()):
        typer.echo("no message was waiting in the outbox")
    else:
        typer.echo(
            f"outbox: {report.sent:,} sent, {report.retrying:,} to retry, "
            f"{report.failed:,} failed for good, {report.cancelled:,} cancelled"
        )
