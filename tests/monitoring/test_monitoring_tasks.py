"""Tasks: due dates by severity in business days, transitions, role checks, escalation."""

from __future__ import annotations

import datetime as dt

import pytest

from puhui.domain.monitoring import (
    ACTING_OUTCOMES,
    OUTCOME_ROLES,
    Alert,
    BusinessCalendar,
    DuePolicy,
    InvalidMonitoringValue,
    OutcomeNotPermitted,
    Severity,
    Signal,
    StaffRole,
    Task,
    TaskNotOverdue,
    TaskOutcome,
    TaskStatus,
    TaskTransitionRefused,
    escalate_overdue,
    task_for_alert,
)

FRIDAY = dt.date(2026, 5, 29)
MONDAY = dt.date(2026, 6, 1)
AM = StaffRole.ACCOUNT_MANAGER
SUP = StaffRole.SUPERVISOR
RISK = StaffRole.RISK_OFFICER


def alert(severity: Severity) -> Alert:
    return Alert("a1", "c1", FRIDAY, (Signal("X", severity, "x", "x", FRIDAY),))


def task(severity: Severity = Severity.MEDIUM, owner: str | None = "mgr_li") -> Task:
    return task_for_alert(
        alert(severity),
        task_id="t1",
        branch="b01",
        owner=owner,
        created_on=FRIDAY,
        policy=DuePolicy(),
    )


def test_due_dates_count_business_days_by_severity() -> None:
    assert task(Severity.HIGH).due_on == MONDAY
    assert task(Severity.MEDIUM).due_on == dt.date(2026, 6, 3)
    assert task(Severity.LOW).due_on == dt.date(2026, 6, 12)


def test_holidays_and_adjusted_weekends_move_due_dates() -> None:
    calendar = BusinessCalendar(
        holidays=frozenset({MONDAY}), extra_workdays=frozenset({dt.date(2026, 5, 30)})
    )
    policy = DuePolicy(calendar=calendar)
    assert policy.due_on(FRIDAY, Severity.HIGH) == dt.date(2026, 5, 30)
    assert policy.due_on(FRIDAY, Severity.MEDIUM) == dt.date(2026, 6, 3)


def test_due_policies_are_configurable_but_must_make_sense() -> None:
    policy = DuePolicy({Severity.HIGH: 0, Severity.MEDIUM: 2, Severity.LOW: 5})
    assert policy.due_on(FRIDAY, Severity.HIGH) == FRIDAY
    with pytest.raises(InvalidMonitoringValue):
        DuePolicy({Severity.HIGH: 5, Severity.MEDIUM: 2, Severity.LOW: 5})
    with pytest.raises(InvalidMonitoringValue):
        DuePolicy({Severity.HIGH: 1, Severity.MEDIUM: 2})
    with pytest.raises(InvalidMonitoringValue):
        BusinessCalendar().add_business_days(FRIDAY, -1)


def test_the_task_goes_to_the_owner_with_the_alerts_severity() -> None:
    work = task(Severity.HIGH)
    assert (work.assignee, work.severity, work.status) == ("mgr_li", Severity.HIGH, TaskStatus.OPEN)
    assert work.holder == "mgr_li"


def test_open_claimed_completed() -> None:
    claimed = task().claim("mgr_li", AM)
    assert (claimed.status, claimed.claimed_by) == (TaskStatus.CLAIMED, "mgr_li")
    done = claimed.complete("mgr_li", AM, TaskOutcome.VISITED, MONDAY, "shop open, orders fine")
    assert (done.status, done.outcome, done.completed_by) == (
        TaskStatus.COMPLETED,
        TaskOutcome.VISITED,
        "mgr_li",
    )
    assert not done.outcome.acts
    with pytest.raises(TaskTransitionRefused):
        done.claim("mgr_li", AM)
    with pytest.raises(TaskTransitionRefused):
        done.complete("mgr_li", AM, TaskOutcome.NO_ISSUE, MONDAY)


def test_an_outcome_needs_a_claim_first() -> None:
    with pytest.raises(TaskTransitionRefused) as caught:
        task().complete("mgr_li", AM, TaskOutcome.CONTACTED, MONDAY)
    assert caught.value.code == "task_transition_refused"


def test_another_managers_task_cannot_be_claimed_but_a_queue_task_can() -> None:
    with pytest.raises(OutcomeNotPermitted):
        task().claim("mgr_wang", AM)
    assert task(owner=None).claim("mgr_wang", AM).claimed_by == "mgr_wang"
    assert task().claim("sup_zhao", SUP).claimed_by == "sup_zhao"
    assert task().claim("risk_sun", RISK).claimed_by == "risk_sun"
    with pytest.raises(OutcomeNotPermitted):
        task().claim("col_1", StaffRole.COLLECTOR)


def test_only_the_claimer_or_a_supervisor_records_the_outcome() -> None:
    claimed = task().claim("mgr_li", AM)
    with pytest.raises(OutcomeNotPermitted):
        claimed.complete("mgr_wang", AM, TaskOutcome.CONTACTED, MONDAY)
    assert claimed.complete("sup_zhao", SUP, TaskOutcome.MONITOR, MONDAY).completed_by == "sup_zhao"


def test_acting_outcomes_are_the_four_that_call_servicing() -> None:
    assert (
        {o for o in TaskOutcome if o.acts}
        == ACTING_OUTCOMES
        == {
            TaskOutcome.FREEZE,
            TaskOutcome.REDUCE_LIMIT,
            TaskOutcome.RECALL_EARLY,
            TaskOutcome.HAND_TO_COLLECTIONS,
        }
    )
    assert set(OUTCOME_ROLES) == set(TaskOutcome)


