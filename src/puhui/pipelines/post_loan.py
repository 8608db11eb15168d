"""The simulation's post-loan month (贷后): monitoring, collections, concentration, tasks worked.

On the first day of each simulated month, after that day's end of day, the bank runs what a
post-loan team runs once a month: the monitoring run of the day (it reads the month just
ended), the collections refresh, the concentration evaluation, and the account manager works
the new tasks. How the demo's staff work a task (the simple rule of the demo, not a policy):

- an alert that says the customer is more than 30 days past due with us (``DPD_SERIOUS``): the
  manager claims the task and the supervisor completes it with ``hand_to_collections`` (an
  account manager may not record that outcome);
- any other high-severity alert: ``freeze`` (the lines take no new draws), or ``monitor`` when
  every line of the customer is frozen already; a customer with term loans only has no line to
  freeze, and the manager ``visited`` it (calling its loans in is the risk officer's decision);
- medium: ``contacted``; low: ``monitor``;
- then the supervisor closes the alert (the task is done): a signal of a later run raises a new
  alert and a new task, so a customer frozen for an early warning who later falls more than 30
  days behind is handed to collections;
- from ``PostLoanCycle.left_open_from`` on (the demo's last month), up to ``LEFT_OPEN`` tasks
  of medium or low severity (``contacted`` or ``monitor`` by the rule) are left open, their
  alerts too, those in the branch queue first, so that the console's managers have tasks to
  claim and its supervisors tasks to assign.

Everything goes through the services the API calls (``services.monitoring.tasks``), so a
frozen line really stops drawing. The behavioural model is trained here too, point in time on
the market's public history before the window; ``truth/`` is read only by the final report.
"""

from __future__ import annotations

import logging
import shutil
import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl

from puhui.domain.ids import CreditLineId
from puhui.domain.monitoring import Severity, TaskOutcome, TaskStatus
from puhui.risk.behaviour import (
    FIRST_OBSERVATION_OFFSET,
    HORIZON_MONTHS,
    BehaviouralModel,
    train_behaviour_model,
)
from puhui.risk.features import APPLICATIONS, FEATURE_TABLES, LOAN_HISTORY, TAX_MONTHLY
from puhui.services import concentration
from puhui.services.collections import cases
from puhui.services.concentration_ports import StoredBreach
from puhui.services.monitoring.access import MonitoringAccess
from puhui.services.monitoring.alerts import close_alert
from puhui.services.monitoring.ports import AlertQuery, AlertRecord, RunStatus, TaskQuery
from puhui.services.monitoring.run import RunSetup, run_monitoring
from puhui.services.monitoring.tasks import (
    Completion,
    TaskActionUnavailable,
    claim_task,
    complete_task,
    list_tasks,
)
from puhui.services.security.permissions import Principal
from puhui.services.servicing.records import LineStatus

logger = logging.getLogger(__name__)

MONITORING_ACTOR = "system:monitoring"
SERIOUS_DPD_CODE = "DPD_SERIOUS"
"""The trigger code of a customer more than 30 days past due with us."""
MIN_OBSERVATION_MONTHS = 3
"""The behavioural sample spans at least this many observation months."""
MIN_HORIZON_MONTHS = 3
PAGE = 200
LEFT_OPEN = 10
"""Tasks of a run from ``left_open_from`` on that the demo's staff leave for the console."""
_LEAVABLE = frozenset({TaskOutcome.CONTACTED, TaskOutcome.MONITOR})
"""What a task left open would have been worked as: nothing acts on a line or a loan."""
TABLES = "tables"
"""The folder of a market's public tables (what :meth:`MarketTables.from_dir` opens)."""


# --- the behavioural model -----------------------------------------------------------------


@dataclass(frozen=True)
class BehaviourTraining:
    model: BehaviouralModel | None
    horizon_months: int
    rows: int
    bad: int
    note: str


def behaviour_horizon(history_months: int) -> int | None:
    """The longest outcome horizon (at most 12 months) that leaves the sample at least
    :data:`MIN_OBSERVATION_MONTHS` observation months in ``history_months`` of history; None
    when even :data:`MIN_HORIZON_MONTHS` does not fit."""
    room = history_months - FIRST_OBSERVATION_OFFSET - MIN_OBSERVATION_MONTHS
    horizon = min(HORIZON_MONTHS, room)
    return horizon if horizon >= MIN_HORIZON_MONTHS else None


