"""Business days for due dates: weekends and public holidays off, adjusted weekends on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from puhui.domain.monitoring.alerts import Severity
from puhui.domain.monitoring.errors import InvalidMonitoringValue

_SATURDAY = 5


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    """Which dates are working days.

    Chinese public holidays move weekends (调休): ``extra_workdays`` are Saturdays or Sundays
    worked in exchange, ``holidays`` are weekdays off. Both come from configuration, never
    from a built-in list that would go stale.
    """

    holidays: frozenset[dt.date] = frozenset()
    extra_workdays: frozenset[dt.date] = frozenset()

    def is_business_day(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < _SATURDAY

    def add_business_days(self, start: dt.date, days: int) -> dt.date:
        """The ``days``-th business day after ``start`` (``start`` itself when ``days`` is 0)."""
        if days < 0:
            raise InvalidMonitoringValue(f"business days to add must not be negative: {days}")
        current = start
        remaining = days
        while remaining:
            current += dt.timedelta(days=1)
            if self.is_business_day(current):
                remaining -= 1
        return current


DEFAULT_DUE_BUSINESS_DAYS: Mapping[Severity, int] = {
    Severity.HIGH: 1,
    Severity.MEDIUM: 3,
    Severity.LOW: 10,
}
"""A high alert is worked the next business day; a medium one within three; a low one in two
weeks (the bank configures its own)."""


@dataclass(frozen=True, slots=True)
class DuePolicy:
    """How long an account manager has for a task, by the alert's severity."""

    business_days: Mapping[Severity, int] = field(
        default_factory=lambda: dict(DEFAULT_DUE_BUSINESS_DAYS)
    )
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)

    def __post_init__(self) -> None:
        missing = [s.value for s in Severity if s not in self.business_days]
        if missing:
            raise InvalidMonitoringValue(f"due policy has no days for severity {missing}")
        for severity, days in self.business_days.items():
            if days < 0:
                raise InvalidMonitoringValue(f"due days for {severity} must not be negative")
        if not (
            self.business_days[Severity.HIGH]
            <= self.business_days[Severity.MEDIUM]
            <= self.business_days[Severity.LOW]
        ):
            raise InvalidMonitoringValue("a more severe alert must not get more time")

    def due_on(self, created_on: dt.date, severity: Severity) -> dt.date:
        return self.calendar.add_business_days(created_on, self.business_days[severity])
