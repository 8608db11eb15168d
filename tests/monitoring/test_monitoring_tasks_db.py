"""Working post-loan tasks on the database: claims, outcomes that act, roles, escalation."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from book_support import AS_OF, Book, add_term_borrower, build_book, uscc
from sqlalchemy import select

from puhui.adapters.db.collections.unit_of_work import collections_units
from puhui.adapters.db.outbox import notification_outbox
from puhui.adapters.db.post_loan.under_alert import SqlUnderAlert
from puhui.adapters.notify.log import LogNotifier
from puhui.bootstrap import Platform
from puhui.bootstrap.api import collections_hand_over
from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.monitoring import DpdBucket, OutcomeNotPermitted, TaskOutcome, TaskStatus
from puhui.domain.origination.errors import Forbidden
from puhui.services.collections import cases
from puhui.services.collections.ports import QueueFilter
from puhui.services.monitoring import alerts as alert_work
from puhui.services.monitoring import tasks as work
from puhui.services.monitoring.ports import TaskQuery, TaskRecord
from puhui.services.monitoring.run import run_monitoring
from puhui.services.notifications import MessageStatus
from puhui.services.prospects import offers
from puhui.services.security.permissions import SYSTEM, Principal, Role
from puhui.services.servicing.errors import EndOfDayPending
from puhui.services.servicing.records import LineStatus

MANAGER = Principal(user_id="usr_manager", role=Role.ACCOUNT_MANAGER)
SUPERVISOR = Principal(user_id="usr_lead", role=Role.SUPERVISOR)
RISK = Principal(user_id="usr_risk", role=Role.RISK_OFFICER)
OPERATIONS = Principal(user_id="usr_ops", role=Role.OPERATIONS)


def _book_with_task(platform: Platform) -> tuple[Book, TaskRecord]:
    book = build_book(platform, 2, dpd={0: 40})
    book.close_day(AS_OF)
    run_monitoring(book.setup(), as_of=AS_OF, actor="system:monitoring")
    with platform.monitoring_uow() as uow:
        (task,) = uow.monitoring.tasks(TaskQuery())
    return book, task


def _events(platform: Platform, action: str) -> list[object]:
    with platform.uow() as uow:
        return [e for e in uow.audit.events() if e.action == action]


def test_a_task_completed_with_freeze_freezes_the_line_audited(platform: Platform) -> None:
    book, task = _book_with_task(platform)
    access = book.access()
    work.claim_task(access, actor=MANAGER, task_id=task.task.task_id)
    done = work.complete_task(
        access,
        actor=MANAGER,
        task_id=task.task.task_id,
        completion=work.Completion(TaskOutcome.FREEZE, note="owner unreachable"),
    )
    assert done.task.status is TaskStatus.COMPLETED
    assert done.action == {
        "operation": "freeze",
        "frozen": [book.lines[uscc(0)]],
        "already_frozen": [],
    }
    with platform.servicing_uow() as uow:
        line = uow.lines.get(book.lines[uscc(0)])
    assert line is not None
    assert line.status is LineStatus.FROZEN
    (frozen,) = _events(platform, "credit_line.frozen")
    assert frozen.actor == "account_manager:usr_manager"  # type: ignore[attr-defined]
    assert len(_events(platform, "monitoring.task_completed")) == 1
    with platform.monitoring_uow() as uow:
        stored = uow.monitoring.task(task.task.task_id)
    assert stored is not None
    assert stored.task.outcome is TaskOutcome.FREEZE


def test_a_role_that_may_not_take_an_action_is_refused_and_nothing_changes(
    platform: Platform,
) -> None:
    book, task = _book_with_task(platform)
    access = book.access()
    work.claim_task(access, actor=MANAGER, task_id=task.task.task_id)
    with pytest.raises(OutcomeNotPermitted):
        work.complete_task(
            access,
            actor=MANAGER,
            task_id=task.task.task_id,
            completion=work.Completion(TaskOutcome.REDUCE_LIMIT, new_limit_fen=50_000_00),
        )
    with pytest.raises(Forbidden):
        work.claim_task(access, actor=OPERATIONS, task_id=task.task.task_id)
    with platform.servicing_uow() as uow:
        line = uow.lines.get(book.lines[uscc(0)])
    assert line is not None
    assert line.limit_fen == 1_000_000_00
    assert _events(platform, "credit_line.reduced") == []


def test_a_supervisor_reduces_the_limit_through_a_task(platform: Platform) -> None:
    book, task = _book_with_task(platform)
    access = book.access()
    work.claim_task(access, actor=SUPERVISOR, task_id=task.task.task_id)
    done = work.complete_task(
        access,
        actor=SUPERVISOR,
        task_id=task.task.task_id,
        completion=work.Completion(TaskOutcome.REDUCE_LIMIT, new_limit_fen=200_000_00),
    )
    assert done.action == {
        "operation": "reduce_limit",
        "line_id": book.lines[uscc(0)],
        "limit_fen": 200_000_00,
    }
    assert len(_events(platform, "credit_line.reduced")) == 1


def test_a_risk_officer_recalls_early_every_receipt_falls_due(platform: Platform) -> None:
    book, task = _book_with_task(platform)
    access = book.access()
    with platform.uow() as uow:
        journal_before = uow.table_counts()["journal_lines"]
    work.claim_task(access, actor=RISK, task_id=task.task.task_id)
    done = work.complete_task(
        access,
        actor=RISK,
        task_id=task.task.task_id,
        completion=work.Completion(TaskOutcome.RECALL_EARLY),
    )
    assert done.action == {
        "operation": "recall_early",
        "receipts": [{"receipt_id": book.receipts[uscc(0)], "called_fen": 100_000_00}],
        "term_loans": [],
        # No origination wired here: no phone to send the borrower's notice to.
        "notice": None,
        "notice_missing": "no_phone",
    }
    with platform.servicing_uow() as uow:
        receipt = uow.loans.get(book.receipts[uscc(0)])
        line = uow.lines.get(book.lines[uscc(0)])
    assert receipt is not None
    assert receipt.maturity_date == AS_OF
    assert line is not None
    assert line.status is LineStatus.FROZEN
    assert len(_events(platform, "receipt.accelerated")) == 1
    # Only due dates move: nothing is posted, the ledger stays as balanced as it was.
    with platform.uow() as uow:
        assert uow.table_counts()["journal_lines"] == journal_before


def test_a_recall_notice_goes_to_the_borrowers_phone_with_the_task_and_is_dispatched(
    platform: Platform,
) -> None:
    book, task = _book_with_task(platform)
    phones = {uscc(0): "13812345678"}
    access = replace(book.access(), borrower_phone=phones.get, now=platform.clock.now)
    work.claim_task(access, actor=RISK, task_id=task.task.task_id)
    done = work.complete_task(
        access,
        actor=RISK,
        task_id=task.task.task_id,
        completion=work.Completion(TaskOutcome.RECALL_EARLY),
    )
    assert done.action is not None
    notice = done.action["notice"]
    assert notice["channel"] == "sms"
    assert "notice_missing" not in done.action
    with platform.monitoring_uow() as uow:
        (message,) = uow.outbox.of_subject(uscc(0))
    assert message.message_id == notice["message_id"]
    assert (message.recipient, message.template) == ("13812345678", work.RECALL_NOTICE_TEMPLATE)
    assert message.payload == {
        "customer_id": uscc(0),
        "called_in_on": AS_OF.isoformat(),
        "receipts": [{"receipt_id": book.receipts[uscc(0)], "called_fen": 100_000_00}],
        "term_loans": [],
        "principal_fen": 100_000_00,
    }
    # Sealed at rest: the number is not in the row.
    with platform.database.engine.connect() as connection:
        (sealed,) = connection.execute(
            select(notification_outbox.c.recipient_enc).where(
                notification_outbox.c.message_id == message.message_id
            )
        ).one()
    assert "13812345678" not in sealed
    # The outbox's dispatch delivers it: a notice is not an offer, no opt-out withdraws it.
    with platform.prospects_uow() as uow:
        uow.prospects.add_opt_out(uscc=uscc(0), phone=None, reason="no marketing", actor="ops")
        uow.commit()
    notifier = LogNotifier()
    report = offers.dispatch_outbox(platform.prospect_access(), notifier, actor=SYSTEM)
    assert (report.sent, report.cancelled) == (1, 0)
    assert notifier.delivered == [message.message_id]
    with platform.monitoring_uow() as uow:
        (sent,) = uow.outbox.of_subject(uscc(0))
    assert sent.status is MessageStatus.SENT
    (delivered,) = _events(platform, "notification.sent")
    assert delivered.entity_id == message.message_id  # type: ignore[attr-defined]


TERM_BORROWER = "91350100M000100Y43"


def _term_borrower_with_task(platform: Platform) -> tuple[Book, str, TaskRecord]:
    """A customer with a term loan only (no credit line), 40 days past due, and its task."""
    book = build_book(platform, 1)
    loan_id = add_term_borrower(book, TERM_BORROWER, days_past_due=40)
    book.close_day(AS_OF)
    run_monitoring(book.setup(), as_of=AS_OF, actor="system:monitoring")
    with platform.monitoring_uow() as uow:
        (task,) = uow.monitoring.tasks(TaskQuery(customer_id=TERM_BORROWER))
    return book, loan_id, task


def test_a_recall_calls_in_a_term_loan_of_a_customer_without_a_line(platform: Platform) -> None:
    book, loan_id, task = _term_borrower_with_task(platform)
    access = book.access()
    work.claim_task(access, actor=RISK, task_id=task.task.task_id)
    with pytest.raises(work.TaskActionUnavailable) as nothing_to_freeze:
        work.complete_task(
            access,
            actor=RISK,
            task_id=task.task.task_id,
            completion=work.Completion(TaskOutcome.FREEZE),
        )
    assert "no credit line to freeze" in nothing_to_freeze.value.message
    done = work.complete_task(
        access,
        actor=RISK,
        task_id=task.task.task_id,
        completion=work.Completion(TaskOutcome.RECALL_EARLY, note="the factory is shut"),
    )
    assert done.action == {
        "operation": "recall_early",
        "receipts": [],
        "term_loans": [{"loan_id": loan_id, "called_fen": 100_000_00}],
        "notice": None,
        "notice_missing": "no_phone",
    }
    with platform.servicing_uow() as uow:
        loan = uow.loans.get(loan_id)
    assert loan is not None
    assert (loan.maturity_date, loan.billed_principal_fen) == (AS_OF, 100_000_00)
    assert len(_events(platform, "term_loan.accelerated")) == 1


def test_a_recall_with_the_end_of_day_behind_gives_the_task_back(platform: Platform) -> None:
    book, loan_id, task = _term_borrower_with_task(platform)
    access = book.access(today=AS_OF + timedelta(days=2))
    work.claim_task(access, actor=RISK, task_id=task.task.task_id)
    with pytest.raises(EndOfDayPending):
        work.complete_task(
            access,
            actor=RISK,
            task_id=task.task.task_id,
            completion=work.Completion(TaskOutcome.RECALL_EARLY),
        )
    with platform.monitoring_uow() as uow:
        stored = uow.monitoring.task(task.task.task_id)
    assert stored is not None
    assert (stored.task.status, stored.pending) == (TaskStatus.CLAIMED, None)
    with platform.servicing_uow() as uow:
        loan = uow.loans.get(loan_id)
    assert loan is not None
    assert loan.next_due_date is not None
    assert _events(platform, "term_loan.accelerated") == []


def test_hand_to_collections_leaves_a_row_for_the_collections_queue(platform: Platform) -> None:
    book, task = _book_with_task(platform)
    access = book.access()
    work.claim_task(access, actor=SUPERVISOR, task_id=task.task.task_id)
    work.complete_task(
        access,
        actor=SUPERVISOR,
        task_id=task.task.task_id,
        completion=work.Completion(TaskOutcome.HAND_TO_COLLECTIONS, note="40 days late"),
    )
    with platform.uow() as uow:
        counts = uow.table_counts()
    assert counts["collection_handoffs"] == 1


def test_overdue_tasks_escalate_once_to_the_holders_supervisor(platform: Platform) -> None:
    book, task = _book_with_task(platform)
    access = book.access()

    def waiting() -> tuple[int, int]:
        """The tasks waiting for the manager and for the supervisor (the console's home)."""
        return (
            work.count_my_tasks(access, actor=MANAGER),
            work.count_my_tasks(access, actor=SUPERVISOR),
        )

    assert waiting() == (0, 0)  # in the branch queue: nobody's yet
    # The one alert waits to be acknowledged: counted for those who acknowledge alerts.
    assert alert_work.count_open_alerts(access, actor=SUPERVISOR) == 1
    with pytest.raises(Forbidden):
        alert_work.count_open_alerts(access, actor=MANAGER)
    work.claim_task(access, actor=MANAGER, task_id=task.task.task_id)
    assert waiting() == (1, 0)
    work.set_supervisor(
        platform.monitoring_uow,
        actor=Principal(user_id="usr_admin", role=Role.ADMIN),
        user_id=MANAGER.user_id,
        supervisor_id=SUPERVISOR.user_id,
    )
    not_yet = work.escalate_overdue_tasks(platform.monitoring_uow, on=task.task.due_on, actor="s")
    assert not_yet.escalated == ()
    late = date(2026, 4, 3)
    done = work.escalate_overdue_tasks(platform.monitoring_uow, on=late, actor="s")
    assert done.escalated == (task.task.task_id,)
    with platform.monitoring_uow() as uow:
        stored = uow.monitoring.task(task.task.task_id)
    assert stored is not None
    assert stored.task.status is TaskStatus.ESCALATED
    assert (stored.task.assignee, stored.task.escalated_from) == ("usr_lead", "usr_manager")
    assert waiting() == (0, 1)  # escalated: the supervisor's now
    again = work.escalate_overdue_tasks(platform.monitoring_uow, on=date(2026, 4, 20), actor="s")
    assert again.escalated == ()
    # Only the supervisor it went to (or risk) claims it now.
    with pytest.raises(OutcomeNotPermitted):
        work.claim_task(access, actor=MANAGER, task_id=task.task.task_id)
    claimed = work.claim_task(access, actor=SUPERVISOR, task_id=task.task.task_id)
    assert claimed.task.claimed_by == "usr_lead"
    assert waiting() == (0, 1)
    with pytest.raises(Forbidden):
        work.count_my_tasks(access, actor=OPERATIONS)


def test_a_supervisor_assigns_a_queue_task_to_one_of_their_managers(platform: Platform) -> None:
    book, task = _book_with_task(platform)
    access = book.access()
    task_id = task.task.task_id
    admin = Principal(user_id="usr_admin", role=Role.ADMIN)
    other = Principal(user_id="usr_manager2", role=Role.ACCOUNT_MANAGER)
    assert work.team(access, actor=SUPERVISOR) == []
    for manager in (MANAGER, other):
        work.set_supervisor(
            platform.monitoring_uow,
            actor=admin,
            user_id=manager.user_id,
            supervisor_id=SUPERVISOR.user_id,
        )
    assert work.team(access, actor=SUPERVISOR) == ["usr_manager", "usr_manager2"]

    def snapshot() -> tuple[object, int]:
        with platform.monitoring_uow() as uow:
            stored = uow.monitoring.task(task_id)
        return stored, len(_events(platform, "monitoring.task_assigned"))

    before = snapshot()
    # Only to one of their own managers, by a supervisor; nothing changes when refused.
    with pytest.raises(work.NotInTeam, match="usr_stranger is not one of your managers"):
        work.assign_task(access, actor=SUPERVISOR, task_id=task_id, assignee="usr_stranger")
    with pytest.raises(InvalidInput, match="assignee must be"):
        work.assign_task(access, actor=SUPERVISOR, task_id=task_id, assignee=" ")
    with pytest.raises(OutcomeNotPermitted, match="only a supervisor"):
        work.assign_task(access, actor=RISK, task_id=task_id, assignee=MANAGER.user_id)
    with pytest.raises(Forbidden):
        work.assign_task(access, actor=OPERATIONS, task_id=task_id, assignee=MANAGER.user_id)
    with pytest.raises(NotFound):
        work.assign_task(access, actor=SUPERVISOR, task_id="tsk_none", assignee=MANAGER.user_id)
    assert snapshot() == before

    assigned = work.assign_task(access, actor=SUPERVISOR, task_id=task_id, assignee="usr_manager")
    assert (assigned.task.status, assigned.task.assignee) == (TaskStatus.OPEN, "usr_manager")
    assert work.count_my_tasks(access, actor=MANAGER) == 1  # on the manager's home now
    with pytest.raises(OutcomeNotPermitted, match="assigned to someone else"):
        work.claim_task(access, actor=other, task_id=task_id)
    work.claim_task(access, actor=MANAGER, task_id=task_id)
    # The manager cannot work it after all: the supervisor hands it to the other one.
    moved = work.assign_task(access, actor=SUPERVISOR, task_id=task_id, assignee="usr_manager2")
    assert (moved.task.assignee, moved.task.claimed_by) == ("usr_manager2", None)
    assert work.count_my_tasks(access, actor=MANAGER) == 0
    assert work.count_my_tasks(access, actor=other) == 1
    events = _events(platform, "monitoring.task_assigned")
    assert [e.actor for e in events] == ["supervisor:usr_lead"] * 2  # type: ignore[attr-defined]
    with platform.monitoring_uow() as uow:
        stored = uow.monitoring.task(task_id)
    assert stored is not None
    assert stored.version == moved.version
    assert stored.task == moved.task


def test_a_queue_task_without_a_supervisor_is_reported_not_escalated(platform: Platform) -> None:
    _, task = _book_with_task(platform)
    done = work.escalate_overdue_tasks(platform.monitoring_uow, on=date(2026, 4, 20), actor="s")
    assert done.without_supervisor == (task.task.task_id,)


def test_hand_to_collections_puts_the_customers_collection_case_in_the_queue(
    platform: Platform,
) -> None:
    book, task = _book_with_task(platform)
    units = collections_units(
        platform.database.engine, clock=platform.clock, audit_key=platform.audit_key, cipher=None
    )
    cases.refresh(units, as_of=AS_OF, actor="system:collections", clock=platform.clock)
    (case,) = cases.queue_page(units, QueueFilter(bucket=DpdBucket.COLLECTION)).cases
    cases.assign(units, case.case_id, assignee="am-9", actor="am-9", clock=platform.clock)
    access = replace(book.access(), hand_over=collections_hand_over(units, platform.clock))
    work.claim_task(access, actor=SUPERVISOR, task_id=task.task.task_id)
    done = work.complete_task(
        access,
        actor=SUPERVISOR,
        task_id=task.task.task_id,
        completion=work.Completion(TaskOutcome.HAND_TO_COLLECTIONS, note="40 days late"),
    )
    assert done.action == {
        "operation": "hand_to_collections",
        "customer_id": uscc(0),
        "cases": 1,
    }
    (handed,) = cases.queue_page(units, QueueFilter(bucket=DpdBucket.COLLECTION)).cases
    assert handed.case_id == case.case_id
    assert handed.assignee == "am-9"  # the collector who has the case keeps it
    (event,) = _events(platform, "collection.handed_over")
    assert event.actor == SUPERVISOR.audit_name()  # type: ignore[attr-defined]
    assert event.entity_id == case.case_id  # type: ignore[attr-defined]


def test_customers_with_an_open_alert_count_as_under_alert_for_concentration(
    platform: Platform,
) -> None:
    _book_with_task(platform)  # customer 0 is 40 days late: the run raised an alert
    under = SqlUnderAlert(platform.monitoring_uow)
    everyone = [uscc(0), uscc(1)]
    assert under.customers_under_alert(everyone, as_of=AS_OF) == {uscc(0)}
    # An evaluation of a day before the run sees no alert yet.
    assert under.customers_under_alert(everyone, as_of=date(2026, 3, 30)) == frozenset()