def cut_market(market_dir: Path, before: date, out: Path) -> int:
    """A copy of the market's public tables with the rows of months before ``before`` only
    (the registry as is): what a bank holds on the eve of the window. Returns its months."""
    if out.exists():
        shutil.rmtree(out)
    months = 0
    for name in (*FEATURE_TABLES, LOAN_HISTORY, APPLICATIONS):
        folder = market_dir / TABLES / name
        if not folder.is_dir():
            continue
        frame = pl.scan_parquet(str(folder / "*.parquet"))
        if "month" in frame.collect_schema().names():
            frame = frame.filter(pl.col("month") < before)
        target = out / TABLES / name
        target.mkdir(parents=True)
        frame.sink_parquet(target / "part-0.parquet")  # streamed: invoices are large
        if name == TAX_MONTHLY:  # the months the history spans
            months = int(
                pl.scan_parquet(target / "part-0.parquet")
                .select(pl.col("month").n_unique())
                .collect()
                .item()
            )
    return months


def train_behaviour_before(
    market_dir: Path, before: date, out: Path, *, trained_at: datetime
) -> BehaviourTraining:
    """Train the behavioural model on the market's public history before ``before``.

    The trainer has no as-of cut: it learns from every month of the folder it is given, so it
    gets a copy of the tables cut at ``before`` (``out/market``; never ``truth/``). When the
    history is too short for a 12-month outcome and a few observation months, the horizon is
    shortened (see :func:`behaviour_horizon`); without room for even 3 months, no model.
    """
    cut = out / "market"
    months = cut_market(market_dir, before, cut)
    horizon = behaviour_horizon(months)
    if horizon is None:
        shutil.rmtree(cut)
        return BehaviourTraining(
            None, 0, 0, 0, f"{months} months of history are too few: no behavioural PD"
        )
    model = train_behaviour_model(
        cut, trained_at=trained_at, horizon_months=horizon, builder="puhui demo", out=out / "model"
    )
    shutil.rmtree(cut)
    rows = int(model.info.get("rows", "0"))
    bad = int(model.info.get("bad", "0"))
    note = f"{months} months of history, {horizon}-month outcome"
    if horizon < HORIZON_MONTHS:
        note += f" (shortened from {HORIZON_MONTHS}: the history is too short)"
    return BehaviourTraining(model, horizon, rows, bad, note)


# --- the monthly cycle ---------------------------------------------------------------------


@dataclass
class PostLoanParts:
    """The collaborators of the monthly cycle; the composition root builds them."""

    run: RunSetup
    tasks: MonitoringAccess
    collections: cases.UowFactory
    concentration: concentration.Concentration
    manager: Principal
    """Claims and completes the tasks (the account manager who owns the customers)."""
    supervisor: Principal
    """Completes the tasks whose outcome the manager may not record."""


@dataclass(frozen=True)
class PostLoanMonth:
    as_of: date
    status: str
    customers: int
    alerts_created: int
    alerts_extended: int
    tasks_created: int
    outcomes: Counter[str]
    lines_frozen: int
    open_cases: int
    breaches: int
    left_open: int = 0
    """Tasks left open for the console after the run (see ``PostLoanCycle.left_open_from``)."""


@dataclass(frozen=True, slots=True)
class _OpenTask:
    task_id: str
    alert_id: str
    rule: TaskOutcome
    """What the demo's rule works it as."""
    leavable: bool
    """It may be left open: not high severity, and the rule acts on nothing."""
    queued: bool
    """It waits in the branch queue (no holder)."""


def outcome_for(
    severity: Severity, codes: frozenset[str], *, frozen: bool = False, has_line: bool = True
) -> TaskOutcome:
    """The demo's rule for working a task (see the module's docstring); ``frozen``: every line
    of the customer is frozen already; ``has_line``: the customer has a credit line."""
    if SERIOUS_DPD_CODE in codes:
        return TaskOutcome.HAND_TO_COLLECTIONS
    if severity is Severity.HIGH:
        if not has_line:
            return TaskOutcome.VISITED
        return TaskOutcome.MONITOR if frozen else TaskOutcome.FREEZE
    if severity is Severity.MEDIUM:
        return TaskOutcome.CONTACTED
    return TaskOutcome.MONITOR


