"""Batch engines: one definition of a batch job, run locally (Polars) or on Apache Spark.

A job is an :class:`EnterpriseTask`; :meth:`Engine.map_enterprises` runs it over every
enterprise of a market folder. ``LocalEngine`` cuts sorted chunks in this process;
``SparkEngine`` co-partitions the market by enterprise on Spark and runs the same task per
partition on the executors. Their results are identical (ADR 0031).
"""

from __future__ import annotations

from pathlib import Path

from puhui.pipelines.engines.base import Engine, EngineFailed, EnterpriseTask
from puhui.pipelines.engines.local import DEFAULT_CHUNK_SIZE, LocalEngine
from puhui.pipelines.engines.market_check import MONTHLY_PANELS, check_months, open_checked
from puhui.pipelines.engines.spark import SparkEngine
from puhui.risk.errors import InvalidTrainingData

ENGINE_NAMES = ("local", "spark")


def engine_from_options(
    name: str,
    master: str | None = None,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    partitions: int | None = None,
    staging: Path | None = None,
) -> Engine:
    """The engine a command line asks for (``--engine local|spark [--master URL]``)."""
    chosen = name.strip().lower()
    if chosen == "local":
        if master is not None:
            raise InvalidTrainingData("--master is for the Spark engine: add --engine spark")
        return LocalEngine(chunk_size=chunk_size)
    if chosen == "spark":
        return SparkEngine(master=master, partitions=partitions, staging=staging)
    raise InvalidTrainingData(f"unknown engine {name!r}: choose one of {', '.join(ENGINE_NAMES)}")


__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ENGINE_NAMES",
    "MONTHLY_PANELS",
    "Engine",
    "EngineFailed",
    "EnterpriseTask",
    "LocalEngine",
    "SparkEngine",
    "check_months",
    "engine_from_options",
    "open_checked",
]
