"""What an engine runs and what it promises: a task per partition of enterprises.

A batch job is defined once, as an :class:`EnterpriseTask`: a function of the market tables
restricted to some enterprises (``MarketTables.for_enterprises``) that returns at most one row
per enterprise. Because a task's row for an enterprise depends only on that enterprise's rows
(both sides of its invoices) and the global ``owners`` / ``core_enterprises`` lists, any
partition of the enterprises gives the same rows: the local engine cuts sorted chunks, the
Spark engine hash buckets, and the concatenations, sorted by ``uscc``, are identical.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import Final, Protocol

import polars as pl

from puhui.domain.errors import PuhuiError
from puhui.risk.features import MarketTables

TASK_ENGINE_AFFINITY: Final = "in-memory"
"""Polars engine every task runs on. Its aggregations are a function of each group's rows in
order; the streaming engine's also depend on where its morsels end, so the last bit of a
standard deviation changed with the partition (measured: ADR 0031)."""


def task_polars_config() -> AbstractContextManager[object]:
    """The Polars settings a task runs under, on every engine (restored afterwards)."""
    return pl.Config(engine_affinity=TASK_ENGINE_AFFINITY)


class EnterpriseTask(Protocol):
    """A picklable callable ``(tables) -> frame``: at most one row per enterprise of the
    partition it was given, with a ``uscc`` column. Spark ships it to its executors, so it is
    a module-level function or a (frozen) dataclass instance of a module-level class."""

    def __call__(self, tables: MarketTables) -> pl.DataFrame: ...


class EngineFailed(PuhuiError):
    """The engine could not run the job (a Spark stage failed, a worker died); nothing of the
    job is left behind."""

    code = "engine_failed"


class Engine(Protocol):
    """Runs a task over every enterprise of a market folder, a partition at a time."""

    @property
    def name(self) -> str:
        """``local`` or ``spark`` (the CLI's ``--engine``)."""

    def map_enterprises(
        self,
        market: Path,
        task: EnterpriseTask,
        *,
        tables: Sequence[str],
        optional: Sequence[str] = (),
        through: date | None = None,
        enterprises: Sequence[str] | None = None,
    ) -> Iterator[pl.DataFrame]:
        """The task's frames over the partitions of the market's enterprises.

        ``tables`` must exist (the derived ``core_enterprises`` comes with ``enterprises``);
        ``optional`` ones are read when present. With ``through`` (a first day), every monthly
        panel must hold each month up to it. ``enterprises`` restricts the partitions to
        those enterprises (default: every row of ``enterprises``). Checks run before the
        first frame is asked for and raise ``InvalidTrainingData`` naming what is missing;
        frames stream (memory holds one partition), at least one is yielded (empty when no
        enterprise), and their concatenation sorted by ``uscc`` is the same on every engine.
        """
