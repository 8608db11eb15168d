"""Build one month of the feature store from a market folder, a partition of enterprises
at a time.

The risk features (``risk.features.compute_features``) and the enterprise-level strategy
inputs (``risk.enterprise_inputs``) of every enterprise registered before the month are
computed with the same code the online path runs (:class:`FeatureMonthTask`), on a batch
engine (``pipelines.engines``): locally a chunk of enterprises at a time (the tables are
scanned lazily and filtered to the chunk), or on Spark a bucket per executor task. The
frames stream to the store, which replaces the month in one transaction. Memory holds one
partition: a million enterprises fit.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from puhui.domain.progress import NO_PROGRESS, Progress
from puhui.pipelines.engines import DEFAULT_CHUNK_SIZE, Engine, LocalEngine
from puhui.risk.enterprise_inputs import (
    STRATEGY_INPUT_NAMES,
    FeatureSet,
    enterprise_inputs,
    feature_set,
)
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import (
    ENTERPRISES,
    FEATURE_NAMES,
    FEATURE_TABLES,
    TAX_MONTHLY,
    MarketTables,
    compute_features,
    month_start_plus,
)
from puhui.services.features import FeatureBatch, FeatureMonthWriter

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "BuildReport",
    "FeatureMonthTask",
    "build_market_month",
    "build_month",
    "compute_chunk",
    "enterprises_before",
    "month_frame",
    "source_month_of",
]


@dataclass(frozen=True, slots=True)
class BuildReport:
    month: date
    rows: int
    seconds: float
    feature_set_version: str
    source_month: date


def enterprises_before(tables: MarketTables, month: date) -> list[str]:
    """The enterprises registered before ``month``, sorted (the rows the month will hold)."""
    return (
        tables[ENTERPRISES]
        .filter(pl.col("registration_date") < month)
        .select("uscc")
        .unique()
        .sort("uscc")
        .collect()
        .get_column("uscc")
        .to_list()
    )


def source_month_of(tables: MarketTables, month: date) -> date:
    """The latest month of tax filings before ``month`` (the month before it if none)."""
    latest = (
        tables[TAX_MONTHLY].filter(pl.col("month") < month).select(pl.col("month").max()).collect()
    ).item()
    return latest if isinstance(latest, date) else month_start_plus(month, -1)


def compute_chunk(tables: MarketTables, usccs: list[str], month: date) -> pl.DataFrame:
    """Features and strategy inputs of some enterprises: ``uscc``, features, then inputs."""
    return month_frame(tables.for_enterprises(usccs), month)


def month_frame(tables: MarketTables, month: date) -> pl.DataFrame:
    """Features and strategy inputs of the enterprises of ``tables`` registered before
    ``month``: ``uscc``, features, then inputs.

    The inputs' columns are prefixed ``input:`` (some names are also feature names).
    """
    features = compute_features(tables, month)
    inputs = enterprise_inputs(tables, features, month)
    return features.join(
        inputs.rename({name: f"input:{name}" for name in STRATEGY_INPUT_NAMES}),
        on="uscc",
        how="left",
        maintain_order="left",
    )


@dataclass(frozen=True, slots=True)
class FeatureMonthTask:
    """The feature store's task for an engine: :func:`month_frame` of a partition."""

    month: date

    def __call__(self, tables: MarketTables) -> pl.DataFrame:
        return month_frame(tables, self.month)


def _batch(frame: pl.DataFrame) -> FeatureBatch:
    columns = [*FEATURE_NAMES, *(f"input:{name}" for name in STRATEGY_INPUT_NAMES)]
    return FeatureBatch(
        usccs=frame.get_column("uscc").to_list(),
        rows=frame.select(columns).rows(),
    )


def build_month(
    tables: MarketTables,
    month: date,
    writer: FeatureMonthWriter,
    *,
    computed_at: datetime,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Progress = NO_PROGRESS,
) -> BuildReport:
    """Compute the month for every enterprise registered before it and replace it in the store
    (local engine, over tables already opened).

    ``progress`` hears of each chunk of enterprises.
    """
    started = time.perf_counter()
    _check_month(month)
    engine = LocalEngine(chunk_size=chunk_size)
    usccs = enterprises_before(tables, month)
    frames = engine.map_tables(tables, FeatureMonthTask(month), usccs)
    return _replace_month(
        frames,
        month,
        writer,
        enterprises=len(usccs),
        source_month=source_month_of(tables, month),
        computed_at=computed_at,
        progress=progress,
        started=started,
    )


def build_market_month(
    market: Path,
    month: date,
    writer: FeatureMonthWriter,
    *,
    engine: Engine,
    computed_at: datetime,
    progress: Progress = NO_PROGRESS,
) -> BuildReport:
    """:func:`build_month` over a market folder on ``engine`` (local or Spark)."""
    started = time.perf_counter()
    _check_month(month)
    # The loan history is not read by the features: a provider's market may lack it.
    frames = engine.map_enterprises(
        market, FeatureMonthTask(month), tables=FEATURE_TABLES, through=month
    )
    tables = MarketTables.from_dir(market, names=FEATURE_TABLES, optional=())
    return _replace_month(
        frames,
        month,
        writer,
        enterprises=registered_before(tables, month),
        source_month=source_month_of(tables, month),
        computed_at=computed_at,
        progress=progress,
        started=started,
    )


def registered_before(tables: MarketTables, month: date) -> int:
    """How many enterprises the month will hold (a count: the driver keeps no list)."""
    return int(
        tables[ENTERPRISES]
        .filter(pl.col("registration_date") < month)
        .select(pl.col("uscc").n_unique())
        .collect()
        .item()
    )


def _check_month(month: date) -> None:
    if month.day != 1:
        raise InvalidTrainingData("the month to build must be given by its first day")


def _replace_month(
    frames: Iterator[pl.DataFrame],
    month: date,
    writer: FeatureMonthWriter,
    *,
    enterprises: int,
    source_month: date,
    computed_at: datetime,
    progress: Progress,
    started: float,
) -> BuildReport:
    progress.start(enterprises, f"feature store {month:%Y-%m}: enterprises")
    # The first frame gives the columns' types (the layout) before the store is touched.
    first = next(frames)
    layout: FeatureSet = feature_set(first.schema)

    def batches() -> Iterator[FeatureBatch]:
        for number, frame in enumerate(itertools.chain([first], frames), start=1):
            logger.info("feature store %s: partition %d", month, number)
            yield _batch(frame)
            progress.advance(frame.height)

    try:
        rows = writer.replace_month(
            month, layout, source_month=source_month, computed_at=computed_at, batches=batches()
        )
    finally:
        # A Spark run's staged files go as soon as the store is done with them (or failed).
        close = getattr(frames, "close", None)
        if close is not None:
            close()
    return BuildReport(
        month=month,
        rows=rows,
        seconds=time.perf_counter() - started,
        feature_set_version=layout.version,
        source_month=source_month,
    )