@pytest.mark.parametrize(
    ("outcome", "role", "allowed"),
    [
        (TaskOutcome.CONTACTED, AM, True),
        (TaskOutcome.FREEZE, AM, True),
        (TaskOutcome.REDUCE_LIMIT, AM, False),
        (TaskOutcome.REDUCE_LIMIT, SUP, True),
        (TaskOutcome.RECALL_EARLY, SUP, False),
        (TaskOutcome.RECALL_EARLY, RISK, True),
        (TaskOutcome.HAND_TO_COLLECTIONS, AM, False),
        (TaskOutcome.HAND_TO_COLLECTIONS, RISK, True),
    ],
)
def test_roles_may_record_only_their_outcomes(
    outcome: TaskOutcome, role: StaffRole, allowed: bool
) -> None:
    actor = {AM: "mgr_li", SUP: "sup_zhao", RISK: "risk_sun"}[role]
    claimed = task().claim(actor, role)
    if allowed:
        assert claimed.complete(actor, role, outcome, MONDAY).outcome is outcome
    else:
        with pytest.raises(OutcomeNotPermitted) as caught:
            claimed.complete(actor, role, outcome, MONDAY)
        assert caught.value.code == "outcome_not_permitted"


def test_an_overdue_task_escalates_to_the_supervisor_once() -> None:
    work = task(Severity.HIGH)  # due Monday
    with pytest.raises(TaskNotOverdue) as caught:
        work.escalate(MONDAY, "sup_zhao")
    assert caught.value.code == "task_not_overdue"
    tuesday = MONDAY + dt.timedelta(days=1)
    escalated = work.escalate(tuesday, "sup_zhao")
    assert (escalated.status, escalated.assignee, escalated.escalated_from) == (
        TaskStatus.ESCALATED,
        "sup_zhao",
        "mgr_li",
    )
    with pytest.raises(OutcomeNotPermitted):
        escalated.claim("mgr_li", AM)
    with pytest.raises(OutcomeNotPermitted):
        escalated.claim("sup_qian", SUP)
    reclaimed = escalated.claim("sup_zhao", SUP)
    assert reclaimed.is_overdue(tuesday)
    assert escalate_overdue([reclaimed], tuesday, lambda t: "boss") == []
    with pytest.raises(TaskTransitionRefused):
        reclaimed.escalate(tuesday, "boss")


def test_escalate_overdue_picks_only_overdue_open_work() -> None:
    tuesday = MONDAY + dt.timedelta(days=1)
    high = task(Severity.HIGH)
    low = task(Severity.LOW)
    done = (
        task(Severity.HIGH).claim("mgr_li", AM).complete("mgr_li", AM, TaskOutcome.NO_ISSUE, MONDAY)
    )
    claimed_late = task(Severity.HIGH).claim("mgr_li", AM)
    escalated = escalate_overdue([high, low, done, claimed_late], tuesday, lambda t: "sup_zhao")
    assert [(t.status, t.escalated_from) for t in escalated] == [
        (TaskStatus.ESCALATED, "mgr_li"),
        (TaskStatus.ESCALATED, "mgr_li"),
    ]


def test_task_invariants() -> None:
    with pytest.raises(InvalidMonitoringValue):
        Task("t", "a", "c", "b", Severity.LOW, MONDAY, FRIDAY)
    with pytest.raises(InvalidMonitoringValue):
        task().claim("mgr_li", AM).complete(
            "mgr_li", AM, TaskOutcome.CONTACTED, FRIDAY - dt.timedelta(days=1)
        )


def test_a_supervisor_assigns_queue_held_and_escalated_tasks_to_a_manager() -> None:
    queued = task(owner=None)
    mine = queued.assign("mgr_wang", "sup_zhao", SUP)
    assert (mine.status, mine.assignee, mine.claimed_by, mine.holder) == (
        TaskStatus.OPEN,
        "mgr_wang",
        None,
        "mgr_wang",
    )
    # Only the manager assigned claims it now, not another.
    with pytest.raises(OutcomeNotPermitted):
        mine.claim("mgr_li", AM)
    assert mine.claim("mgr_wang", AM).holder == "mgr_wang"
    # A task another manager claimed is taken from them and open again for the new one.
    claimed = task().claim("mgr_li", AM)
    moved = claimed.assign("mgr_wang", "sup_zhao", SUP)
    assert (moved.status, moved.assignee, moved.claimed_by) == (TaskStatus.OPEN, "mgr_wang", None)
    with pytest.raises(TaskTransitionRefused, match="mgr_li's already"):
        claimed.assign("mgr_li", "sup_zhao", SUP)
    # An escalated task: only the supervisor it went to hands it on, and it does not escalate
    # again.
    tuesday = MONDAY + dt.timedelta(days=1)
    escalated = task(Severity.HIGH).escalate(tuesday, "sup_zhao")
    with pytest.raises(OutcomeNotPermitted, match="another supervisor"):
        escalated.assign("mgr_wang", "sup_qian", SUP)
    handed = escalated.assign("mgr_li", "sup_zhao", SUP)
    assert (handed.status, handed.assignee, handed.escalated_on) == (
        TaskStatus.OPEN,
        "mgr_li",
        tuesday,
    )
    assert escalate_overdue([handed], tuesday + dt.timedelta(days=3), lambda t: "boss") == []
    # Managers and risk officers do not assign; a completed task has nothing to assign.
    for role in (AM, RISK):
        with pytest.raises(OutcomeNotPermitted, match="only a supervisor"):
            queued.assign("mgr_wang", "someone", role)
    done = task().claim("mgr_li", AM).complete("mgr_li", AM, TaskOutcome.NO_ISSUE, MONDAY)
    with pytest.raises(TaskTransitionRefused, match="completed"):
        done.assign("mgr_wang", "sup_zhao", SUP)
