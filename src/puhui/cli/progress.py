"""Progress bars of the command line: rich on a terminal, nothing anywhere else.

Jobs report through the standard-library port :class:`puhui.domain.progress.Progress`; this
module is the only place that draws it. A bar appears only when standard error is a terminal
and the command was not asked for ``--json``: piped output, files and JSON stay untouched.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

from puhui.domain.progress import NO_PROGRESS, Progress


class TerminalProgress:
    """The port drawn as rich progress bars: one line per task, the finished ones kept."""

    def __init__(self, bars: RichProgress) -> None:
        self._bars = bars
        self._task: TaskID | None = None
        self._label = ""

    def start(self, total: int | None, label: str) -> None:
        self._finish()
        self._label = label
        self._task = self._bars.add_task(label, total=total, open_ended=total is None)

    def advance(self, n: int = 1) -> None:
        if self._task is not None:
            self._bars.advance(self._task, n)

    def stage(self, label: str) -> None:
        if self._task is not None:
            self._bars.update(self._task, description=f"{self._label}: {label}")

    def _finish(self) -> None:
        if self._task is None:
            return
        task = next(t for t in self._bars.tasks if t.id == self._task)
        # A finished task shows full, also when it ended early or its size was unknown.
        total = max(task.total or 0, task.completed, 1)
        self._bars.update(self._task, description=self._label, total=total, completed=total)
        self._bars.stop_task(self._task)
        self._task = None

    def close(self) -> None:
        self._finish()


class CountColumn(ProgressColumn):
    """``12/90`` when the size is known, ``1,200`` when it is not (nothing before a step)."""

    def render(self, task: Task) -> Text:
        done = int(task.completed)
        if task.fields.get("open_ended"):
            return Text(
                f"{done:,}" if done and not task.finished else "", style="progress.download"
            )
        return Text(f"{done:,}/{int(task.total or 0):,}", style="progress.download")


class EtaColumn(ProgressColumn):
    """The estimate of the time left, while a task of known size runs."""

    max_refresh = 0.5

    def render(self, task: Task) -> Text:
        if task.finished or task.fields.get("open_ended"):
            return Text("")
        left = task.time_remaining
        if left is None:
            return Text("eta -:--:--", style="progress.remaining")
        minutes, seconds = divmod(int(left), 60)
        hours, minutes = divmod(minutes, 60)
        return Text(f"eta {hours}:{minutes:02d}:{seconds:02d}", style="progress.remaining")


def terminal_bars(console: Console) -> RichProgress:
    """What is done, a bar, how far (n of total), time spent and an estimate of time left."""
    return RichProgress(
        SpinnerColumn(finished_text="[green]✓[/]"),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        CountColumn(),
        TimeElapsedColumn(),
        EtaColumn(),
        console=console,
        # Printed lines go above the bars only when stdout is the terminal too: a piped
        # stdout must receive its own lines, never through the bar's stream (stderr).
        redirect_stdout=is_terminal(sys.stdout),
        redirect_stderr=True,
    )


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (a closed or odd stream is not)."""
    isatty: Callable[[], bool] | None = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def draws_progress(*, as_json: bool = False) -> bool:
    """Bars only on a terminal (stderr) and never for a command printing JSON."""
    return not as_json and is_terminal(sys.stderr)


@contextmanager
def progress_bar(*, as_json: bool = False) -> Iterator[Progress]:
    """The progress port of one command: rich bars on a terminal, :data:`NO_PROGRESS` else."""
    if not draws_progress(as_json=as_json):
        yield NO_PROGRESS
        return
    bars = terminal_bars(Console(stderr=True))
    drawn = TerminalProgress(bars)
    with bars, _log_lines_above_the_bars():
        try:
            yield drawn
        finally:
            drawn.close()


@contextmanager
def _log_lines_above_the_bars() -> Iterator[None]:
    """Point the log handlers writing to the terminal at the bars' stream while they draw.

    The bars replace ``sys.stderr`` with a proxy that prints above them; a handler holding
    the original stream would write through the bars instead.
    """
    original = sys.__stderr__
    moved: list[tuple[logging.StreamHandler[TextIO], TextIO]] = []
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(
            handler, logging.FileHandler
        ):
            stream = handler.stream
            if stream is original or is_terminal(stream):
                handler.setStream(sys.stderr)
                moved.append((handler, stream))
    try:
        yield
    finally:
        for handler, stream in moved:
            handler.setStream(stream)


def chunks_reporter(progress: Progress) -> Callable[[int, int], None]:
    """Adapt a ``(done, total)`` callback (the market generator's) to the progress port."""
    seen = 0

    def report(done: int, _total: int) -> None:
        nonlocal seen
        progress.advance(done - seen)
        seen = done

    return report
