"""Completing a task safely: the outcome is marked before it acts, a stopped completion resumes
without acting twice, and staff notes are sealed at rest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from book_support import AS_OF, Book, build_book, uscc
from sqlalchemy import select

from puhui.adapters.db import key_rotation
from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.post_loan.tables import (
    collection_handoffs,
    monitoring_alerts,
    monitoring_tasks,
)
from puhui.bootstrap import Platform
from puhui.domain.errors import Conflict, InvalidAmount
from puhui.domain.monitoring import TaskOutcome, TaskStatus
from puhui.services.monitoring import alerts as alert_work
from puhui.services.monitoring import tasks as work
from puhui.services.monitoring.access import MonitoringAccess
from puhui.services.monitoring.ports import TaskQuery, TaskRecord
from puhui.services.monitoring.run import run_monitoring
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.records import LineStatus

MANAGER = Principal(user_id="usr_manager", role=Role.ACCOUNT_MANAGER)
SUPERVISOR = Principal(user_id="usr_lead", role=Role.SUPERVISOR)
RISK = Principal(user_id="usr_risk", role=Role.RISK_OFFICER)

NOTE = "visited the workshop; Mr Wang Wei says the buyer pays late"


def _book_with_task(platform: Platform) -> tuple[Book, TaskRecord]:
    book = build_book(platform, 2, dpd={0: 40})
    book.close_day(AS_OF)
    run_monitoring(book.setup(), as_of=AS_OF, actor="system:monitoring")
    with platform.monitoring_uow() as uow:
        (task,) = uow.monitoring.tasks(TaskQuery())
    return book, task


def _events(platform: Platform, action: str) -> list[Any]:
    with platform.uow() as uow:
        return [e for e in uow.audit.events() if e.action == action]


def _stored(platform: Platform, task_id: str) -> TaskRecord:
    with platform.monitoring_uow() as uow:
        found = uow.monitoring.task(task_id)
    assert found is not None
    return found


def _counting(access: MonitoringAccess) -> tuple[MonitoringAccess, list[int]]:
    """The access with its servicing units counted (one entry per unit opened)."""
    opened: list[int] = []
    inner = access.servicing_uow

    def counted() -> Any:
        opened.append(1)
        return inner()

    return replace(access, servicing_uow=counted), opened


def test_two_completions_at_once_act_once_and_the_loser_is_refused_before_acting(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    book, task = _book_with_task(platform)
    task_id = task.task.task_id
    access, opened = _counting(book.access())
    work.claim_task(access, actor=MANAGER, task_id=task_id)
    precheck = work._precheck
    opened_when_supervisor_done: list[int] = []

    def supervisor_gets_there_first(*args: Any, **kwargs: Any) -> None:
        # The manager has read the task; the supervisor completes it before the manager
        # marks it.
        monkeypatch.setattr(work, "_precheck", precheck)
        work.complete_task(
            access,
            actor=SUPERVISOR,
            task_id=task_id,
            completion=work.Completion(TaskOutcome.FREEZE, note="seen by the lead"),
        )
        opened_when_supervisor_done.append(len(opened))
        precheck(*args, **kwargs)

    monkeypatch.setattr(work, "_precheck", supervisor_gets_there_first)
    with pytest.raises(Conflict):
        work.complete_task(
            access,
            actor=MANAGER,
            task_id=task_id,
            completion=work.Completion(TaskOutcome.FREEZE, note="owner unreachable"),
        )
    # The manager's call touched no servicing unit after the supervisor's completion.
    assert opened_when_supervisor_done == [len(opened)]
    assert len(_events(platform, "credit_line.frozen")) == 1
    assert len(_events(platform, "monitoring.task_completed")) == 1
    stored = _stored(platform, task_id)
    assert stored.task.status is TaskStatus.COMPLETED
    assert stored.task.completed_by == SUPERVISOR.user_id
    assert stored.task.note == "seen by the lead"
    assert stored.pending is None


def test_a_failure_after_the_action_is_resumed_without_acting_twice(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    book, task = _book_with_task(platform)
    task_id = task.task.task_id
    access = book.access()
    work.claim_task(access, actor=MANAGER, task_id=task_id)
    audit = work._audit_task

    def failing_once(uow: Any, actor: str, action: str, *rest: Any) -> None:
        if action == "completed":
            monkeypatch.setattr(work, "_audit_task", audit)
            raise RuntimeError("the database went away")
        audit(uow, actor, action, *rest)

    monkeypatch.setattr(work, "_audit_task", failing_once)
    completion = work.Completion(TaskOutcome.FREEZE, note="owner unreachable")
    with pytest.raises(RuntimeError):
        work.complete_task(access, actor=MANAGER, task_id=task_id, completion=completion)
    line_id = book.lines[uscc(0)]
    with platform.servicing_uow() as uow:
        line = uow.lines.get(line_id)
    assert line is not None
    assert line.status is LineStatus.FROZEN
    stopped = _stored(platform, task_id)
    assert stopped.task.status is TaskStatus.CLAIMED
    assert stopped.pending is not None
    assert stopped.pending["outcome"] == "freeze"
    # Nobody escalates a task whose completion is under way.
    assert (
        work.escalate_overdue_tasks(
            platform.monitoring_uow, on=stopped.task.due_on.replace(year=2027), actor="s"
        ).escalated
        == ()
    )

    done = work.complete_task(access, actor=MANAGER, task_id=task_id, completion=completion)
    assert done.task.status is TaskStatus.COMPLETED
    assert done.action == {"operation": "freeze", "frozen": [line_id], "already_frozen": []}
    assert len(_events(platform, "credit_line.frozen")) == 1
    assert len(_events(platform, "monitoring.task_completing")) == 1
    assert len(_events(platform, "monitoring.task_completed")) == 1
    stored = _stored(platform, task_id)
    assert (stored.task.note, stored.pending, stored.version) == (
        "owner unreachable",
        None,
        done.version,
    )


def test_a_recall_stopped_before_its_result_was_kept_calls_nothing_in_again(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    book, task = _book_with_task(platform)
    task_id = task.task.task_id
    access = book.access()
    work.claim_task(access, actor=RISK, task_id=task_id)
    keep = work._keep_progress

    def failing_once(*args: Any) -> TaskRecord:
        monkeypatch.setattr(work, "_keep_progress", keep)
        raise RuntimeError("the process stopped")

    monkeypatch.setattr(work, "_keep_progress", failing_once)
    completion = work.Completion(TaskOutcome.RECALL_EARLY)
    with pytest.raises(RuntimeError):
        work.complete_task(access, actor=RISK, task_id=task_id, completion=completion)
    assert len(_events(platform, "receipt.accelerated")) == 1
    done = work.complete_task(access, actor=RISK, task_id=task_id, completion=completion)
    assert done.task.status is TaskStatus.COMPLETED
    assert len(_events(platform, "receipt.accelerated")) == 1
    assert len(_events(platform, "monitoring.task_completed")) == 1


def test_a_task_being_completed_refuses_another_outcome(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    book, task = _book_with_task(platform)
    task_id = task.task.task_id
    access = book.access()
    work.claim_task(access, actor=SUPERVISOR, task_id=task_id)
    stop: Callable[..., Any] = lambda *args, **kwargs: (_ for _ in ()).throw(  # noqa: E731
        RuntimeError("stopped")
    )
    monkeypatch.setattr(work, "_act", stop)
    with pytest.raises(RuntimeError):
        work.complete_task(
            access,
            actor=SUPERVISOR,
            task_id=task_id,
            completion=work.Completion(TaskOutcome.FREEZE),
        )
    with pytest.raises(Conflict):
        work.complete_task(
            access,
            actor=SUPERVISOR,
            task_id=task_id,
            completion=work.Completion(TaskOutcome.HAND_TO_COLLECTIONS),
        )


def test_an_outcome_servicing_refuses_gives_the_task_back_unchanged(platform: Platform) -> None:
    book, task = _book_with_task(platform)
    task_id = task.task.task_id
    access = book.access()
    work.claim_task(access, actor=SUPERVISOR, task_id=task_id)
    with pytest.raises(InvalidAmount):
        work.complete_task(
            access,
            actor=SUPERVISOR,
            task_id=task_id,
            # Above the current limit: servicing refuses the reduction.
            completion=work.Completion(TaskOutcome.REDUCE_LIMIT, new_limit_fen=5_000_000_00),
        )
    back = _stored(platform, task_id)
    assert (back.task.status, back.pending, back.task.note) == (TaskStatus.CLAIMED, None, "")
    assert len(_events(platform, "monitoring.task_completion_refused")) == 1
    done = work.complete_task(
        access,
        actor=SUPERVISOR,
        task_id=task_id,
        completion=work.Completion(TaskOutcome.REDUCE_LIMIT, new_limit_fen=200_000_00),
    )
    assert done.action == {
        "operation": "reduce_limit",
        "line_id": book.lines[uscc(0)],
        "limit_fen": 200_000_00,
    }


def test_staff_notes_are_sealed_at_rest_and_read_back_through_the_service(
    platform: Platform,
) -> None:
    book, task = _book_with_task(platform)
    task_id = task.task.task_id
    access = book.access()
    work.claim_task(access, actor=SUPERVISOR, task_id=task_id)
    work.complete_task(
        access,
        actor=SUPERVISOR,
        task_id=task_id,
        completion=work.Completion(TaskOutcome.HAND_TO_COLLECTIONS, note=NOTE),
    )
    alert_work.close_alert(
        access, actor=RISK, alert_id=task.task.alert_id, reason=f"paid up, said {NOTE[-30:]}"
    )
    with platform.database.engine.connect() as connection:
        raw = [
            connection.execute(select(monitoring_tasks.c.note_enc)).scalar_one(),
            connection.execute(select(collection_handoffs.c.note_enc)).scalar_one(),
            connection.execute(select(monitoring_alerts.c.close_reason_enc)).scalar_one(),
        ]
    for stored in raw:
        assert "Wang" not in stored
        assert "buyer" not in stored
        assert stored.startswith("v2:")
    read = work.get_task(access, actor=MANAGER, task_id=task_id)
    assert read.task.note == NOTE
    closed = alert_work.get_alert(access, actor=RISK, alert_id=task.task.alert_id)
    assert closed.alert.close_reason == f"paid up, said {NOTE[-30:]}"


def test_key_rotation_re_encrypts_staff_notes_under_the_new_key(platform: Platform) -> None:
    book, task = _book_with_task(platform)
    access = book.access()
    work.claim_task(access, actor=SUPERVISOR, task_id=task.task.task_id)
    work.complete_task(
        access,
        actor=SUPERVISOR,
        task_id=task.task.task_id,
        completion=work.Completion(TaskOutcome.HAND_TO_COLLECTIONS, note=NOTE),
    )
    settings = platform.settings
    old_key = settings.data_key.get_secret_value().encode()
    ring = FieldCipher(b"n" * 32, key_id="9", retired={settings.data_key_id: old_key})
    reports = {r.label: r for r in key_rotation.rotate(platform.database.engine, ring)}
    assert reports["monitoring_tasks.note_enc"].rotated == 1
    assert reports["collection_handoffs.note_enc"].rotated == 1
    with platform.database.engine.connect() as connection:
        stored = connection.execute(select(monitoring_tasks.c.note_enc)).scalar_one()
    assert ring.is_current(stored)
    # Only the new key is needed from now on, bound to the same column.
    only_new = FieldCipher(b"n" * 32, key_id="9")
    assert only_new.decrypt("monitoring_tasks.note", stored) == NOTE
