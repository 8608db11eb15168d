"""``puhui collections``: the DPD queues of delinquent receipts, refreshed from servicing."""

from __future__ import annotations

import json

import typer

from puhui.adapters.db.collections.unit_of_work import collections_units
from puhui.bootstrap import Platform
from puhui.cli.context import fail, platform
from puhui.cli.ledger import parse_business_date
from puhui.domain.money import format_yuan
from puhui.domain.monitoring.collection import DpdBucket
from puhui.services.collections import cases
from puhui.services.collections.ports import QueueFilter

app = typer.Typer(
    help="Collections (催收): DPD queues of delinquent receipts.", no_args_is_help=True
)


@app.callback()
def main() -> None:
    """Collections (催收): DPD queues of delinquent receipts."""


def _units(p: Platform) -> cases.UowFactory:
    return collections_units(
        p.database.engine,
        clock=p.clock,
        audit_key=p.audit_key,
        cipher=p.settings.field_cipher(),
    )


@app.command("refresh")
def refresh_command(
    as_of: str | None = typer.Option(
        None, "--as-of", help="Business date (YYYY-MM-DD); default: the last closed one."
    ),
    actor: str = typer.Option("system:collections", "--actor", help="Who runs it (audit)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Open, move and resolve cases from servicing's end of day; judge promises to pay."""
    with platform() as p:
        units = _units(p)
        if as_of is None:
            with units() as uow:
                closed = uow.business_days.last_completed()
            if closed is None:
                raise fail("no end of day has completed yet: pass --as-of", code="invalid_date")
            day = closed
        else:
            day = parse_business_date(as_of)
        report = cases.refresh(units, as_of=day, actor=actor, clock=p.clock)
    fields = {
        "as_of": report.as_of.isoformat(),
        "opened": report.opened,
        "reopened": report.reopened,
        "moved": report.moved,
        "resolved": report.resolved,
        "written_off": report.written_off,
        "open_cases": report.open_cases,
        "promises_kept": report.promises_kept,
        "promises_broken": report.promises_broken,
    }
    if as_json:
        typer.echo(json.dumps(fields))
        return
    typer.echo(f"collections refreshed for {day.isoformat()}")
    for name, value in list(fields.items())[1:]:
        typer.echo(f"  {name:<16} {value:>8,}")


@app.command("queue")
def queue_command(
    bucket_name: str = typer.Option(
        "reminder", "--bucket", help="reminder (1-30), collection (31-90), legal (90+)."
    ),
    assignee: str | None = typer.Option(None, "--assignee", help="Only this collector's cases."),
    limit: int = typer.Option(50, "--limit", min=1, max=cases.MAX_PAGE),
    cursor: str | None = typer.Option(None, "--cursor", help="Continue after a previous page."),
    as_json: bool = typer.Option(False, "--json", help="Print the page as JSON."),
) -> None:
    """One page of a bucket's queue, oldest then largest first."""
    try:
        bucket = DpdBucket(bucket_name)
    except ValueError:
        names = ", ".join(b.value for b in DpdBucket)
        raise fail(f"no bucket {bucket_name!r} (one of {names})", code="invalid_input") from None
    with platform() as p:
        after = None if cursor is None else cases.decode_cursor(cursor)
        page = cases.queue_page(
            _units(p), QueueFilter(bucket=bucket, assignee=assignee, after=after, limit=limit)
        )
    rows = [
        {
            "case_id": c.case_id,
            "receipt_id": c.receipt_id,
            "customer_id": c.customer_id,
            "days_past_due": c.days_past_due,
            "overdue_fen": c.overdue_fen,
            "outstanding_fen": c.outstanding_fen,
            "assignee": c.assignee,
            "opened_on": c.opened_on.isoformat(),
        }
        for c in page.cases
    ]
    if as_json:
        typer.echo(json.dumps({"bucket": bucket.value, "cases": rows, "next": page.next_cursor}))
        return
    typer.echo(f"{bucket.value} queue: {len(page.cases)} case(s)")
    for c in page.cases:
        typer.echo(
            f"  {c.case_id}  {c.receipt_id}  {c.customer_id}  {c.days_past_due:>4} DPD"
            f"  overdue {format_yuan(c.overdue_fen):>16}  {c.assignee or '(unassigned)'}"
        )
    if page.next_cursor is not None:
        typer.echo(f"more: --cursor {page.next_cursor}")
