"""``puhui outbox``: deliver the messages waiting in the notification outbox."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from puhui.cli.context import fail, load_settings
from puhui.domain.errors import PuhuiError
from puhui.domain.privacy import mask_phone, mask_text
from puhui.services.notifications import MessageStatus

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

    Through the bank's SMS platform when PUHUI_SMS_GATEWAY_URL is set, else to the log.

    A refused delivery is retried at the next dispatch, three attempts in all, then failed;
    one the platform refuses as wrong (a 4xx about the message) fails at once.

    An offer no longer allowed (opted out, dropped, lapsed) is cancelled; a notice never is.
    """
    from puhui.bootstrap.prospects import (  # noqa: PLC0415 - the database only here
        delivery_route,
        dispatch,
    )

    settings = load_settings()
    if not as_json:
        typer.echo(f"delivering through {delivery_route(settings)}")
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


@app.command("list")
def list_command(
    status: Annotated[
        MessageStatus | None,
        typer.Option("--status", help="Only messages of this status (default: all)."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=1_000, help="Messages at most, 1-1000.")
    ] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print the messages as JSON.")] = False,
) -> None:
    """The outbox's messages, newest first, phones masked (--status failed: what needs a look)."""
    from puhui.bootstrap.prospects import outbox_messages  # noqa: PLC0415 - the database only here

    settings = load_settings()
    try:
        found = outbox_messages(settings, status=status, limit=limit)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    rows = [
        {
            "message_id": m.message_id,
            "created_at": m.created_at.isoformat(),
            "template": m.template,
            "subject_id": m.subject_id,
            "channel": m.channel.value,
            "recipient": mask_phone(m.recipient),
            "status": m.status.value,
            "attempts": m.attempts,
            "sent_at": None if m.sent_at is None else m.sent_at.isoformat(),
            # A provider's error may quote the number: masked too.
            "last_error": None if m.last_error is None else mask_text(m.last_error),
        }
        for m in found
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        typer.echo("no message in the outbox" + ("" if status is None else f" is {status.value}"))
        return
    for m in found:
        error = f"  ({mask_text(m.last_error)})" if m.last_error else ""
        typer.echo(
            f"{m.message_id}  {m.created_at:%Y-%m-%d %H:%M}  {m.status.value:<9} "
            f"{m.attempts}x  {m.channel.value} {mask_phone(m.recipient)}  {m.template}  "
            f"{m.subject_id}{error}"
        )


@app.command("requeue")
def requeue_command(
    message_id: Annotated[str, typer.Argument(help="The failed message's ID (msg_…).")],
) -> None:
    """Queue a failed message again, its attempts from zero: the next dispatch sends it.

    Only a failed message; an offer only while it is its prospect's latest and may still be
    made (listed, within its validity, no opt-out).
    """
    from puhui.bootstrap.prospects import requeue_message  # noqa: PLC0415 - the database only here
    from puhui.cli.security_context import operator  # noqa: PLC0415 - with the database

    settings = load_settings()
    try:
        # A person's decision: audited under the operator's name, not the dispatch's.
        message = requeue_message(settings, message_id.strip()[:64], actor=operator())
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    typer.echo(
        f"{message.message_id} queued again ({message.template} to "
        f"{mask_phone(message.recipient)}): the next `puhui outbox dispatch` sends it"
    )
