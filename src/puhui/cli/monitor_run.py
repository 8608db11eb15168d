"""``puhui monitor run|escalate|alerts|tasks|supervisor|rules``: post-loan monitoring on the
configured database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from puhui.cli.context import fail, platform
from puhui.cli.progress import progress_bar
from puhui.decision.strategy import StrategyInvalid
from puhui.domain.clock import Clock
from puhui.domain.errors import PuhuiError
from puhui.domain.monitoring import AlertStatus, Severity, TaskStatus
from puhui.services import strategies as lifecycle
from puhui.services.monitoring.ports import AlertQuery, RunKind, RunStatus, TaskQuery
from puhui.services.monitoring.run import DEFAULT_CHUNK, RunSetup, run_monitoring
from puhui.services.monitoring.tasks import escalate_overdue_tasks, set_supervisor
from puhui.services.security.permissions import SYSTEM

KIND = lifecycle.DocumentKind.TRIGGERS
Actor = Annotated[str, typer.Option("--actor", help="Who does this (recorded in the audit trail).")]
Limit = Annotated[int, typer.Option("--limit", min=1, max=1000, help="Rows at most.")]


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail(
            f"{option} must be a date YYYY-MM-DD, got {text!r}", code="invalid_input"
        ) from None


def run(
    as_of: Annotated[str, typer.Option("--as-of", help="The run date YYYY-MM-DD.")],
    actor: Actor = "system:monitoring",
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="Customers per committed chunk.")
    ] = DEFAULT_CHUNK,
    events: Annotated[
        bool,
        typer.Option(
            "--events",
            help="Only customers with an event that day (a receipt entering 1, 31 or 91 days "
            "past due at its end of day): a run of its own beside the scheduled one.",
        ),
    ] = False,
) -> None:
    """Run post-loan monitoring for a date: idempotent per date, resumable after a crash.

    Then overdue tasks escalate to their holders' supervisors.
    """
    day = _date(as_of, "--as-of")
    with platform() as p:
        setup = RunSetup(
            units=p.monitoring_uow,
            strategies_uow=p.strategy_uow,
            source=p.signal_source(),
            clock=p.clock,
            chunk_size=chunk_size,
        )
        kind = RunKind.EVENTS if events else RunKind.SCHEDULED
        with progress_bar() as progress:
            summary = run_monitoring(
                replace(setup, progress=progress), as_of=day, actor=actor, kind=kind
            )
        if summary.status is RunStatus.DATA_MISSING:
            raise fail(
                summary.note or "the data is missing", code="monitoring_data_missing", exit_code=1
            )
        escalation = escalate_overdue_tasks(p.monitoring_uow, on=day, actor=actor)
    state = (
        "already done"
        if summary.already_done
        else ("resumed and completed" if summary.resumed else "completed")
    )
    typer.echo(
        f"monitoring {day}{' (events)' if events else ''} {state} with {summary.rules}: "
        f"{summary.customers} customers, "
        f"{summary.hits} hits, {summary.alerts_created} alerts created, "
        f"{summary.alerts_extended} extended, {summary.tasks_created} tasks; "
        f"{len(escalation.escalated)} tasks escalated"
        + (
            f" ({len(escalation.without_supervisor)} overdue without a supervisor)"
            if escalation.without_supervisor
            else ""
        )
    )


def alerts(
    status: Annotated[AlertStatus | None, typer.Option("--status")] = None,
    severity: Annotated[Severity | None, typer.Option("--severity")] = None,
    customer: Annotated[str | None, typer.Option("--customer")] = None,
    limit: Limit = 50,
) -> None:
    """List alerts, oldest first: id, customer, severity, status, run date, signal codes."""
    query = AlertQuery(status=status, severity=severity, customer_id=customer, limit=limit)
    with platform() as p, p.monitoring_uow() as uow:
        found = uow.monitoring.alerts(query)
    for stored in found:
        alert = stored.alert
        typer.echo(
            f"{alert.alert_id}\t{alert.customer_id}\t{alert.severity.value}\t"
            f"{alert.status.value}\t{alert.run_date}\t{';'.join(sorted(alert.codes))}"
        )


def tasks(
    holder: Annotated[str | None, typer.Option("--holder", help="User id holding them.")] = None,
    status: Annotated[TaskStatus | None, typer.Option("--status")] = None,
    limit: Limit = 50,
) -> None:
    """List tasks: id, customer, severity, status, due date, holder, outcome."""
    query = TaskQuery(holder=holder, status=status, limit=limit)
    with platform() as p, p.monitoring_uow() as uow:
        found = uow.monitoring.tasks(query)
    for stored in found:
        task = stored.task
        typer.echo(
            f"{task.task_id}\t{task.customer_id}\t{task.severity.value}\t{task.status.value}\t"
            f"due {task.due_on}\t{task.holder or '(branch queue)'}\t"
            f"{task.outcome.value if task.outcome else '-'}"
        )


def escalate(
    on: Annotated[str, typer.Option("--on", help="The date YYYY-MM-DD.")],
    actor: Actor = "system:monitoring",
) -> None:
    """Escalate tasks overdue on a date to their holders' supervisors (once each)."""
    day = _date(on, "--on")
    with platform() as p:
        done = escalate_overdue_tasks(p.monitoring_uow, on=day, actor=actor)
    typer.echo(
        f"{len(done.escalated)} tasks escalated; "
        f"{len(done.without_supervisor)} overdue without a supervisor"
    )


