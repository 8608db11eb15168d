"""What a Spark executor runs: the task on one bucket of enterprises staged as Parquet.

Imported by the executors' Python workers (no pyspark import here: the function receives
and returns Arrow record batches). Spark staged every table partitioned by bucket, each row
with its source file and row index; the bucket's rows are put back in the market's own order
and types, so the task sees exactly the frames the local engine would give it for the same
enterprises: the results are identical, not merely close.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa

from puhui.pipelines.engines.base import EnterpriseTask, task_polars_config
from puhui.risk.features import CORE_ENTERPRISES, ENTERPRISES, MarketTables

SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"
BUCKET = "bucket"
STAGED_TABLES = "tables"
CORE_FILE = "core_enterprises.parquet"
RESULTS = "results"
STATUS_SCHEMA = pa.schema([(BUCKET, pa.int64()), ("rows", pa.int64()), ("path", pa.string())])
STATUS_DDL = "bucket long, rows long, path string"


def staged_table(run_dir: Path, name: str, bucket: int, schema: pl.Schema) -> pl.DataFrame:
    """One table's rows of a bucket, in the market's order and with its column types."""
    folder = run_dir / STAGED_TABLES / name / f"{BUCKET}={bucket}"
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not files:
        return pl.DataFrame(schema=schema)
    frame = pl.read_parquet(files, hive_partitioning=False)
    return frame.sort(SOURCE_FILE, SOURCE_ROW).select(
        pl.col(column).cast(dtype) for column, dtype in schema.items()
    )


def bucket_tables(run_dir: Path, bucket: int, schemas: Mapping[str, pl.Schema]) -> MarketTables:
    """The bucket's tables, restricted to its enterprises like ``for_enterprises`` does (an
    invoice staged here for its buyer keeps its seller's side out, as locally)."""
    frames = {
        name: staged_table(run_dir, name, bucket, schema).lazy() for name, schema in schemas.items()
    }
    frames[CORE_ENTERPRISES] = pl.scan_parquet(run_dir / CORE_FILE)
    tables = MarketTables(frames)
    usccs = frames[ENTERPRISES].select("uscc").collect().get_column("uscc").to_list()
    return tables.for_enterprises(usccs)


def result_path(run_dir: Path, bucket: int) -> Path:
    return run_dir / RESULTS / f"bucket-{bucket:06d}.parquet"


@dataclass(frozen=True)
class BucketRunner:
    """The function ``mapInArrow`` ships: for each bucket number it receives, run the task
    on the bucket and write its frame (Polars, types exact) where the driver will read it;
    return one status row per bucket. A retried or speculative attempt writes the same file
    under a temporary name and renames it, so a reader never sees half a file."""

    task: EnterpriseTask
    run_dir: str
    schemas: Mapping[str, pl.Schema]

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        run_dir = Path(self.run_dir)
        for batch in batches:
            for bucket in batch.column(0).to_pylist():
                with task_polars_config():
                    frame = self.task(bucket_tables(run_dir, int(bucket), self.schemas))
                path = result_path(run_dir, int(bucket))
                path.parent.mkdir(parents=True, exist_ok=True)
                temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
                frame.write_parquet(temporary)
                os.replace(temporary, path)
                yield pa.RecordBatch.from_pydict(
                    {BUCKET: [int(bucket)], "rows": [frame.height], "path": [str(path)]},
                    schema=STATUS_SCHEMA,
                )
