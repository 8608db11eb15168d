"""Fixed-window rate limits for login attempts and one-time codes, in memory or shared."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from puhui.domain.clock import Clock
from puhui.domain.origination.errors import RateLimited


@dataclass(frozen=True, slots=True)
class RateLimit:
    max_events: int
    window: timedelta


class WindowCounter(Protocol):
    """Counts attempts per (limiter, key) in fixed windows; where the counts live."""

    def hit(self, limiter: str, key: str, *, now: datetime, limit: RateLimit) -> datetime | None:
        """Count one attempt and return None, or, over the limit, the start of its window."""
        ...

    def clear(self, limiter: str, key: str) -> None: ...


class MemoryWindowCounter:
    """Counts in this process only: N API processes would allow N times the limit.

    For one process (tests, the CLI); the API shares counts through the database
    (``SqlWindowCounter``), so the limit holds across workers and restarts.
    """

    _MAX_KEYS = 100_000

    def __init__(self) -> None:
        # (limiter, key) -> (window start, attempts, window length): limiters sharing the
        # counter have windows of their own, and eviction must respect each one.
        self._windows: dict[tuple[str, str], tuple[datetime, int, timedelta]] = {}
        self._lock = threading.Lock()

    def hit(self, limiter: str, key: str, *, now: datetime, limit: RateLimit) -> datetime | None:
        with self._lock:
            start, count, _ = self._windows.get((limiter, key), (now, 0, limit.window))
            if now - start >= limit.window:
                start, count = now, 0
            if count >= limit.max_events:
                return start
            self._windows[(limiter, key)] = (start, count + 1, limit.window)
            if len(self._windows) > self._MAX_KEYS:
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < v[2]}
            return None

    def clear(self, limiter: str, key: str) -> None:
        with self._lock:
            self._windows.pop((limiter, key), None)


class RateLimiter:
    """One named limit (login, code) over a counter."""

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Clock,
        name: str,
        counter: WindowCounter | None = None,
        kind: str | None = None,
    ) -> None:
        self._limit = limit
        self._clock = clock
        self._name = name
        # What the user is told they tried too often (two limiters may share a word).
        self._kind = kind or name
        self._counter = counter or MemoryWindowCounter()

    def hit(self, key: str) -> None:
        now = self._clock.now()
        refused_window = self._counter.hit(self._name, key, now=now, limit=self._limit)
        if refused_window is not None:
            retry = int((refused_window + self._limit.window - now).total_seconds()) + 1
            raise RateLimited(
                f"too many {self._kind} attempts; try again later",
                details={"retry_after_seconds": max(retry, 1)},
            )

    def reset(self, key: str) -> None:
        self._counter.clear(self._name, key)