def supervisor(
    user_id: Annotated[str, typer.Argument(help="The account manager's user id.")],
    supervisor_id: Annotated[str, typer.Argument(help="Their supervisor's user id.")],
) -> None:
    """Record who an account manager's overdue tasks escalate to."""
    with platform() as p:
        set_supervisor(p.monitoring_uow, actor=SYSTEM, user_id=user_id, supervisor_id=supervisor_id)
    typer.echo(f"{user_id} escalates to {supervisor_id}")


# --- trigger rules: the strategies' lifecycle, kind "triggers" ----------------------------

rules = typer.Typer(
    help="Trigger rules: draft -> submit -> approve (four eyes) -> activate, audited.",
    no_args_is_help=True,
)


@contextmanager
def _lifecycle() -> Iterator[tuple[lifecycle.UowFactory, Clock]]:
    with platform() as p:
        try:
            yield p.strategy_uow, p.clock
        except StrategyInvalid as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(1) from None
        except PuhuiError as exc:
            raise fail(exc.message, code=exc.code) from None
        except OSError as exc:
            raise fail(str(exc), code="io_error") from None


def _show(item: lifecycle.StrategyVersion) -> None:
    typer.echo(
        f"{item.label}\t{item.status.value}\tcreated by {item.created_by}"
        + (f", approved by {item.approved_by}" if item.approved_by else "")
        + f"\t{item.content_hash[:12]}"
    )


@rules.command("draft")
def rules_draft(file: Annotated[Path, typer.Argument()], actor: Actor) -> None:
    """Store a trigger-rules file as a new draft version."""
    with _lifecycle() as (uow, clock):
        text = file.read_text(encoding="utf-8")
        _show(lifecycle.create_draft(uow, text=text, actor=actor, clock=clock, kind=KIND))


@rules.command("update")
def rules_update(file: Annotated[Path, typer.Argument()], actor: Actor) -> None:
    """Replace a draft's document (same name and version)."""
    with _lifecycle() as (uow, clock):
        text = file.read_text(encoding="utf-8")
        _show(lifecycle.update_draft(uow, text=text, actor=actor, clock=clock, kind=KIND))


def _step(action: Callable[..., lifecycle.StrategyVersion]) -> Callable[[str, int, str], None]:
    def command(
        name: Annotated[str, typer.Argument()],
        version: Annotated[int, typer.Argument()],
        actor: Actor,
    ) -> None:
        with _lifecycle() as (uow, clock):
            if lifecycle.get_version(uow, name, version).kind is not KIND:
                raise fail(f"{name}@{version} is not trigger rules", code="invalid_input")
            _show(action(uow, name, version, actor=actor, clock=clock))

    command.__doc__ = action.__doc__
    return command


rules.command("submit", help="Submit a draft for approval.")(_step(lifecycle.submit))
rules.command("approve", help="Approve a submitted version (not by its author or submitter).")(
    _step(lifecycle.approve)
)
rules.command("reject", help="Send a submitted version back to draft.")(_step(lifecycle.reject))
rules.command("activate", help="Make a version active; the next run uses it.")(
    _step(lifecycle.activate)
)
rules.command("retire", help="Retire the active version.")(_step(lifecycle.retire))


@rules.command("list")
def rules_list(name: Annotated[str | None, typer.Argument()] = None) -> None:
    """List stored trigger-rules versions and their status."""
    with _lifecycle() as (uow, _):
        for item in lifecycle.list_versions(uow, name, KIND):
            _show(item)


@rules.command("show")
def rules_show(
    name: Annotated[str, typer.Argument()], version: Annotated[int, typer.Argument()]
) -> None:
    """Print a stored version's document."""
    with _lifecycle() as (uow, _):
        typer.echo(lifecycle.get_version(uow, name, version).document)


def register(group: typer.Typer) -> None:
    """Add the database commands to ``puhui monitor``."""
    group.command("run")(run)
    group.command("escalate")(escalate)
    group.command("alerts")(alerts)
    group.command("tasks")(tasks)
    group.command("supervisor")(supervisor)
    group.add_typer(rules, name="rules")
