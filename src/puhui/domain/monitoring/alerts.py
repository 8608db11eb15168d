"""Early-warning alerts: one per customer per run, severity the highest of its signals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from puhui.domain.monitoring.errors import AlertTransitionRefused, InvalidMonitoringValue


class Severity(StrEnum):
    """How urgent a signal is; alerts and tasks take the highest of their signals."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3}


def highest(severities: Iterable[Severity]) -> Severity:
    """The most urgent of ``severities`` (at least one)."""
    found = list(severities)
    if not found:
        raise InvalidMonitoringValue("an alert needs at least one signal")
    return max(found, key=lambda s: s.rank)


@dataclass(frozen=True, slots=True)
class Signal:
    """One trigger rule that fired for a customer: its code, severity and texts."""

    code: str
    severity: Severity
    text_zh: str
    text_en: str
    first_seen: dt.date

    def __post_init__(self) -> None:
        if not self.code:
            raise InvalidMonitoringValue("a signal needs a code")


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Alert:
    """The early warning of one customer: the signals of a run, and later runs' new signals."""

    alert_id: str
    customer_id: str
    run_date: dt.date
    """The run that raised the alert."""
    signals: tuple[Signal, ...]
    status: AlertStatus = AlertStatus.OPEN
    closed_on: dt.date | None = None
    close_reason: str = ""

    def __post_init__(self) -> None:
        if not self.alert_id or not self.customer_id:
            raise InvalidMonitoringValue("an alert needs an id and a customer")
        highest(s.severity for s in self.signals)  # refuses an alert without signals
        codes = [s.code for s in self.signals]
        if len(set(codes)) != len(codes):
            raise InvalidMonitoringValue(f"an alert lists each signal once: {codes}")

    @property
    def severity(self) -> Severity:
        return highest(s.severity for s in self.signals)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(s.code for s in self.signals)

    @property
    def is_open(self) -> bool:
        """Open or acknowledged: new signals of the customer join this alert."""
        return self.status is not AlertStatus.CLOSED

    def acknowledge(self) -> Alert:
        if self.status is not AlertStatus.OPEN:
            raise AlertTransitionRefused(f"alert {self.alert_id} is {self.status}, not open")
        return replace(self, status=AlertStatus.ACKNOWLEDGED)

    def close(self, on: dt.date, reason: str) -> Alert:
        if self.status is AlertStatus.CLOSED:
            raise AlertTransitionRefused(f"alert {self.alert_id} is already closed")
        if not reason.strip():
            raise InvalidMonitoringValue("closing an alert needs a reason")
        return replace(self, status=AlertStatus.CLOSED, closed_on=on, close_reason=reason)


@dataclass(frozen=True, slots=True)
class Hit:
    """A signal that fired for a customer in a run (what the trigger evaluation returns)."""

    customer_id: str
    code: str
    severity: Severity
    text_zh: str
    text_en: str


@dataclass(frozen=True, slots=True)
class AlertChanges:
    """What a run does to the alerts: new ones, open ones that gained signals."""

    created: tuple[Alert, ...] = ()
    extended: tuple[Alert, ...] = ()
    """Open alerts with the run's new signals added (same id; severity may have risen)."""
    added_codes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Alert id -> the codes this run added to it (for the audit and the task's note)."""


def raise_alerts(
    open_alerts: Iterable[Alert],
    hits: Iterable[Hit],
    run_date: dt.date,
    new_alert_id: Callable[[], str],
) -> AlertChanges:
    """Apply one run's hits to the customers' open alerts.

    The rule: one alert per customer per run. A customer's hits form one alert whose severity
    is the highest; a signal repeated within the run counts once. When the customer already
    has an open (or acknowledged) alert, the run's signals that it does not list yet are added
    to it and no new alert is raised; signals it already lists change nothing.
    """
    by_customer: dict[str, Alert] = {}
    for alert in open_alerts:
        if not alert.is_open:
            continue
        if alert.customer_id in by_customer:
            raise InvalidMonitoringValue(
                f"customer {alert.customer_id} has two open alerts: "
                f"{by_customer[alert.customer_id].alert_id}, {alert.alert_id}"
            )
        by_customer[alert.customer_id] = alert
    new_signals: dict[str, dict[str, Signal]] = {}
    for hit in hits:
        signals = new_signals.setdefault(hit.customer_id, {})
        if hit.code not in signals:
            signals[hit.code] = Signal(hit.code, hit.severity, hit.text_zh, hit.text_en, run_date)
    created: list[Alert] = []
    extended: list[Alert] = []
    added: dict[str, tuple[str, ...]] = {}
    for customer_id, signals in new_signals.items():
        existing = by_customer.get(customer_id)
        if existing is None:
            created.append(Alert(new_alert_id(), customer_id, run_date, tuple(signals.values())))
            continue
        fresh = tuple(s for code, s in signals.items() if code not in existing.codes)
        if fresh:
            extended.append(replace(existing, signals=existing.signals + fresh))
            added[existing.alert_id] = tuple(s.code for s in fresh)
    return AlertChanges(tuple(created), tuple(extended), added)
