"""The local engine: Polars in this process, a sorted chunk of enterprises at a time."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from puhui.pipelines.engines.base import EnterpriseTask, task_polars_config
from puhui.pipelines.engines.market_check import enterprise_keys, open_partitioned
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import MarketTables

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 50_000
"""Enterprises per chunk: a few hundred MB of Polars work at most."""


@dataclass(frozen=True, slots=True)
class LocalEngine:
    """Chunks of ``chunk_size`` enterprises in sorted order, each one's tables scanned lazily
    and filtered to it (both sides of an invoice): memory holds one chunk."""

    chunk_size: int = DEFAULT_CHUNK_SIZE

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise InvalidTrainingData("chunk size must be at least one enterprise")

    @property
    def name(self) -> str:
        return "local"

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
        opened = open_partitioned(market, tables, optional, through)
        return self.map_tables(opened, task, enterprise_keys(opened, enterprises))

    def map_tables(
        self, tables: MarketTables, task: EnterpriseTask, usccs: Sequence[str]
    ) -> Iterator[pl.DataFrame]:
        """The task over already opened tables, on these enterprises (sorted) in chunks."""
        chunks = [usccs[i : i + self.chunk_size] for i in range(0, len(usccs), self.chunk_size)]
        for number, chunk in enumerate(chunks or [[]], start=1):
            logger.debug("local engine: chunk %d of %d", number, len(chunks))
            with task_polars_config():
                frame = task(tables.for_enterprises(chunk))
            yield frame