@dataclass
class PostLoanCycle:
    """Runs the month's post-loan steps; called by the simulation on each month's first day."""

    parts: PostLoanParts
    left_open_from: date | None = None
    """From this run on, up to ``LEFT_OPEN`` tasks of each run are left open (None: none)."""
    months: list[PostLoanMonth] = field(default_factory=list)
    lines_frozen: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    left_open: int = 0
    """Tasks open after the latest run (at most ``LEFT_OPEN``: a task left open by one run is
    among those the next run leaves)."""
    last_breaches: tuple[StoredBreach, ...] = ()

    def __call__(self, as_of: date) -> PostLoanMonth:
        parts = self.parts
        summary = run_monitoring(parts.run, as_of=as_of, actor=MONITORING_ACTOR)
        refreshed = cases.refresh(
            parts.collections, as_of=as_of, actor="system:collections", clock=parts.run.clock
        )
        evaluation = concentration.evaluate(
            parts.concentration, as_of=as_of, actor="system:concentration"
        )
        self.last_breaches = evaluation.breaches
        leave = 0
        if self.left_open_from is not None and as_of >= self.left_open_from:
            leave = LEFT_OPEN
        outcomes, frozen, left = (
            self.work_tasks(leave) if summary.status is RunStatus.COMPLETED else (Counter(), 0, 0)
        )
        self.outcomes.update(outcomes)
        self.lines_frozen += frozen
        self.left_open = left
        month = PostLoanMonth(
            as_of=as_of,
            status=summary.status.value,
            customers=summary.customers,
            alerts_created=summary.alerts_created,
            alerts_extended=summary.alerts_extended,
            tasks_created=summary.tasks_created,
            outcomes=outcomes,
            lines_frozen=frozen,
            open_cases=refreshed.open_cases,
            breaches=len(evaluation.breaches),
            left_open=left,
        )
        self.months.append(month)
        return month

    def _open_tasks(self) -> list[_OpenTask]:
        """The manager's open tasks (and the queue's), each with the rule's outcome."""
        manager = self.parts.manager
        found: list[_OpenTask] = []
        after: str | None = None
        while True:
            page = list_tasks(
                self.parts.tasks,
                actor=manager,
                query=TaskQuery(
                    holder=manager.user_id,
                    include_queue=True,
                    status=TaskStatus.OPEN,
                    after=after,
                    limit=PAGE,
                ),
            )
            # One unit of work at a time: on SQLite each one holds the writer's lock.
            with self.parts.tasks.units() as uow:
                read = []
                for stored in page:
                    task = stored.task
                    alert = uow.monitoring.alert(task.alert_id)
                    codes = frozenset() if alert is None else alert.alert.codes
                    read.append((task, codes, uow.monitoring.customer_lines(task.customer_id)))
            with self.parts.tasks.servicing_uow() as servicing:
                for task, codes, line_ids in read:
                    lines = [servicing.lines.get(CreditLineId(line_id)) for line_id in line_ids]
                    frozen = bool(lines) and all(
                        line is not None and line.status is LineStatus.FROZEN for line in lines
                    )
                    outcome = outcome_for(
                        task.severity, codes, frozen=frozen, has_line=bool(line_ids)
                    )
                    found.append(
                        _OpenTask(
                            task.task_id,
                            task.alert_id,
                            outcome,
                            leavable=task.severity is not Severity.HIGH and outcome in _LEAVABLE,
                            queued=task.holder is None,
                        )
                    )
            if len(page) < PAGE:
                return found
            after = page[-1].task.task_id

    def work_tasks(self, leave: int = 0) -> tuple[Counter[str], int, int]:
        """Work the open tasks by the demo's rule, leaving up to ``leave`` of them open (the
        first of medium or low severity, those in the branch queue first: any manager may
        claim them): the outcomes, the lines frozen and how many were left."""
        parts = self.parts
        outcomes: Counter[str] = Counter()
        frozen = 0
        found = self._open_tasks()
        candidates = [t for t in found if t.leavable]
        kept = {t.task_id for t in sorted(candidates, key=lambda t: not t.queued)[:leave]}
        for task_id, alert_id, rule in ((t.task_id, t.alert_id, t.rule) for t in found):
            if task_id in kept:
                continue
            outcome = rule
            claim_task(parts.tasks, actor=parts.manager, task_id=task_id)
            worker = (
                parts.supervisor if outcome is TaskOutcome.HAND_TO_COLLECTIONS else parts.manager
            )
            try:
                done = complete_task(
                    parts.tasks,
                    actor=worker,
                    task_id=task_id,
                    completion=Completion(outcome, note=f"demo rule: {outcome.value}"),
                )
            except TaskActionUnavailable as exc:
                # Nothing to act on (no line any more): the manager keeps watching instead.
                logger.info("task %s: %s; recorded as monitor", task_id, exc.message)
                outcome = TaskOutcome.MONITOR
                done = complete_task(
                    parts.tasks,
                    actor=parts.manager,
                    task_id=task_id,
                    completion=Completion(outcome, note=f"nothing to act on: {exc.code}"),
                )
            close_alert(
                parts.tasks,
                actor=parts.supervisor,
                alert_id=alert_id,
                reason=f"task {task_id} completed: {outcome.value}",
            )
            outcomes[outcome.value] += 1
            action = done.action
            if isinstance(action, Mapping):
                frozen += len(action.get("frozen", ()))
        return outcomes, frozen, len(kept)


