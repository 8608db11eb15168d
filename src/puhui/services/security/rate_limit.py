"""Fixed-window rate limits (per process) for login attempts and one-time codes."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from puhui.domain.clock import Clock
from puhui.domain.origination.errors import RateLimited


@dataclass(frozen=True, slots=True)
class RateLimit:
    max_events: int
    window: timedelta


class RateLimiter:
    """Counts events per key in fixed windows.

    In memory, so each API process limits on its own; behind a load balancer with N
    processes the effective limit is N times higher (a shared store is the next step).
    """

    def __init__(self, limit: RateLimit, *, clock: Clock, name: str) -> None:
        self._limit = limit
        self._clock = clock
        self._name = name
        self._windows: dict[str, tuple[datetime, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> None:
        now = self._clock.now()
        with self._lock:
            start, count = self._windows.get(key, (now, 0))
            if now - start >= self._limit.window:
                start, count = now, 0
            if count >= self._limit.max_events:
                retry = int((start + self._limit.window - now).total_seconds()) + 1
                raise RateLimited(
                    f"too many {self._name} attempts; try again later",
                    details={"retry_after_seconds": retry},
                )
            self._windows[key] = (start, count + 1)
            if len(self._windows) > 100_000:
                self._evict(now)

    def reset(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)

    def _evict(self, now: datetime) -> None:
        stale = [k for k, (s, _) in self._windows.items() if now - s >= self._limit.window]
        for key in stale:
            del self._windows[key]
