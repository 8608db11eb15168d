"""What the monitoring use cases need: stored runs, alerts and tasks, and a signal source."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from puhui.decision.triggers import CompiledTriggers
from puhui.domain.errors import Conflict
from puhui.domain.monitoring import Alert, AlertStatus, Hit, Severity, Task, TaskStatus
from puhui.services.notifications import Outbox
from puhui.services.ports import UnitOfWork

Json = Mapping[str, Any]


class MonitoringDataMissing(Conflict):
    """The data month a run needs is missing or late: nothing is evaluated, nothing changes."""

    code = "monitoring_data_missing"


class RunKind(StrEnum):
    """What a run covers; each kind runs at most once per date."""

    SCHEDULED = "scheduled"
    """Every customer under watch (monthly, when a data month is published)."""
    EVENTS = "events"
    """Only customers with an event on the date: a receipt that fell into a new
    days-past-due bucket at that end of day (1, 31 or 91 days past due)."""


EVENT_DPD = (1, 31, 91)
"""Days past due on which a receipt enters a new bucket (reminder, collection, legal)."""


class RunStatus(StrEnum):
    RUNNING = "running"
    """Started; interrupted runs stay here and resume from their progress."""
    COMPLETED = "completed"
    DATA_MISSING = "data_missing"
    """The data was not there: reported; the next call tries again."""


@dataclass(frozen=True, slots=True)
class MonitoredCustomer:
    """A customer under watch on the run date: an open credit line or an outstanding receipt."""

    customer_id: str
    """The enterprise (its USCC, as on its credit lines)."""
    line_ids: tuple[str, ...]
    """The lines opened by the run date, oldest first (the alert concerns the newest)."""
    owner: str | None
    """The account manager who owns the customer (from origination), None: the branch queue."""
    days_past_due: int
    """The largest days past due over the customer's outstanding receipts."""
    outstanding_principal_fen: int


@dataclass(frozen=True, slots=True)
class EvidencedHit:
    """A signal that fired for a customer, with the input values behind it (JSON-ready)."""

    hit: Hit
    evidence: Json


class SignalSource(Protocol):
    """Where a run's signals come from: the monitoring inputs of a chunk of customers,
    evaluated by the active trigger rules.

    ``check_data`` raises :class:`MonitoringDataMissing` when the data month ``as_of`` needs is
    missing or late; the run then changes nothing. ``signals`` returns every hit of the
    customers given (several per customer; a repeated code counts once).
    """

    def check_data(self, as_of: dt.date) -> None: ...

    def signals(
        self,
        customers: Sequence[MonitoredCustomer],
        as_of: dt.date,
        triggers: CompiledTriggers,
    ) -> Sequence[EvidencedHit]: ...


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One monitoring run (one per as-of date) and its progress."""

    as_of: dt.date
    status: RunStatus
    started_at: dt.datetime
    triggers_name: str | None = None
    triggers_version: int | None = None
    triggers_hash: str | None = None
    finished_at: dt.datetime | None = None
    customers_total: int = 0
    customers_done: int = 0
    last_customer_id: str | None = None
    hits: int = 0
    alerts_created: int = 0
    alerts_extended: int = 0
    tasks_created: int = 0
    note: str | None = None
    kind: RunKind = RunKind.SCHEDULED


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A stored alert: the domain alert, the line it concerns, who worked it, the evidence."""

    alert: Alert
    line_id: str | None
    evidence: Mapping[str, Json] = field(default_factory=dict)
    """Signal code -> the inputs behind it when it fired."""
    created_at: dt.datetime | None = None
    acknowledged_by: str | None = None
    closed_by: str | None = None


@dataclass(frozen=True, slots=True)
class TaskRecord:
    task: Task
    action: Json | None = None
    """What the acting outcome did (operation, lines, results)."""
    version: int = 1
    pending: Json | None = None
    """A completion under way (outcome, completer, date, progress), committed before the
    outcome acts; None otherwise. A task pending completion is refused to everyone else."""


@dataclass(frozen=True, slots=True)
class AlertQuery:
    status: AlertStatus | None = None
    severity: Severity | None = None
    customer_id: str | None = None
    run_date: dt.date | None = None
    raised_from: dt.date | None = None
    raised_to: dt.date | None = None
    after: str | None = None
    """Cursor: the last alert id of the previous page (ids sort in creation order)."""
    limit: int = 50


@dataclass(frozen=True, slots=True)
class TaskQuery:
    holder: str | None = None
    """Tasks assigned to, or claimed by, this user."""
    include_queue: bool = False
    """With ``holder``: also the branch queue's unassigned tasks."""
    status: TaskStatus | None = None
    customer_id: str | None = None
    after: str | None = None
    limit: int = 50


class MonitoringRepository(Protocol):
    def run(self, as_of: dt.date, kind: RunKind = RunKind.SCHEDULED) -> RunRecord | None: ...

    def add_run(self, run: RunRecord) -> None: ...

    def save_run(self, run: RunRecord) -> None: ...

    def count_population(self, as_of: dt.date, kind: RunKind = RunKind.SCHEDULED) -> int: ...

    def population(
        self,
        as_of: dt.date,
        *,
        after: str | None,
        limit: int,
        kind: RunKind = RunKind.SCHEDULED,
    ) -> list[MonitoredCustomer]: ...

    def open_alerts(self, customer_ids: Sequence[str]) -> list[AlertRecord]: ...

    def add_alert(self, record: AlertRecord) -> None: ...

    def save_alert(
        self,
        record: AlertRecord,
        added_codes: Sequence[str] = (),
        *,
        expected_status: AlertStatus,
    ) -> None:
        """Write the alert back if it still has ``expected_status`` (else ``Conflict``)."""
        ...

    def alert(self, alert_id: str) -> AlertRecord | None: ...

    def alerts(self, query: AlertQuery) -> list[AlertRecord]: ...

    def count_alerts(self, status: AlertStatus) -> int:
        """Alerts in ``status``."""
        ...

    def add_task(self, record: TaskRecord) -> None: ...

    def save_task(self, record: TaskRecord) -> None:
        """Store a changed task; :class:`Conflict` when another change came first."""
        ...

    def task(self, task_id: str) -> TaskRecord | None: ...

    def task_of_alert(self, alert_id: str) -> TaskRecord | None:
        """The alert's latest task (a completed one may have a follow-up)."""
        ...

    def tasks(self, query: TaskQuery) -> list[TaskRecord]: ...

    def count_held(self, holder: str) -> int:
        """Tasks waiting for ``holder``: assigned to them and open (or escalated to them), or
        claimed by them and not completed."""
        ...

    def overdue_tasks(self, on: dt.date) -> list[TaskRecord]: ...

    def supervisor_of(self, user_id: str) -> str | None: ...

    def team_of(self, supervisor_id: str) -> list[str]:
        """The users whose supervisor ``supervisor_id`` is on record, by id."""
        ...

    def set_supervisor(self, user_id: str, supervisor_id: str, *, actor: str) -> None: ...

    def customer_lines(self, customer_id: str) -> list[str]: ...

    def hand_to_collections(self, task: Task, *, actor: str, note: str) -> None: ...


class MonitoringUnitOfWork(UnitOfWork, Protocol):
    @property
    def monitoring(self) -> MonitoringRepository: ...

    @property
    def outbox(self) -> Outbox:
        """Where a completed task's notice to the customer is written, with the task."""
        ...


MonitoringUnits = Callable[[], MonitoringUnitOfWork]
