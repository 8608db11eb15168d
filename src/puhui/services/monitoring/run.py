"""The monitoring run: every watched customer, the active trigger rules, alerts and tasks.

One run per as-of date. Customers are processed in id order, in chunks; each chunk (its
alerts, tasks, audit events and the run's progress) commits as one transaction, so a run
interrupted half-way resumes after the last committed customer. The database keeps at most
one alert not closed per customer and one task per alert, so nothing a re-run does can
duplicate them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from puhui.decision.triggers import SHIPPED_TRIGGERS, CompiledTriggers
from puhui.domain.clock import Clock
from puhui.domain.errors import InvalidInput
from puhui.domain.ids import new_id
from puhui.domain.monitoring import (
    Alert,
    DuePolicy,
    Task,
    TaskStatus,
    raise_alerts,
    task_for_alert,
)
from puhui.domain.progress import NO_PROGRESS, Progress
from puhui.services import strategies
from puhui.services.audit import record
from puhui.services.monitoring.ports import (
    AlertRecord,
    EvidencedHit,
    MonitoredCustomer,
    MonitoringDataMissing,
    MonitoringUnitOfWork,
    MonitoringUnits,
    RunKind,
    RunRecord,
    RunStatus,
    SignalSource,
    TaskRecord,
)
from puhui.services.monitoring.rules import active_triggers, triggers_version

logger = logging.getLogger(__name__)

DEFAULT_BRANCH = "head-office"
"""The queue of tasks whose customer has no account manager on record."""
DEFAULT_CHUNK = 500


@dataclass(frozen=True, slots=True)
class RunSummary:
    as_of: dt.date
    status: RunStatus
    rules: str | None
    customers: int
    hits: int
    alerts_created: int
    alerts_extended: int
    tasks_created: int
    resumed: bool = False
    """The run had been interrupted and went on from its progress."""
    already_done: bool = False
    """The run of that date had completed before: nothing was done again."""
    note: str | None = None

    @classmethod
    def of(cls, run: RunRecord, *, resumed: bool = False, already_done: bool = False) -> RunSummary:
        rules = None if run.triggers_name is None else f"{run.triggers_name}@{run.triggers_version}"
        return cls(
            as_of=run.as_of,
            status=run.status,
            rules=rules,
            customers=run.customers_done,
            hits=run.hits,
            alerts_created=run.alerts_created,
            alerts_extended=run.alerts_extended,
            tasks_created=run.tasks_created,
            resumed=resumed,
            already_done=already_done,
            note=run.note,
        )


@dataclass(frozen=True, slots=True)
class RunSetup:
    """What a run needs besides the date."""

    units: MonitoringUnits
    strategies_uow: strategies.UowFactory
    source: SignalSource
    clock: Clock
    policy: DuePolicy = field(default_factory=DuePolicy)
    branch: str = DEFAULT_BRANCH
    triggers_name: str = SHIPPED_TRIGGERS
    chunk_size: int = DEFAULT_CHUNK
    new_id: Callable[[str], str] = new_id
    progress: Progress = NO_PROGRESS
    """Hears of each chunk of customers monitored (the command line draws it)."""


def _audit_run(uow: MonitoringUnitOfWork, actor: str, action: str, run: RunRecord) -> None:
    record(
        uow,
        actor=actor,
        action=f"monitoring.{action}",
        entity="monitoring_run",
        entity_id=run.as_of.isoformat(),
        payload={
            "kind": run.kind.value,
            "status": run.status.value,
            "rules": f"{run.triggers_name}@{run.triggers_version}",
            "rules_hash": run.triggers_hash,
            "customers_done": run.customers_done,
            "hits": run.hits,
            "alerts_created": run.alerts_created,
            "alerts_extended": run.alerts_extended,
            "tasks_created": run.tasks_created,
            "note": run.note,
        },
    )


def _record_missing(
    setup: RunSetup, as_of: dt.date, actor: str, missing: MonitoringDataMissing, kind: RunKind
) -> RunSummary:
    with setup.units() as uow:
        repo = uow.monitoring
        existing = repo.run(as_of, kind)
        now = setup.clock.now()
        if existing is None:
            run = RunRecord(
                as_of=as_of,
                status=RunStatus.DATA_MISSING,
                started_at=now,
                note=missing.message,
                kind=kind,
            )
            repo.add_run(run)
        else:
            run = replace(existing, status=RunStatus.DATA_MISSING, note=missing.message)
            repo.save_run(run)
        _audit_run(uow, actor, "run_data_missing", run)
        uow.commit()
    logger.warning("monitoring run %s: %s", as_of, missing.message)
    return RunSummary.of(run)


def _start(
    setup: RunSetup, as_of: dt.date, actor: str, kind: RunKind
) -> tuple[RunRecord, CompiledTriggers, bool] | RunSummary:
    with setup.units() as uow:
        existing = uow.monitoring.run(as_of, kind)
    if existing is not None and existing.status is RunStatus.COMPLETED:
        return RunSummary.of(existing, already_done=True)
    if (
        existing is not None
        and existing.status is RunStatus.RUNNING
        and existing.triggers_name is not None
        and existing.triggers_version is not None
    ):
        # A resumed run finishes with the rules it started with.
        _, triggers = triggers_version(
            setup.strategies_uow, existing.triggers_name, existing.triggers_version
        )
        return existing, triggers, True
    version, triggers = active_triggers(setup.strategies_uow, setup.triggers_name)
    with setup.units() as uow:
        repo = uow.monitoring
        run = RunRecord(
            as_of=as_of,
            status=RunStatus.RUNNING,
            started_at=setup.clock.now(),
            triggers_name=version.name,
            triggers_version=version.version,
            triggers_hash=version.content_hash,
            customers_total=repo.count_population(as_of, kind),
            kind=kind,
        )
        if existing is None:
            repo.add_run(run)
        else:  # a run that found no data before starts afresh
            repo.save_run(run)
        _audit_run(uow, actor, "run_started", run)
        uow.commit()
    return run, triggers, False


def run_monitoring(
    setup: RunSetup, *, as_of: dt.date, actor: str, kind: RunKind = RunKind.SCHEDULED
) -> RunSummary:
    """Run (or resume, or report) the monitoring of ``as_of``; see the module's docstring.

    ``kind`` ``events`` watches only the customers with an event on the date (a receipt that
    entered a new days-past-due bucket at its end of day); it is a run of its own, next to the
    scheduled one of the same date, with the same alert rule (no duplicate alerts).
    """
    if setup.chunk_size < 1:
        raise InvalidInput("a monitoring run processes at least one customer per chunk")
    with setup.units() as uow:
        done = uow.monitoring.run(as_of, kind)
    if done is not None and done.status is RunStatus.COMPLETED:
        return RunSummary.of(done, already_done=True)
    try:
        setup.source.check_data(as_of)
    except MonitoringDataMissing as missing:
        return _record_missing(setup, as_of, actor, missing, kind)
    started = _start(setup, as_of, actor, kind)
    if isinstance(started, RunSummary):
        return started
    run, triggers, resumed = started
    setup.progress.start(None, f"monitoring {as_of}: customers")
    if resumed:
        logger.info("monitoring run %s resumes after %d customers", as_of, run.customers_done)
    while True:
        # Read the chunk and its signals first, then write it in one short transaction: the
        # signal source reads on its own connections and must not wait on the run's writer.
        with setup.units() as uow:
            customers = uow.monitoring.population(
                as_of, after=run.last_customer_id, limit=setup.chunk_size, kind=kind
            )
        if not customers:
            break
        hits = setup.source.signals(customers, as_of, triggers)
        with setup.units() as uow:
            run = _apply_chunk(setup, uow, run, customers, hits, actor)
            uow.monitoring.save_run(run)
            uow.commit()
        setup.progress.advance(len(customers))
    with setup.units() as uow:
        run = replace(run, status=RunStatus.COMPLETED, finished_at=setup.clock.now())
        uow.monitoring.save_run(run)
        _audit_run(uow, actor, "run_completed", run)
        uow.commit()
    logger.info(
        "monitoring run %s: %d customers, %d hits, %d alerts created, %d extended",
        as_of,
        run.customers_done,
        run.hits,
        run.alerts_created,
        run.alerts_extended,
    )
    return RunSummary.of(run, resumed=resumed)


def _hasten_task(
    setup: RunSetup, uow: MonitoringUnitOfWork, alert: Alert, on: dt.date
) -> dt.date | None:
    """A signal more severe than the task's brings the task's due date forward (never back).

    Returns the new due date when it moved.
    """
    stored = uow.monitoring.task_of_alert(alert.alert_id)
    if stored is None or stored.task.status not in _WORKING:
        return None
    task = stored.task
    if alert.severity.rank <= task.severity.rank:
        return None
    due_on = min(task.due_on, setup.policy.due_on(on, alert.severity))
    uow.monitoring.save_task(
        TaskRecord(
            replace(task, severity=alert.severity, due_on=due_on), stored.action, stored.version
        )
    )
    return due_on


def _follow_up(
    setup: RunSetup,
    uow: MonitoringUnitOfWork,
    alert: Alert,
    customer: MonitoredCustomer,
    on: dt.date,
) -> Task | None:
    """New signals on an alert whose task is already completed are new work: a follow-up task
    (due by the alert's severity now) goes to the owner, as the first one did."""
    stored = uow.monitoring.task_of_alert(alert.alert_id)
    if stored is None or stored.task.status is not TaskStatus.COMPLETED:
        return None
    task = task_for_alert(
        alert,
        task_id=setup.new_id("task"),
        branch=setup.branch,
        owner=customer.owner,
        created_on=on,
        policy=setup.policy,
    )
    uow.monitoring.add_task(TaskRecord(task))
    return task


_WORKING = frozenset({TaskStatus.OPEN, TaskStatus.CLAIMED, TaskStatus.ESCALATED})


def _apply_chunk(  # noqa: PLR0917 - the chunk's parts, each named at the one call
    setup: RunSetup,
    uow: MonitoringUnitOfWork,
    run: RunRecord,
    customers: Sequence[MonitoredCustomer],
    hits: Sequence[EvidencedHit],
    actor: str,
) -> RunRecord:
    repo = uow.monitoring
    by_id = {c.customer_id: c for c in customers}
    stray = sorted({h.hit.customer_id for h in hits} - set(by_id))
    if stray:
        raise InvalidInput(
            f"the signal source returned hits of customers not asked for: {stray[:5]}",
            details={"customers": stray[:20]},
        )
    evidence: dict[tuple[str, str], dict[str, object]] = {}
    for found in hits:
        evidence.setdefault((found.hit.customer_id, found.hit.code), dict(found.evidence))
    existing = {r.alert.alert_id: r for r in repo.open_alerts(list(by_id))}
    changes = raise_alerts(
        [r.alert for r in existing.values()],
        [h.hit for h in hits],
        run.as_of,
        lambda: setup.new_id("alrt"),
    )
    now = setup.clock.now()
    tasks_created = 0
    for alert in changes.created:
        customer = by_id[alert.customer_id]
        stored = AlertRecord(
            alert=alert,
            # The newest line (lines come oldest first): the one a reduce_limit outcome cuts.
            line_id=customer.line_ids[-1] if customer.line_ids else None,
            evidence={s.code: evidence[(alert.customer_id, s.code)] for s in alert.signals},
            created_at=now,
        )
        repo.add_alert(stored)
        task = task_for_alert(
            alert,
            task_id=setup.new_id("task"),
            branch=setup.branch,
            owner=customer.owner,
            created_on=run.as_of,
            policy=setup.policy,
        )
        repo.add_task(TaskRecord(task))
        tasks_created += 1
        record(
            uow,
            actor=actor,
            action="monitoring.alert_raised",
            entity="monitoring_alert",
            entity_id=alert.alert_id,
            payload={
                "customer_id": alert.customer_id,
                "severity": alert.severity.value,
                "codes": sorted(alert.codes),
                "run": run.as_of.isoformat(),
                "task_id": task.task_id,
                "assignee": task.assignee,
                "due_on": task.due_on.isoformat(),
            },
        )
    for alert in changes.extended:
        before = existing[alert.alert_id]
        added = changes.added_codes[alert.alert_id]
        merged = dict(before.evidence)
        for code in added:
            merged[code] = evidence[(alert.customer_id, code)]
        repo.save_alert(
            replace(before, alert=alert, evidence=merged),
            added,
            expected_status=before.alert.status,
        )
        sooner = _hasten_task(setup, uow, alert, run.as_of)
        follow_up = _follow_up(setup, uow, alert, by_id[alert.customer_id], run.as_of)
        if follow_up is not None:
            tasks_created += 1
        record(
            uow,
            actor=actor,
            action="monitoring.alert_extended",
            entity="monitoring_alert",
            entity_id=alert.alert_id,
            payload={
                "customer_id": alert.customer_id,
                "severity": alert.severity.value,
                "added": list(added),
                "run": run.as_of.isoformat(),
                "task_due_on": None if sooner is None else sooner.isoformat(),
                "follow_up_task_id": None if follow_up is None else follow_up.task_id,
            },
        )
    return replace(
        run,
        customers_done=run.customers_done + len(customers),
        last_customer_id=customers[-1].customer_id,
        hits=run.hits + len(hits),
        alerts_created=run.alerts_created + len(changes.created),
        alerts_extended=run.alerts_extended + len(changes.extended),
        tasks_created=run.tasks_created + tasks_created,
    )