# --- the report against the truth -----------------------------------------------------------


@dataclass(frozen=True)
class PostLoanReport:
    months: list[PostLoanMonth]
    alerts: int
    alerts_by_severity: dict[str, int]
    top_codes: list[tuple[str, int]]
    tasks_by_outcome: dict[str, int]
    left_open: int
    """Tasks the demo's staff left open for the console."""
    lines_frozen: int
    cases_by_bucket: dict[str, int]
    breaches: list[str]
    booked: int
    defaulted: int
    """Booked customers whose default month (truth) falls in the window."""
    alerted_before_default: int
    median_lead_months: float | None
    alerted: int
    alerted_defaulted: int
    """Alerted customers whose default month (truth) is on or before the window's last day."""
    booked_defaulted: int
    """Booked customers likewise (the base rate the alerts are compared with)."""


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def stored_alerts(parts: PostLoanParts) -> list[AlertRecord]:
    """Every alert on the database, in creation order."""
    found: list[AlertRecord] = []
    after: str | None = None
    while True:
        with parts.run.units() as uow:
            page = uow.monitoring.alerts(AlertQuery(after=after, limit=PAGE))
        found.extend(page)
        if len(page) < PAGE:
            return found
        after = page[-1].alert.alert_id


def post_loan_report(
    cycle: PostLoanCycle,
    *,
    booked: set[str],
    truth: Mapping[str, pl.DataFrame],
    first_day: date,
    last_day: date,
) -> PostLoanReport:
    """The cycle's figures, and its early warning measured against the truth (read here only)."""
    alerts = stored_alerts(cycle.parts)
    first_alert: dict[str, date] = {}
    severities: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    for stored in alerts:
        alert = stored.alert
        severities[alert.severity.value] += 1
        codes.update(s.code for s in alert.signals)
        seen = first_alert.get(alert.customer_id)
        if seen is None or alert.run_date < seen:
            first_alert[alert.customer_id] = alert.run_date
    with cycle.parts.collections() as uow:
        open_cases = uow.collections.open_cases()
    buckets = Counter("current" if c.bucket is None else c.bucket.value for c in open_cases)
    defaults = {
        row["uscc"]: row["default_month"]
        for row in truth["enterprises_truth"]
        .filter(pl.col("default_month").is_not_null() & (pl.col("default_month") <= last_day))
        .iter_rows(named=True)
    }
    window_start = date(first_day.year, first_day.month, 1)
    in_window = {u: m for u, m in defaults.items() if u in booked and m >= window_start}
    leads = [
        _month_index(month) - _month_index(first_alert[uscc])
        for uscc, month in in_window.items()
        if uscc in first_alert and first_alert[uscc] < month
    ]
    return PostLoanReport(
        months=list(cycle.months),
        alerts=len(alerts),
        alerts_by_severity={s.value: severities[s.value] for s in Severity},
        top_codes=codes.most_common(5),
        tasks_by_outcome=dict(cycle.outcomes.most_common()),
        left_open=cycle.left_open,
        lines_frozen=cycle.lines_frozen,
        cases_by_bucket=dict(sorted(buckets.items())),
        breaches=[f"{b.dimension}:{b.cluster}:{b.code}" for b in cycle.last_breaches],
        booked=len(booked),
        defaulted=len(in_window),
        alerted_before_default=len(leads),
        median_lead_months=float(statistics.median(leads)) if leads else None,
        alerted=len(first_alert),
        alerted_defaulted=sum(1 for u in first_alert if u in defaults),
        booked_defaulted=sum(1 for u in booked if u in defaults),
    )


__all__ = [
    "BehaviourTraining",
    "PostLoanCycle",
    "PostLoanMonth",
    "PostLoanParts",
    "PostLoanReport",
    "behaviour_horizon",
    "cut_market",
    "outcome_for",
    "post_loan_report",
    "train_behaviour_before",
]
