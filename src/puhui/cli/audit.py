"""``puhui audit``: check the hash chain of the audit trail, and search it."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Annotated

import typer

from puhui.cli.context import fail, platform
from puhui.domain.clock import BANK_ZONE
from puhui.services.audit import search_audit, verify_audit_chain
from puhui.services.ports import AuditQuery

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
    pending = f", {report.pending} written but not sealed yet" if report.pending else ""
    typer.echo(f"audit chain intact: {report.events_checked} events verified{pending}")


def _moment(text: str | None, option: str) -> datetime | None:
    """``YYYY-MM-DD`` (the start of that day in Shanghai) or an ISO time with its zone."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=BANK_ZONE)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise fail(
            f"{option} is YYYY-MM-DD or an ISO time, got {text!r}", code="invalid_date"
        ) from None
    if moment.tzinfo is None:
        raise fail(f"{option} needs a time zone (e.g. +08:00)", code="invalid_date")
    return moment


@app.command()
def search(  # noqa: PLR0917 - one option each, as Typer declares them
    actor: Annotated[str | None, typer.Option(help="Who acted, e.g. risk_officer:usr_…")] = None,
    entity: Annotated[
        str | None, typer.Option(help="Entity type, e.g. application, strategy.")
    ] = None,
    entity_id: Annotated[str | None, typer.Option("--id", help="The entity's id.")] = None,
    action: Annotated[str | None, typer.Option(help="Action or its prefix, e.g. strategy.")] = None,
    since: Annotated[str | None, typer.Option("--from", help="From YYYY-MM-DD (Shanghai).")] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="Before YYYY-MM-DD (exclusive).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="Events per page.")] = 100,
    offset: Annotated[int, typer.Option(min=0, help="Events to skip.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Search the audit trail: newest first, every filter optional."""
    query = AuditQuery(
        actor=actor,
        action_prefix=action,
        entity=entity,
        entity_id=entity_id,
        since=_moment(since, "--from"),
        until=_moment(until, "--to"),
        limit=limit,
        offset=offset,
    )
    with platform() as p:
        events = search_audit(p.uow, query)
    for event in events:
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "seq": event.seq,
                        "occurred_at": event.occurred_at.isoformat(),
                        "actor": event.actor,
                        "action": event.action,
                        "entity": event.entity,
                        "entity_id": event.entity_id,
                        "payload_digest": event.payload_digest,
                    },
                    ensure_ascii=False,
                )
            )
        else:
            typer.echo(
                f"{event.seq:>8}  {event.occurred_at:%Y-%m-%d %H:%M:%S}  {event.actor:<28} "
                f"{event.action:<32} {event.entity}:{event.entity_id}"
            )
    if not as_json:
        typer.echo(f"{len(events)} event(s)", err=True)
