"""Monitoring runs, alerts, tasks and supervisors on SQL: queries only, the caller commits.

Staff free text (task notes, hand-off notes, alert close reasons) is sealed with the field
cipher, the column name bound in; an empty text is stored as NULL and needs no key.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, func, insert, or_, select, union, update

from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.origination.tables import applications
from puhui.adapters.db.post_loan.tables import (
    collection_handoffs,
    monitoring_alert_signals,
    monitoring_alerts,
    monitoring_runs,
    monitoring_supervisors,
    monitoring_tasks,
)
from puhui.adapters.db.servicing.tables import credit_lines, loans
from puhui.domain.clock import Clock
from puhui.domain.errors import ConfigurationError, Conflict
from puhui.domain.monitoring import (
    Alert,
    AlertStatus,
    Severity,
    Signal,
    Task,
    TaskOutcome,
    TaskStatus,
)
from puhui.services.monitoring.ports import (
    EVENT_DPD,
    AlertQuery,
    AlertRecord,
    MonitoredCustomer,
    RunKind,
    RunRecord,
    RunStatus,
    TaskQuery,
    TaskRecord,
)

TASK_NOTE = "monitoring_tasks.note"
HANDOFF_NOTE = "collection_handoffs.note"
CLOSE_REASON = "monitoring_alerts.close_reason"
"""The sealed columns (the name is the cipher's associated data)."""

_CHUNK = 500
"""Bound parameters per IN list: well under SQLite's and PostgreSQL's limits."""


def _json(data: Mapping[str, Any]) -> str:
    return json.dumps(dict(data), ensure_ascii=False, sort_keys=True, allow_nan=False)


def _chunks(values: Sequence[str]) -> list[Sequence[str]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite gives timestamps back naive; they were written as UTC.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


_RUN_FIELDS = (
    "status",
    "triggers_name",
    "triggers_version",
    "triggers_hash",
    "started_at",
    "finished_at",
    "customers_total",
    "customers_done",
    "last_customer_id",
    "hits",
    "alerts_created",
    "alerts_extended",
    "tasks_created",
    "note",
)


def _run_values(run: RunRecord) -> dict[str, Any]:
    values = {name: getattr(run, name) for name in _RUN_FIELDS}
    values["status"] = run.status.value
    return values


class _Notes:
    """Seals and opens the free-text columns; an empty text is NULL, and needs no key."""

    def __init__(self, cipher: FieldCipher | None) -> None:
        self._cipher = cipher

    def _require(self) -> FieldCipher:
        if self._cipher is None:
            raise ConfigurationError("monitoring needs the data key to seal and read staff notes")
        return self._cipher

    def seal(self, column: str, text: str) -> str | None:
        return None if not text else self._require().encrypt(column, text)

    def open(self, column: str, stored: str | None) -> str:
        return "" if not stored else self._require().decrypt(column, stored)


def _task_values(record: TaskRecord, notes: _Notes) -> dict[str, Any]:
    task = record.task
    return {
        "alert_id": task.alert_id,
        "customer_id": task.customer_id,
        "branch": task.branch,
        "severity": task.severity.value,
        "created_on": task.created_on,
        "due_on": task.due_on,
        "assignee": task.assignee,
        "status": task.status.value,
        "claimed_by": task.claimed_by,
        "outcome": None if task.outcome is None else task.outcome.value,
        "note_enc": notes.seal(TASK_NOTE, task.note),
        "completed_on": task.completed_on,
        "completed_by": task.completed_by,
        "escalated_on": task.escalated_on,
        "escalated_from": task.escalated_from,
        "action_json": None if record.action is None else _json(record.action),
        "pending_json": None if record.pending is None else _json(record.pending),
        "version": record.version,
    }


def _task(row: Row[Any], notes: _Notes) -> TaskRecord:
    task = Task(
        task_id=row.task_id,
        alert_id=row.alert_id,
        customer_id=row.customer_id,
        branch=row.branch,
        severity=Severity(row.severity),
        created_on=row.created_on,
        due_on=row.due_on,
        assignee=row.assignee,
        status=TaskStatus(row.status),
        claimed_by=row.claimed_by,
        outcome=None if row.outcome is None else TaskOutcome(row.outcome),
        note=notes.open(TASK_NOTE, row.note_enc),
        completed_on=row.completed_on,
        completed_by=row.completed_by,
        escalated_on=row.escalated_on,
        escalated_from=row.escalated_from,
    )
    action = None if row.action_json is None else json.loads(row.action_json)
    pending = None if row.pending_json is None else json.loads(row.pending_json)
    return TaskRecord(task=task, action=action, version=row.version, pending=pending)


class SqlMonitoringRepository:
    def __init__(
        self, connection: Connection, clock: Clock, cipher: FieldCipher | None = None
    ) -> None:
        self._c = connection
        self._clock = clock
        self._notes = _Notes(cipher)

    # Runs -------------------------------------------------------------------------------

    def run(self, as_of: dt.date, kind: RunKind = RunKind.SCHEDULED) -> RunRecord | None:
        row = self._c.execute(
            select(monitoring_runs).where(
                monitoring_runs.c.as_of == as_of, monitoring_runs.c.kind == kind.value
            )
        ).one_or_none()
        if row is None:
            return None
        data = dict(row._mapping)
        data["status"] = RunStatus(data["status"])
        data["kind"] = RunKind(data["kind"])
        return RunRecord(**data)

    def add_run(self, run: RunRecord) -> None:
        self._c.execute(
            insert(monitoring_runs).values(as_of=run.as_of, kind=run.kind.value, **_run_values(run))
        )

    def save_run(self, run: RunRecord) -> None:
        self._c.execute(
            update(monitoring_runs)
            .where(monitoring_runs.c.as_of == run.as_of, monitoring_runs.c.kind == run.kind.value)
            .values(_run_values(run))
        )

    # The book under watch ---------------------------------------------------------------

    @staticmethod
    def _customer_ids(
        as_of: dt.date, kind: RunKind = RunKind.SCHEDULED, after: str | None = None
    ) -> Any:
        """The ids of the customers under watch (unordered, each once); past ``after`` only
        when given. Each branch tests ``after`` itself: a chunk's page (ordered, limited)
        then walks the indexes on the enterprise from ``after`` on (a merge of two ordered
        index walks that stops at the limit) instead of sorting the whole book per chunk."""
        if kind is RunKind.EVENTS:
            # A receipt that entered a new days-past-due bucket at the date's end of day.
            events = select(loans.c.enterprise_id.label("customer_id")).where(
                loans.c.status == "active",
                loans.c.disbursed_on <= as_of,
                loans.c.days_past_due.in_(EVENT_DPD),
            )
            if after is not None:
                events = events.where(loans.c.enterprise_id > after)
            return events.distinct()
        lines = select(credit_lines.c.enterprise_id.label("customer_id")).where(
            credit_lines.c.opened_on <= as_of, credit_lines.c.expiry_date >= as_of
        )
        receipts = select(loans.c.enterprise_id.label("customer_id")).where(
            loans.c.status == "active",
            loans.c.outstanding_principal_fen > 0,
            loans.c.disbursed_on <= as_of,
        )
        if after is not None:
            lines = lines.where(credit_lines.c.enterprise_id > after)
            receipts = receipts.where(loans.c.enterprise_id > after)
        return union(lines, receipts)

    def count_population(self, as_of: dt.date, kind: RunKind = RunKind.SCHEDULED) -> int:
        watched = self._customer_ids(as_of, kind).subquery("watched")
        return int(self._c.execute(select(func.count()).select_from(watched)).scalar_one())

    def population(
        self,
        as_of: dt.date,
        *,
        after: str | None,
        limit: int,
        kind: RunKind = RunKind.SCHEDULED,
    ) -> list[MonitoredCustomer]:
        query = self._customer_ids(as_of, kind, after).order_by("customer_id").limit(limit)
        ids = [str(r.customer_id) for r in self._c.execute(query)]
        if not ids:
            return []
        lines: dict[str, list[str]] = {i: [] for i in ids}
        for row in self._c.execute(
            select(credit_lines.c.enterprise_id, credit_lines.c.line_id)
            .where(credit_lines.c.enterprise_id.in_(ids), credit_lines.c.opened_on <= as_of)
            .order_by(credit_lines.c.opened_on, credit_lines.c.line_id)
        ):
            lines[row.enterprise_id].append(row.line_id)
        exposure: dict[str, tuple[int, int]] = {}
        for total in self._c.execute(
            select(
                loans.c.enterprise_id,
                func.max(loans.c.days_past_due).label("dpd"),
                func.sum(loans.c.outstanding_principal_fen).label("outstanding"),
            )
            .where(loans.c.enterprise_id.in_(ids), loans.c.status == "active")
            .group_by(loans.c.enterprise_id)
        ):
            exposure[total.enterprise_id] = (int(total.dpd or 0), int(total.outstanding or 0))
        owners = self._owners([line for found in lines.values() for line in found])
        customers = []
        for customer_id in ids:
            line_ids = tuple(lines[customer_id])
            owner = next((owners[line] for line in line_ids if line in owners), None)
            dpd, outstanding = exposure.get(customer_id, (0, 0))
            customers.append(MonitoredCustomer(customer_id, line_ids, owner, dpd, outstanding))
        return customers

    def _owners(self, line_ids: Sequence[str]) -> dict[str, str]:
        """The account manager of the application that opened each line (when one did)."""
        found: dict[str, str] = {}
        for part in _chunks(list(line_ids)):
            for row in self._c.execute(
                select(applications.c.credit_line_id, applications.c.account_manager_id).where(
                    applications.c.credit_line_id.in_(part),
                    applications.c.account_manager_id.is_not(None),
                )
            ):
                found[row.credit_line_id] = row.account_manager_id
        return found

    def customer_lines(self, customer_id: str) -> list[str]:
        return [
            r.line_id
            for r in self._c.execute(
                select(credit_lines.c.line_id)
                .where(credit_lines.c.enterprise_id == customer_id)
                .order_by(credit_lines.c.line_id)
            )
        ]

    # Alerts -----------------------------------------------------------------------------

    def _with_signals(self, rows: list[Row[Any]]) -> list[AlertRecord]:
        if not rows:
            return []
        signals: dict[str, list[Row[Any]]] = {r.alert_id: [] for r in rows}
        for part in _chunks(list(signals)):
            for row in self._c.execute(
                select(monitoring_alert_signals)
                .where(monitoring_alert_signals.c.alert_id.in_(part))
                .order_by(monitoring_alert_signals.c.first_seen, monitoring_alert_signals.c.code)
            ):
                signals[row.alert_id].append(row)
        records = []
        for row in rows:
            own = signals[row.alert_id]
            alert = Alert(
                alert_id=row.alert_id,
                customer_id=row.customer_id,
                run_date=row.run_date,
                signals=tuple(
                    Signal(s.code, Severity(s.severity), s.text_zh, s.text_en, s.first_seen)
                    for s in own
                ),
                status=AlertStatus(row.status),
                closed_on=row.closed_on,
                close_reason=self._notes.open(CLOSE_REASON, row.close_reason_enc),
            )
            records.append(
                AlertRecord(
                    alert=alert,
                    line_id=row.line_id,
                    evidence={s.code: json.loads(s.evidence_json) for s in own},
                    created_at=_aware(row.created_at),
                    acknowledged_by=row.acknowledged_by,
                    closed_by=row.closed_by,
                )
            )
        return records

    def open_alerts(self, customer_ids: Sequence[str]) -> list[AlertRecord]:
        rows: list[Row[Any]] = []
        for part in _chunks(list(customer_ids)):
            rows.extend(
                self._c.execute(
                    select(monitoring_alerts).where(
                        monitoring_alerts.c.customer_id.in_(part),
                        monitoring_alerts.c.status != AlertStatus.CLOSED.value,
                    )
                )
            )
        return self._with_signals(rows)

    def _insert_signals(self, record: AlertRecord, codes: Sequence[str]) -> None:
        by_code = {s.code: s for s in record.alert.signals}
        rows = [
            {
                "alert_id": record.alert.alert_id,
                "code": code,
                "severity": by_code[code].severity.value,
                "text_zh": by_code[code].text_zh,
                "text_en": by_code[code].text_en,
                "first_seen": by_code[code].first_seen,
                "evidence_json": _json(record.evidence.get(code, {})),
            }
            for code in codes
        ]
        if rows:
            self._c.execute(insert(monitoring_alert_signals), rows)

    def add_alert(self, record: AlertRecord) -> None:
        alert = record.alert
        now = record.created_at
        self._c.execute(
            insert(monitoring_alerts).values(
                alert_id=alert.alert_id,
                customer_id=alert.customer_id,
                line_id=record.line_id,
                severity=alert.severity.value,
                status=alert.status.value,
                run_date=alert.run_date,
                created_at=now,
                updated_at=now,
            )
        )
        self._insert_signals(record, [s.code for s in alert.signals])

    def save_alert(
        self,
        record: AlertRecord,
        added_codes: Sequence[str] = (),
        *,
        expected_status: AlertStatus,
    ) -> None:
        alert = record.alert
        done = self._c.execute(
            update(monitoring_alerts)
            .where(
                monitoring_alerts.c.alert_id == alert.alert_id,
                monitoring_alerts.c.status == expected_status.value,
            )
            .values(
                severity=alert.severity.value,
                status=alert.status.value,
                updated_at=self._clock.now(),
                acknowledged_by=record.acknowledged_by,
                closed_on=alert.closed_on,
                closed_by=record.closed_by,
                close_reason_enc=self._notes.seal(CLOSE_REASON, alert.close_reason),
            )
        )
        if done.rowcount != 1:
            raise Conflict(
                f"alert {alert.alert_id} changed meanwhile (it is no longer "
                f"{expected_status.value}): read it again",
                details={"alert_id": alert.alert_id},
            )
        self._insert_signals(record, added_codes)

    def alert(self, alert_id: str) -> AlertRecord | None:
        rows = list(
            self._c.execute(
                select(monitoring_alerts).where(monitoring_alerts.c.alert_id == alert_id)
            )
        )
        found = self._with_signals(rows)
        return found[0] if found else None

    def count_alerts(self, status: AlertStatus) -> int:
        found = self._c.execute(
            select(func.count())
            .select_from(monitoring_alerts)
            .where(monitoring_alerts.c.status == status.value)
        ).scalar_one()
        return int(found)

    def alerts(self, query: AlertQuery) -> list[AlertRecord]:
        c = monitoring_alerts.c
        statement = select(monitoring_alerts).order_by(c.alert_id).limit(query.limit)
        conditions = []
        if query.status is not None:
            conditions.append(c.status == query.status.value)
        if query.severity is not None:
            conditions.append(c.severity == query.severity.value)
        if query.customer_id is not None:
            conditions.append(c.customer_id == query.customer_id)
        if query.run_date is not None:
            conditions.append(c.run_date == query.run_date)
        if query.raised_from is not None:
            conditions.append(c.run_date >= query.raised_from)
        if query.raised_to is not None:
            conditions.append(c.run_date <= query.raised_to)
        if query.after is not None:
            conditions.append(c.alert_id > query.after)
        if conditions:
            statement = statement.where(and_(*conditions))
        return self._with_signals(list(self._c.execute(statement)))

    # Tasks ------------------------------------------------------------------------------

    def add_task(self, record: TaskRecord) -> None:
        self._c.execute(
            insert(monitoring_tasks).values(
                task_id=record.task.task_id, **_task_values(record, self._notes)
            )
        )

    def save_task(self, record: TaskRecord) -> None:
        values = _task_values(record, self._notes)
        values["version"] = record.version + 1
        done = self._c.execute(
            update(monitoring_tasks)
            .where(
                monitoring_tasks.c.task_id == record.task.task_id,
                monitoring_tasks.c.version == record.version,
            )
            .values(values)
        )
        if done.rowcount != 1:
            raise Conflict(
                f"task {record.task.task_id} was changed by someone else: read it again",
                details={"task_id": record.task.task_id},
            )

    def task(self, task_id: str) -> TaskRecord | None:
        row = self._c.execute(
            select(monitoring_tasks).where(monitoring_tasks.c.task_id == task_id)
        ).one_or_none()
        return None if row is None else _task(row, self._notes)

    def task_of_alert(self, alert_id: str) -> TaskRecord | None:
        row = self._c.execute(
            select(monitoring_tasks)
            .where(monitoring_tasks.c.alert_id == alert_id)
            .order_by(monitoring_tasks.c.created_on.desc(), monitoring_tasks.c.task_id.desc())
            .limit(1)
        ).one_or_none()
        return None if row is None else _task(row, self._notes)

    def tasks(self, query: TaskQuery) -> list[TaskRecord]:
        c = monitoring_tasks.c
        statement = select(monitoring_tasks).order_by(c.task_id).limit(query.limit)
        conditions = []
        if query.holder is not None:
            mine = or_(
                and_(c.status == TaskStatus.CLAIMED.value, c.claimed_by == query.holder),
                and_(c.status != TaskStatus.CLAIMED.value, c.assignee == query.holder),
            )
            if query.include_queue:
                mine = or_(mine, and_(c.assignee.is_(None), c.status == TaskStatus.OPEN.value))
            conditions.append(mine)
        if query.status is not None:
            conditions.append(c.status == query.status.value)
        if query.customer_id is not None:
            conditions.append(c.customer_id == query.customer_id)
        if query.after is not None:
            conditions.append(c.task_id > query.after)
        if conditions:
            statement = statement.where(and_(*conditions))
        return [_task(row, self._notes) for row in self._c.execute(statement)]

    def count_held(self, holder: str) -> int:
        c = monitoring_tasks.c
        waiting = (TaskStatus.OPEN.value, TaskStatus.ESCALATED.value)
        found = self._c.execute(
            select(func.count())
            .select_from(monitoring_tasks)
            .where(
                or_(
                    and_(c.status == TaskStatus.CLAIMED.value, c.claimed_by == holder),
                    and_(c.status.in_(waiting), c.assignee == holder),
                )
            )
        ).scalar_one()
        return int(found)

    def overdue_tasks(self, on: dt.date) -> list[TaskRecord]:
        c = monitoring_tasks.c
        rows = self._c.execute(
            select(monitoring_tasks)
            .where(
                c.status.in_((TaskStatus.OPEN.value, TaskStatus.CLAIMED.value)),
                c.due_on < on,
                c.escalated_on.is_(None),
                # A completion under way is finished by its completer, not escalated.
                c.pending_json.is_(None),
            )
            .order_by(c.task_id)
        )
        return [_task(row, self._notes) for row in rows]

    # Supervisors and hand-offs ----------------------------------------------------------

    def supervisor_of(self, user_id: str) -> str | None:
        value = self._c.execute(
            select(monitoring_supervisors.c.supervisor_id).where(
                monitoring_supervisors.c.user_id == user_id
            )
        ).scalar_one_or_none()
        return None if value is None else str(value)

    def team_of(self, supervisor_id: str) -> list[str]:
        t = monitoring_supervisors
        rows = self._c.execute(
            select(t.c.user_id).where(t.c.supervisor_id == supervisor_id).order_by(t.c.user_id)
        )
        return [str(row.user_id) for row in rows]

    def set_supervisor(self, user_id: str, supervisor_id: str, *, actor: str) -> None:
        now = self._clock.now()
        done = self._c.execute(
            update(monitoring_supervisors)
            .where(monitoring_supervisors.c.user_id == user_id)
            .values(supervisor_id=supervisor_id, set_by=actor, set_at=now)
        )
        if done.rowcount == 0:
            self._c.execute(
                insert(monitoring_supervisors).values(
                    user_id=user_id, supervisor_id=supervisor_id, set_by=actor, set_at=now
                )
            )

    def hand_to_collections(self, task: Task, *, actor: str, note: str) -> None:
        self._c.execute(
            insert(collection_handoffs).values(
                task_id=task.task_id,
                customer_id=task.customer_id,
                handed_by=actor,
                handed_at=self._clock.now(),
                note_enc=self._notes.seal(HANDOFF_NOTE, note),
            )
        )
