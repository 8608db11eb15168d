"""The clock port: business dates in Asia/Shanghai, timestamps in aware UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from puhui.domain.errors import InvalidInput

BANK_ZONE = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    """What services ask for the time. Logic never calls ``date.today()`` itself."""

    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...

    def today(self) -> date:
        """The current business date in the bank's zone."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(BANK_ZONE).date()


class FixedClock:
    """A clock for tests and simulations: it stands still until told to move."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise InvalidInput("FixedClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def today(self) -> date:
        return self._at.astimezone(BANK_ZONE).date()

    def advance(self, delta: timedelta) -> None:
        self._at += delta
