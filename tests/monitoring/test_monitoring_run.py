"""The monitoring run on the database: alerts, tasks, idempotence, resumption, missing data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest
from book_support import AS_OF, build_book, record_origination, uscc

from puhui.bootstrap import Platform
from puhui.decision.triggers import CompiledTriggers
from puhui.domain.errors import Conflict
from puhui.domain.monitoring import AlertStatus, TaskOutcome, TaskStatus
from puhui.services.monitoring import alerts as alert_work
from puhui.services.monitoring import tasks as work
from puhui.services.monitoring.ports import (
    AlertQuery,
    EvidencedHit,
    MonitoredCustomer,
    RunKind,
    RunStatus,
    TaskQuery,
)
from puhui.services.monitoring.run import run_monitoring
from puhui.services.security.permissions import Principal, Role

SYSTEM = "system:monitoring"


def _alerts(platform: Platform) -> list[object]:
    with platform.monitoring_uow() as uow:
        return list(uow.monitoring.alerts(AlertQuery(limit=100)))


def _tasks(platform: Platform) -> list[object]:
    with platform.monitoring_uow() as uow:
        return list(uow.monitoring.tasks(TaskQuery(limit=100)))


def test_run_raises_one_alert_and_task_per_delinquent_customer(platform: Platform) -> None:
    book = build_book(platform, 5, dpd={1: 12, 3: 45})
    book.close_day(AS_OF)
    summary = run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM)
    assert summary.status is RunStatus.COMPLETED
    assert summary.rules == "mse-post-loan@1"
    assert (summary.customers, summary.alerts_created, summary.tasks_created) == (5, 2, 2)
    with platform.monitoring_uow() as uow:
        alerts = uow.monitoring.alerts(AlertQuery(limit=100))
        by_customer = {a.alert.customer_id: a for a in alerts}
        assert by_customer[uscc(1)].alert.codes == {"DPD_EARLY"}
        assert by_customer[uscc(3)].alert.severity.value == "high"
        evidence = by_customer[uscc(3)].evidence["DPD_SERIOUS"]
        assert evidence["inputs"]["days_past_due"] == 45
        assert evidence["rules"] == "mse-post-loan@1"
        task = uow.monitoring.task_of_alert(by_customer[uscc(3)].alert.alert_id)
        assert task is not None
        assert task.task.assignee is None  # no account manager on record: the branch queue
        assert task.task.due_on == date(2026, 4, 1)  # high: next business day
        actions = [e.action for e in uow.audit.events()]
    assert actions.count("monitoring.alert_raised") == 2
    assert "monitoring.run_completed" in actions


def test_a_second_run_of_the_same_date_does_nothing_again(platform: Platform) -> None:
    book = build_book(platform, 3, dpd={0: 5})
    book.close_day(AS_OF)
    run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM)
    again = run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM)
    assert again.already_done
    assert again.alerts_created == 1
    assert len(_alerts(platform)) == 1
    assert len(_tasks(platform)) == 1


def test_repeated_signals_on_a_later_run_do_not_duplicate_the_alert(platform: Platform) -> None:
    book = build_book(platform, 2, dpd={0: 5})
    book.close_day(AS_OF)
    book.close_day(date(2026, 4, 1))
    run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM)  # medium: due in 3 business days
    book.set_dpd(uscc(0), 35)
    later = run_monitoring(book.setup(), as_of=date(2026, 4, 1), actor=SYSTEM)
    assert (later.alerts_created, later.alerts_extended) == (0, 1)
    (alert,) = _alerts(platform)
    assert alert.alert.codes == {"DPD_EARLY", "DPD_SERIOUS"}  # type: ignore[attr-defined]
    assert alert.alert.severity.value == "high"  # type: ignore[attr-defined]
    (task,) = _tasks(platform)
    # The task takes the higher severity: due the next business day after the later run
    # (2 April) instead of 3 April.
    assert task.task.severity.value == "high"  # type: ignore[attr-defined]
    assert task.task.due_on == date(2026, 4, 2)  # type: ignore[attr-defined]


def test_new_signals_after_the_task_is_completed_create_a_follow_up_task(
    platform: Platform,
) -> None:
    book = build_book(platform, 2, dpd={0: 5})
    book.close_day(AS_OF)
    book.close_day(date(2026, 4, 1))
    book.close_day(date(2026, 4, 2))
    run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM)
    (first,) = _tasks(platform)
    access = book.access()
    manager = Principal(user_id="usr_manager", role=Role.ACCOUNT_MANAGER)
    work.claim_task(access, actor=manager, task_id=first.task.task_id)  # type: ignore[attr-defined]
    work.complete_task(
        access,
        actor=manager,
        task_id=first.task.task_id,  # type: ignore[attr-defined]
        completion=work.Completion(TaskOutcome.CONTACTED, note="promised to pay"),
    )
    # The same signal again is not new work.
    again = run_monitoring(book.setup(), as_of=date(2026, 4, 1), actor=SYSTEM)
    assert (again.alerts_extended, again.tasks_created) == (0, 0)
    # A new, more serious signal on the still-open alert is: a follow-up task, due by it.
    book.set_dpd(uscc(0), 35)
    later = run_monitoring(book.setup(), as_of=date(2026, 4, 2), actor=SYSTEM)
    assert (later.alerts_created, later.alerts_extended, later.tasks_created) == (0, 1, 1)
    tasks = {t.task.task_id: t.task for t in _tasks(platform)}  # type: ignore[attr-defined]
    assert len(tasks) == 2
    follow_up = next(t for i, t in tasks.items() if i != first.task.task_id)  # type: ignore[attr-defined]
    assert follow_up.alert_id == first.task.alert_id  # type: ignore[attr-defined]
    assert follow_up.status is TaskStatus.OPEN
    assert follow_up.severity.value == "high"


class _DiesAfter:
    """A signal source that fails on its n-th chunk (the process dies half-way)."""

    def __init__(self, inner: object, chunks: int) -> None:
        self._inner = inner
        self._left = chunks

    def check_data(self, as_of: date) -> None:
        self._inner.check_data(as_of)  # type: ignore[attr-defined]

    def signals(
        self, customers: Sequence[MonitoredCustomer], as_of: date, triggers: CompiledTriggers
    ) -> Sequence[EvidencedHit]:
        if self._left == 0:
            raise RuntimeError("killed half-way")
        self._left -= 1
        found: Sequence[EvidencedHit] = self._inner.signals(customers, as_of, triggers)  # type: ignore[attr-defined]
        return found


def test_an_interrupted_run_resumes_without_duplicates(platform: Platform) -> None:
    book = build_book(platform, 6, dpd={0: 3, 2: 40, 5: 10})
    book.close_day(AS_OF)
    with pytest.raises(RuntimeError, match="half-way"):
        run_monitoring(
            book.setup(_DiesAfter(platform.signal_source(), 1), chunk_size=2),
            as_of=AS_OF,
            actor=SYSTEM,
        )
    with platform.monitoring_uow() as uow:
        interrupted = uow.monitoring.run(AS_OF)
    assert interrupted is not None
    assert (interrupted.status, interrupted.customers_done) == (RunStatus.RUNNING, 2)
    assert len(_alerts(platform)) == 1  # the first chunk's alert is committed
    resumed = run_monitoring(book.setup(chunk_size=2), as_of=AS_OF, actor=SYSTEM)
    assert resumed.resumed
    assert resumed.status is RunStatus.COMPLETED
    assert (resumed.customers, resumed.alerts_created, resumed.tasks_created) == (6, 3, 3)
    assert sorted(a.alert.customer_id for a in _alerts(platform)) == [  # type: ignore[attr-defined]
        uscc(0),
        uscc(2),
        uscc(5),
    ]
    assert len(_tasks(platform)) == 3


def test_a_missing_data_month_is_reported_and_changes_nothing(platform: Platform) -> None:
    book = build_book(platform, 3, dpd={0: 40})
    book.close_day(date(2026, 3, 30))  # end of day has not run through the run date
    summary = run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM)
    assert summary.status is RunStatus.DATA_MISSING
    assert summary.note is not None
    assert "not final" in summary.note
    assert _alerts(platform) == []
    assert _tasks(platform) == []
    book.close_day(AS_OF)  # the data arrives: the same date runs
    done = run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM)
    assert done.status is RunStatus.COMPLETED
    assert done.alerts_created == 1


def test_the_run_records_and_uses_the_active_trigger_version(platform: Platform) -> None:
    book = build_book(platform, 1)
    book.close_day(AS_OF)
    summary = run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM)
    with platform.monitoring_uow() as uow:
        run = uow.monitoring.run(AS_OF)
    assert run is not None
    assert (run.triggers_name, run.triggers_version) == ("mse-post-loan", 1)
    assert run.triggers_hash is not None
    assert summary.alerts_created == 0


def test_the_owner_gets_the_task_and_the_origination_pd_is_evidence(platform: Platform) -> None:
    book = build_book(platform, 2, dpd={1: 9})
    record_origination(book, uscc(1), account_manager="usr_am", pd="0.021")
    book.close_day(AS_OF)
    run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM)
    with platform.monitoring_uow() as uow:
        (alert,) = uow.monitoring.alerts(AlertQuery())
        task = uow.monitoring.task_of_alert(alert.alert.alert_id)
    assert task is not None
    assert task.task.assignee == "usr_am"
    assert alert.evidence["DPD_EARLY"]["inputs"] == {"days_past_due": 9, "origination_pd": 0.021}


def test_an_alert_closed_meanwhile_is_not_written_back_open(platform: Platform) -> None:
    book = build_book(platform, 2, dpd={0: 5})
    book.close_day(AS_OF)
    run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM)
    (stale,) = _alerts(platform)  # a run's read of the open alert...
    risk = Principal(user_id="usr_risk", role=Role.RISK_OFFICER)
    alert_id = stale.alert.alert_id  # type: ignore[attr-defined]
    alert_work.close_alert(book.access(), actor=risk, alert_id=alert_id, reason="repaid")
    with platform.monitoring_uow() as uow, pytest.raises(Conflict, match="changed meanwhile"):
        # ...written back after someone closed it is refused, not a silent reopening.
        uow.monitoring.save_alert(stale, expected_status=AlertStatus.OPEN)  # type: ignore[arg-type]
    (closed,) = _alerts(platform)
    assert closed.alert.status is AlertStatus.CLOSED  # type: ignore[attr-defined]


def test_an_event_run_watches_only_customers_entering_a_new_dpd_bucket(
    platform: Platform,
) -> None:
    book = build_book(platform, 4, dpd={0: 1, 1: 31, 2: 12})
    book.close_day(AS_OF)
    events = run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM, kind=RunKind.EVENTS)
    assert events.status is RunStatus.COMPLETED
    # Customer 0 fell behind today (1 day), customer 1 entered collection (31); customer 2
    # has been late for 12 days (no event) and customer 3 is current.
    assert (events.customers, events.alerts_created, events.tasks_created) == (2, 2, 2)
    assert {a.alert.customer_id for a in _alerts(platform)} == {uscc(0), uscc(1)}  # type: ignore[attr-defined]
    # The scheduled run of the same date is a run of its own over the whole book; the alert
    # rule keeps one alert per customer, so the event run's alerts are not raised again.
    scheduled = run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM)
    assert (scheduled.customers, scheduled.alerts_created) == (4, 1)
    assert len(_alerts(platform)) == 3
    again = run_monitoring(book.setup(), as_of=AS_OF, actor=SYSTEM, kind=RunKind.EVENTS)
    assert again.already_done
