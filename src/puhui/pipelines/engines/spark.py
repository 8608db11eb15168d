"""The Spark engine: Spark co-partitions the market by enterprise, executors run the task.

Spark does what it is for and nothing else: it reads the market (local disk for ``local[N]``,
shared storage on a cluster), gives every row a bucket — the hash of its enterprise's USCC;
an invoice goes to its seller's and to its buyer's bucket, an owner to the buckets of the
enterprises they represent — and writes the tables partitioned by bucket beside the market.
Then one Spark task per bucket runs the job's :class:`EnterpriseTask` (the same Polars code
as the local engine and the online path) through ``mapInArrow`` and writes its frame; the
driver streams those frames back one at a time. Memory: one bucket per executor task, one
result frame on the driver. The staging folder is removed whatever happens, and a failed
job raises :class:`EngineFailed` before any frame is yielded: nothing partial reaches the
caller. pyspark is imported only here, only when the engine runs.
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import sys
import uuid
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from puhui.domain.errors import PuhuiError
from puhui.pipelines.engines.base import EngineFailed, EnterpriseTask
from puhui.pipelines.engines.market_check import open_partitioned, table_folder
from puhui.pipelines.engines.spark_bucket import (
    BUCKET,
    CORE_FILE,
    SOURCE_FILE,
    SOURCE_ROW,
    STAGED_TABLES,
    STATUS_DDL,
    BucketRunner,
)
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import (
    CORE_ENTERPRISES,
    ENTERPRISES,
    INVOICES,
    OWNERS,
    MarketTables,
    core_enterprises,
)

logger = logging.getLogger(__name__)

ENTERPRISES_PER_BUCKET = 50_000
"""At most this many enterprises per bucket (the local engine's chunk): bounded task memory."""
TWO_SIDED = {
    INVOICES: ("seller_uscc", "buyer_uscc"),
    "guarantees": ("guarantor_uscc", "borrower_uscc"),
}
"""Tables whose row concerns two enterprises: it is staged in both of their buckets."""
LOCAL_SETTINGS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
SETTINGS = {
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.sources.partitionOverwriteMode": "static",
}


@dataclass(frozen=True, slots=True)
class SparkEngine:
    """Runs tasks on Spark: ``master`` (``None``: the one ``spark-submit`` gives, else
    ``local[2]``), ``partitions`` buckets (default: twice the cluster's cores, more when
    needed to keep a bucket at most 50,000 enterprises) and ``staging``, the folder on shared
    storage that holds each run's staged tables (default: beside the market)."""

    master: str | None = "local[2]"
    partitions: int | None = None
    staging: Path | None = None

    def __post_init__(self) -> None:
        if self.partitions is not None and self.partitions < 1:
            raise InvalidTrainingData("a Spark run needs at least one partition")

    @property
    def name(self) -> str:
        return "spark"

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
        run_dir = (self.staging or market.parent) / f".puhui-spark-{uuid.uuid4().hex}"
        try:
            run_dir.mkdir(parents=True)
        except OSError as exc:
            raise EngineFailed(f"cannot create the Spark staging folder {run_dir}: {exc}") from None
        try:
            paths = self._run(market, opened, task, run_dir, enterprises)
        except BaseException:
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
        return _stream(paths, run_dir)

    def _run(
        self,
        market: Path,
        opened: MarketTables,
        task: EnterpriseTask,
        run_dir: Path,
        enterprises: Sequence[str] | None,
    ) -> list[Path]:
        names = [name for name in opened.frames if name != CORE_ENTERPRISES]
        schemas = {name: opened[name].collect_schema() for name in names}
        # The core enterprises are the registry's medium firms: a short global list every
        # bucket reads whole, derived once by the same function as locally.
        core_enterprises(opened[ENTERPRISES]).collect().write_parquet(run_dir / CORE_FILE)
        subset: Path | None = None
        if enterprises is not None:
            subset = run_dir / "enterprises.parquet"
            pl.DataFrame({"uscc": list(enterprises)}, schema={"uscc": pl.String}).write_parquet(
                subset
            )
        with _session(self.master) as spark:
            try:
                buckets = self.partitions or _bucket_count(spark, opened, enterprises)
                _stage(spark, market, names, run_dir=run_dir, buckets=buckets, subset=subset)
                runner = BucketRunner(task, str(run_dir), schemas)
                statuses = (
                    spark.range(0, buckets, 1, numPartitions=buckets)
                    .mapInArrow(runner, STATUS_DDL)
                    .collect()
                )
            except PuhuiError:
                raise
            except Exception as exc:
                raise EngineFailed(f"the Spark job failed: {_cause(exc)}") from exc
        found = sorted((int(row[BUCKET]), Path(row["path"])) for row in statuses)
        if [bucket for bucket, _ in found] != list(range(buckets)):
            raise EngineFailed("the Spark job returned an incomplete set of partitions")
        return [path for _, path in found]


def _stream(paths: list[Path], run_dir: Path) -> Iterator[pl.DataFrame]:
    try:
        for path in paths:
            yield pl.read_parquet(path)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _bucket_count(spark: Any, opened: MarketTables, enterprises: Sequence[str] | None) -> int:
    count = (
        len(enterprises)
        if enterprises is not None
        else int(opened[ENTERPRISES].select(pl.len()).collect().item())
    )
    cores = int(spark.sparkContext.defaultParallelism)
    return max(2 * cores, math.ceil(count / ENTERPRISES_PER_BUCKET), 1)


def _stage(
    spark: Any,
    market: Path,
    names: Sequence[str],
    *,
    run_dir: Path,
    buckets: int,
    subset: Path | None,
) -> None:
    """Every table written to ``run_dir/tables/NAME/bucket=K/`` with its source position."""
    from pyspark.sql import functions as f  # noqa: PLC0415 - pyspark only when Spark runs

    def bucket_of(column: str) -> Any:
        return f.pmod(f.xxhash64(f.col(column)), f.lit(buckets)).cast("int")

    def read(name: str) -> Any:
        return spark.read.parquet(str(table_folder(market, name))).select(
            "*",
            f.col("_metadata.file_name").alias(SOURCE_FILE),
            f.col("_metadata.row_index").alias(SOURCE_ROW),
        )

    firms = read(ENTERPRISES)
    if subset is not None:
        firms = firms.join(spark.read.parquet(str(subset)), on="uscc", how="left_semi")
    firms = firms.withColumn(BUCKET, bucket_of("uscc"))

    def stage(name: str) -> None:
        if name == ENTERPRISES:
            frame = firms
        elif name == OWNERS:
            # An owner goes to the bucket of each enterprise they represent (once per bucket).
            represented = firms.select(f.col("legal_rep_id_number").alias("id_number"), BUCKET)
            frame = (
                read(OWNERS)
                .join(represented, on="id_number")
                .dropDuplicates([BUCKET, SOURCE_FILE, SOURCE_ROW])
            )
        elif name in TWO_SIDED:
            one, other = TWO_SIDED[name]
            sides = f.array_distinct(f.array(bucket_of(one), bucket_of(other)))
            frame = read(name).withColumn(BUCKET, f.explode(sides))
        else:
            frame = read(name).withColumn(BUCKET, bucket_of("uscc"))
        logger.info("spark engine: staging %s in %d buckets", name, buckets)
        frame.write.partitionBy(BUCKET).parquet(str(run_dir / STAGED_TABLES / name))

    # One Spark job per table, submitted together: a small table is one task, and the
    # scheduler fills the other cores with the other tables' tasks.
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        for done in [pool.submit(stage, name) for name in names]:
            done.result()


@contextmanager
def _session(master: str | None) -> Iterator[Any]:
    """The active Spark session (a test's, or the one ``spark-submit`` started), else a new
    one stopped at the end."""
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 - pyspark only when Spark runs
    except ImportError:
        raise EngineFailed(
            "the Spark engine needs pyspark: install puhui with the 'spark' extra "
            "(pip install 'puhui[spark]') and a Java 17 runtime"
        ) from None
    # PySpark warns on each import that it does not know pandas 3; the engine uses no pandas.
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    # py4j reports every connection it opens and closes at INFO: not the job's news.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    active = SparkSession.getActiveSession()
    if active is not None:
        yield active
        return
    under_submit = "PYSPARK_GATEWAY_PORT" in os.environ
    chosen = master or (None if under_submit else "local[2]")
    builder = SparkSession.builder.appName("puhui")
    settings = dict(SETTINGS)
    if chosen is not None:
        builder = builder.master(chosen)
        if chosen.startswith("local"):
            # Local executors are this machine's processes: the same interpreter (a cluster's
            # executors get theirs from spark.pyspark.python, see docs/spark.md).
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            settings.update(LOCAL_SETTINGS)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:
        raise EngineFailed(
            f"could not start Spark ({chosen or 'spark-submit'}): {_cause(exc)}"
        ) from exc
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()


_ERROR_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Invalid\w*|Failed\w*): ")


def _cause(exc: BaseException) -> str:
    """The Python error a worker raised (the last ``SomeError: message`` line), else the
    first line of Spark's message: one sentence, not a JVM stack."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    python_errors = [line for line in lines if _ERROR_LINE.match(line)]
    if python_errors:
        return python_errors[-1]
    return lines[0] if lines else type(exc).__name__
