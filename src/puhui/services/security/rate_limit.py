"""Rate limits (fixed windows) and progressive delays, counted in memory or shared."""

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

    def failures(self, limiter: str, key: str) -> tuple[int, datetime] | None:
        """How many failures a key has on record, and when the last one was."""
        ...

    def fail(self, limiter: str, key: str, *, now: datetime, forget_after: timedelta) -> int:
        """Record one failure (the count restarts after ``forget_after`` of quiet); the count."""
        ...


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

    def failures(self, limiter: str, key: str) -> tuple[int, datetime] | None:
        with self._lock:
            found = self._windows.get((limiter, key))
        return None if found is None else (found[1], found[0])

    def fail(self, limiter: str, key: str, *, now: datetime, forget_after: timedelta) -> int:
        # Stored as (last failure, count, memory): eviction forgets quiet keys the same way.
        with self._lock:
            last, count, _ = self._windows.get((limiter, key), (now, 0, forget_after))
            count = 1 if now - last >= forget_after else count + 1
            self._windows[(limiter, key)] = (now, count, forget_after)
            if len(self._windows) > self._MAX_KEYS:
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < v[2]}
            return count


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


@dataclass(frozen=True, slots=True)
class DelayPolicy:
    """Progressive delays: ``free_failures`` cost nothing, then each one doubles the wait."""

    free_failures: int
    base_delay: timedelta
    max_delay: timedelta
    forget_after: timedelta
    """Failures are forgotten after this long without one (and on success)."""

    def delay(self, failures: int) -> timedelta:
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, 32)
        return min(self.base_delay * (1 << doublings), self.max_delay)


class ProgressiveDelay:
    """Slows guessing on one key (an account from one address) without locking anyone out.

    Nothing is locked: after the free failures the next attempt must wait a delay that
    doubles with each further failure (up to a cap); the wait is refused with
    ``RateLimited`` and its ``Retry-After``. Another key (the same account from another
    address) has its own count, so an attacker cannot lock the owner out.
    """

    def __init__(
        self, policy: DelayPolicy, *, clock: Clock, name: str, counter: WindowCounter, kind: str
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._name = name
        self._counter = counter
        self._kind = kind

    def check(self, key: str) -> None:
        """Refuse the attempt while the key's delay runs."""
        found = self._counter.failures(self._name, key)
        if found is None:
            return
        count, last = found
        now = self._clock.now()
        if now - last >= self._policy.forget_after:
            return
        wait = last + self._policy.delay(count) - now
        if wait > timedelta(0):
            raise RateLimited(
                f"too many failed {self._kind} attempts; wait before trying again",
                details={"retry_after_seconds": max(int(wait.total_seconds() + 0.999), 1)},
            )

    def fail(self, key: str) -> None:
        self._counter.fail(
            self._name, key, now=self._clock.now(), forget_after=self._policy.forget_after
        )

    def reset(self, key: str) -> None:
        self._counter.clear(self._name, key)
