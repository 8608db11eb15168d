"""Build one month of the feature store from a market folder, in chunks of enterprises.

The risk features (``risk.features.compute_features``) and the enterprise-level strategy
inputs (``risk.enterprise_inputs``) of every enterprise registered before the month are
computed with the same code the online path runs, a chunk of enterprises at a time (the
tables are scanned lazily and filtered to the chunk), and streamed to the store, which
replaces the month in one transaction. Memory holds one chunk: a million enterprises fit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from puhui.domain.progress import NO_PROGRESS, Progress
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
    TAX_MONTHLY,
    MarketTables,
    compute_features,
    month_start_plus,
)
from puhui.services.features import FeatureBatch, FeatureMonthWriter

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 50_000
"""Enterprises per chunk: a few hundred MB of Polars work at most."""


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
    """Features and strategy inputs of some enterprises: ``uscc``, features, then inputs.

    The inputs' columns are prefixed ``input:`` (some names are also feature names).
    """
    chunk = tables.for_enterprises(usccs)
    features = compute_features(chunk, month)
    inputs = enterprise_inputs(chunk, features, month)
    return features.join(
        inputs.rename({name: f"input:{name}" for name in STRATEGY_INPUT_NAMES}),
        on="uscc",
        how="left",
        maintain_order="left",
    )


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
    """Compute the month for every enterprise registered before it and replace it in the store.

    ``progress`` hears of each chunk of enterprises.
    """
    if month.day != 1:
        raise InvalidTrainingData("the month to build must be given by its first day")
    if chunk_size < 1:
        raise InvalidTrainingData("chunk size must be at least one enterprise")
    started = time.perf_counter()
    usccs = enterprises_before(tables, month)
    source_month = source_month_of(tables, month)
    chunks = [usccs[i : i + chunk_size] for i in range(0, len(usccs), chunk_size)] or [[]]
    progress.start(len(usccs), f"feature store {month:%Y-%m}: enterprises")
    # The first chunk gives the columns' types (the layout) before the store is touched.
    first = compute_chunk(tables, chunks[0], month)
    layout: FeatureSet = feature_set(first.schema)

    def batches() -> Iterator[FeatureBatch]:
        yield _batch(first)
        progress.advance(len(chunks[0]))
        for number, chunk in enumerate(chunks[1:], start=2):
            logger.info("feature store %s: chunk %d of %d", month, number, len(chunks))
            yield _batch(compute_chunk(tables, chunk, month))
            progress.advance(len(chunk))

    rows = writer.replace_month(
        month, layout, source_month=source_month, computed_at=computed_at, batches=batches()
    )
    return BuildReport(
        month=month,
        rows=rows,
        seconds=time.perf_counter() - started,
        feature_set_version=layout.version,
        source_month=source_month,
    )
