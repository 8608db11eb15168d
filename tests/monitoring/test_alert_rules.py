"""Alerts: one per customer per run, severity the highest, repeated signals add nothing."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable

import pytest

from puhui.domain.monitoring import (
    Alert,
    AlertStatus,
    AlertTransitionRefused,
    Hit,
    InvalidMonitoringValue,
    Severity,
    Signal,
    highest,
    raise_alerts,
)

RUN_1 = dt.date(2026, 3, 2)
RUN_2 = dt.date(2026, 3, 9)


def hit(customer: str, code: str, severity: Severity = Severity.MEDIUM) -> Hit:
    return Hit(customer, code, severity, f"{code} 中文", f"{code} text")


def id_maker() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"alrt_{next(counter)}"


def test_one_customers_signals_of_one_run_form_one_alert_with_the_highest_severity() -> None:
    changes = raise_alerts(
        [],
        [
            hit("c1", "SALES_DROP", Severity.MEDIUM),
            hit("c1", "TAX_LATE_FILING", Severity.LOW),
            hit("c1", "OVERDUE_ELSEWHERE", Severity.HIGH),
            hit("c2", "TAX_LATE_FILING", Severity.LOW),
        ],
        RUN_1,
        id_maker(),
    )
    assert [(a.alert_id, a.customer_id) for a in changes.created] == [
        ("alrt_1", "c1"),
        ("alrt_2", "c2"),
    ]
    first, second = changes.created
    assert first.severity is Severity.HIGH
    assert second.severity is Severity.LOW
    assert first.codes == {"SALES_DROP", "TAX_LATE_FILING", "OVERDUE_ELSEWHERE"}
    assert first.status is AlertStatus.OPEN
    assert all(s.first_seen == RUN_1 for s in first.signals)
    assert changes.extended == ()


def test_a_signal_repeated_within_a_run_counts_once() -> None:
    changes = raise_alerts([], [hit("c1", "DPD_EARLY"), hit("c1", "DPD_EARLY")], RUN_1, id_maker())
    (alert,) = changes.created
    assert [s.code for s in alert.signals] == ["DPD_EARLY"]


def test_repeated_signals_of_an_open_alert_create_nothing() -> None:
    first = raise_alerts([], [hit("c1", "SALES_DROP")], RUN_1, id_maker()).created
    again = raise_alerts(first, [hit("c1", "SALES_DROP")], RUN_2, id_maker())
    assert again.created == ()
    assert again.extended == ()


def test_new_signals_join_the_customers_open_alert_and_raise_its_severity() -> None:
    (alert,) = raise_alerts([], [hit("c1", "SALES_DROP")], RUN_1, id_maker()).created
    acknowledged = alert.acknowledge()
    changes = raise_alerts(
        [acknowledged],
        [hit("c1", "SALES_DROP"), hit("c1", "ENFORCEMENT_LISTED", Severity.HIGH)],
        RUN_2,
        id_maker(),
    )
    assert changes.created == ()
    (extended,) = changes.extended
    assert extended.alert_id == alert.alert_id
    assert extended.status is AlertStatus.ACKNOWLEDGED
    assert extended.severity is Severity.HIGH
    assert [(s.code, s.first_seen) for s in extended.signals] == [
        ("SALES_DROP", RUN_1),
        ("ENFORCEMENT_LISTED", RUN_2),
    ]
    assert changes.added_codes == {alert.alert_id: ("ENFORCEMENT_LISTED",)}


def test_a_closed_alert_does_not_absorb_new_signals() -> None:
    (alert,) = raise_alerts([], [hit("c1", "SALES_DROP")], RUN_1, id_maker()).created
    closed = alert.close(RUN_1, "visited: seasonal dip")
    changes = raise_alerts([closed], [hit("c1", "SALES_DROP")], RUN_2, lambda: "alrt_9")
    assert [a.alert_id for a in changes.created] == ["alrt_9"]


def test_two_open_alerts_for_one_customer_are_refused() -> None:
    signal = Signal("X", Severity.LOW, "x", "x", RUN_1)
    alerts = [Alert("a1", "c1", RUN_1, (signal,)), Alert("a2", "c1", RUN_1, (signal,))]
    with pytest.raises(InvalidMonitoringValue):
        raise_alerts(alerts, [], RUN_2, lambda: "a3")


def test_alert_lifecycle_and_invariants() -> None:
    signal = Signal("X", Severity.LOW, "x", "x", RUN_1)
    alert = Alert("a1", "c1", RUN_1, (signal,))
    with pytest.raises(AlertTransitionRefused) as caught:
        alert.acknowledge().acknowledge()
    assert caught.value.code == "alert_transition_refused"
    with pytest.raises(InvalidMonitoringValue):
        alert.close(RUN_2, "  ")
    closed = alert.close(RUN_2, "no issue")
    assert (closed.status, closed.closed_on) == (AlertStatus.CLOSED, RUN_2)
    with pytest.raises(AlertTransitionRefused):
        closed.close(RUN_2, "again")
    with pytest.raises(InvalidMonitoringValue):
        Alert("a2", "c1", RUN_1, ())
    with pytest.raises(InvalidMonitoringValue):
        Alert("a2", "c1", RUN_1, (signal, signal))


def test_highest_orders_low_medium_high() -> None:
    assert highest([Severity.LOW, Severity.HIGH, Severity.MEDIUM]) is Severity.HIGH
    assert highest([Severity.LOW]) is Severity.LOW
    with pytest.raises(InvalidMonitoringValue):
        highest([])
