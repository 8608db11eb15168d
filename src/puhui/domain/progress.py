"""The progress port: how a long job tells its caller what it is doing and how far it got.

Jobs (the market generator, the lending simulation, the end of day, backtests, monitoring
runs) take a :class:`Progress` and report to it; they never draw anything themselves. The
command line supplies a progress bar when it runs on a terminal; every other caller (the web
app, tests, a pipe) gets :data:`NO_PROGRESS`, which ignores the reports.
"""

from __future__ import annotations

from typing import Final, Protocol


class Progress(Protocol):
    """Reports of a long job: tasks with a known (or unknown) number of steps."""

    def start(self, total: int | None, label: str) -> None:
        """A new task of ``total`` steps (``None``: not known in advance) called ``label``.

        The task started before it, if any, is finished.
        """

    def advance(self, n: int = 1) -> None:
        """``n`` more steps of the current task are done."""

    def stage(self, label: str) -> None:
        """What the current task is doing now (a date, a month, a chunk), shown beside it."""


class NoProgress:
    """The progress of a job nobody watches: every report is ignored."""

    def start(self, total: int | None, label: str) -> None:
        return None

    def advance(self, n: int = 1) -> None:
        return None

    def stage(self, label: str) -> None:
        return None


NO_PROGRESS: Final[Progress] = NoProgress()
