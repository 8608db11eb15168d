"""Active credit (主动授信) in the lending simulation: the seam through which prospects apply.

Each month the bank runs its pre-approval and its managers work the list; some prospects
apply. The simulation does not run the pre-approval itself: a ``ProspectChannel`` from the
composition root answers, on the first day of each month, which enterprises hold a valid
pre-approval, and is told of each application one of them makes, as soon as the platform has
created it (before it is assessed), so the platform can fast-track it and count it converted.
The simulation marks those applications and counts, month by month, how prospects converted.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Protocol


class ProspectChannel(Protocol):
    def month_started(self, month: date) -> Collection[str]:
        """Run and load the month's pre-approval (data to the month before); the USCCs it
        pre-approved that may apply this month."""
        ...

    def applied(self, uscc: str, application_id: str, on: date) -> None:
        """A prospect applied: ``application_id`` is the platform's, created, not yet assessed."""
        ...


@dataclass
class MonthConversion:
    """How the month's prospects turned into applications and lines."""

    month: date
    prospects: int
    applied: int = 0
    lines_opened: int = 0

    @property
    def conversion(self) -> float | None:
        """Share of the month's prospects that applied."""
        return self.applied / self.prospects if self.prospects else None


class ProspectTally:
    """Asks the channel each month, marks the applications of prospects, counts conversions."""

    def __init__(self, channel: ProspectChannel) -> None:
        self.channel = channel
        self.months: list[MonthConversion] = []
        self.applications: set[str] = set()
        """Market application ids that came from a prospect."""
        self._prospects: frozenset[str] = frozenset()

    def month_started(self, month: date) -> None:
        self._prospects = frozenset(self.channel.month_started(month))
        self.months.append(MonthConversion(month, len(self._prospects)))

    def applied(self, uscc: str, market_application_id: str, application_id: str, on: date) -> None:
        """Mark the application if its enterprise is one of this month's prospects."""
        if uscc not in self._prospects or not self.months:
            return
        self.applications.add(market_application_id)
        self.months[-1].applied += 1
        self.channel.applied(uscc, application_id, on)

    def line_opened(self, market_application_id: str) -> None:
        if market_application_id in self.applications:
            self.months[-1].lines_opened += 1
