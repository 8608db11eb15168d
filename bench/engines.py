"""Batch engines: a feature-store month on the local engine and on Spark, and the alternative.

Usage: .venv/bin/python bench/engines.py (--market DIR | --enterprises N) [--month YYYY-MM]
       [--master local[2]] [--partitions N] [--chunk-size 50000] [--no-alternative]

1. Baseline, same process: today's path before the engines (``compute_chunk`` over sorted
   chunks, Polars' default engine affinity).
2. The local engine (``LocalEngine``: the same chunks, every task on Polars' in-memory engine).
3. The Spark engine (``SparkEngine`` on ``--master``): session start timed apart, then the run
   (staging by bucket, the tasks through ``mapInArrow``, the frames streamed back); the result
   compared with the local engine's bit for bit, and the driver's peak RSS.
4. The alternative of ADR 0031 on one feature group (utilities, 11 features): the same SQL
   text (the dialect DuckDB and Spark SQL share — what sqlglot would otherwise transpile) on
   DuckDB and on Spark SQL, timed, and its values compared with the Polars definition.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.pipelines.engines import LocalEngine, SparkEngine
from puhui.pipelines.feature_store import FeatureMonthTask, compute_chunk, enterprises_before
from puhui.risk.features import FEATURE_TABLES, UTILITIES_MONTHLY, MarketTables
from puhui.risk.features.utilities import utility_features

UTILITY_SQL = """
WITH known AS (
  SELECT uscc, CAST(electricity_kwh AS DOUBLE) AS kwh, late_payment,
         {index} - (year(month) * 12 + month(month) - 1) AS lag
  FROM utilities WHERE month < DATE '{as_of}'
), recent AS (SELECT * FROM known WHERE lag <= 36)
SELECT uscc,
  CASE WHEN SUM(CASE WHEN lag BETWEEN 1 AND 6 THEN 1 ELSE 0 END) = 6 THEN
    LN((SUM(CASE WHEN lag BETWEEN 1 AND 3 THEN kwh END) + 100.0)
     / (SUM(CASE WHEN lag BETWEEN 4 AND 6 THEN kwh END) + 100.0)) END AS electricity_growth_3m,
  CASE WHEN SUM(CASE WHEN lag BETWEEN 2 AND 13 THEN 1 ELSE 0 END) >= 6 THEN
    MAX(CASE WHEN lag = 1 THEN kwh END)
     / (MAX(CASE WHEN lag BETWEEN 2 AND 13 THEN kwh END) + 1.0) END AS electricity_vs_peak,
  CAST(SUM(CASE WHEN lag <= 12 AND late_payment THEN 1 ELSE 0 END) AS DOUBLE)
    AS utility_late_payments_12m,
  CASE WHEN SUM(CASE WHEN lag = 1 THEN 1 ELSE 0 END) = 1
        AND SUM(CASE WHEN lag = 13 THEN 1 ELSE 0 END) = 1 THEN
    LN((SUM(CASE WHEN lag = 1 THEN kwh END) + 100.0)
     / (SUM(CASE WHEN lag = 13 THEN kwh END) + 100.0)) END AS electricity_growth_1m_yoy,
  CASE WHEN SUM(CASE WHEN lag BETWEEN 1 AND 3 THEN 1 ELSE 0 END) = 3
        AND SUM(CASE WHEN lag BETWEEN 13 AND 15 THEN 1 ELSE 0 END) = 3 THEN
    LN((SUM(CASE WHEN lag BETWEEN 1 AND 3 THEN kwh END) + 100.0)
     / (SUM(CASE WHEN lag BETWEEN 13 AND 15 THEN kwh END) + 100.0)) END
    AS electricity_growth_3m_yoy,
  CAST(SUM(CASE WHEN lag <= 3 AND late_payment THEN 1 ELSE 0 END) AS DOUBLE)
    AS utility_late_payments_3m,
  AVG(CASE WHEN late_payment THEN 1.0 ELSE 0.0 END) AS utility_late_payment_rate,
  CASE WHEN SUM(CASE WHEN lag BETWEEN 1 AND 12 THEN 1 ELSE 0 END) = 12 THEN
    LN((4.0 * SUM(CASE WHEN lag BETWEEN 1 AND 3 THEN kwh END) + 100.0)
     / (SUM(CASE WHEN lag BETWEEN 1 AND 12 THEN kwh END) + 100.0)) END AS electricity_3m_vs_12m,
  CASE WHEN SUM(CASE WHEN lag BETWEEN 1 AND 12 THEN 1 ELSE 0 END) = 12 THEN
    LN((12.0 * SUM(CASE WHEN lag = 1 THEN kwh END) + 100.0)
     / (SUM(CASE WHEN lag BETWEEN 1 AND 12 THEN kwh END) + 100.0)) END AS electricity_1m_vs_12m,
  CASE WHEN SUM(CASE WHEN lag BETWEEN 1 AND 24 THEN 1 ELSE 0 END) = 24 THEN
    LN((2.0 * SUM(CASE WHEN lag BETWEEN 1 AND 12 THEN kwh END) + 100.0)
     / (SUM(CASE WHEN lag BETWEEN 1 AND 24 THEN kwh END) + 100.0)) END
    AS electricity_12m_vs_24m,
  COALESCE(SUM(CASE WHEN lag BETWEEN 1 AND 12 THEN kwh END), 0.0) AS _kwh_12m
FROM recent GROUP BY uscc
"""


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bits(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.Float64).reinterpret(signed=True))


def compare(name: str, got: pl.DataFrame, want: pl.DataFrame) -> None:
    got = got.sort("uscc").select(want.columns)
    if got.height != want.height:
        print(f"   {name}: {got.height:,} rows against {want.height:,}")
        return
    same = bits(got).equals(bits(want), null_equal=True)
    worst = 0.0
    differing = 0
    for column in want.columns[1:]:
        a, b = got.get_column(column), want.get_column(column)
        if not a.dtype.is_float():
            differing += int(a.ne_missing(b).sum())
            continue
        gap = ((a - b).abs() / (b.abs() + 1e-300)).fill_nan(0.0).max()
        worst = max(worst, float(gap) if isinstance(gap, float) else 0.0)
        differing += int(
            bits(got).get_column(column).ne_missing(bits(want).get_column(column)).sum()
        )
    print(
        f"   {name}: bit-identical {same}; values differing in bits {differing:,}, "
        f"largest relative gap {worst:.1e}"
    )


def alternative(market: Path, tables: MarketTables, as_of: date, master: str) -> None:
    """Step 4: one feature group as one SQL text on DuckDB and on Spark SQL, against Polars."""
    from pyspark.sql import SparkSession  # noqa: PLC0415 - only when measured

    spark = SparkSession.builder.master(master).getOrCreate()
    index = as_of.year * 12 + as_of.month - 1
    sql = UTILITY_SQL.format(index=index, as_of=f"{as_of:%Y-%m-%d}")
    folder = market / "tables" / UTILITIES_MONTHLY
    started = time.perf_counter()
    polars_group = utility_features(tables, as_of).collect()
    polars_seconds = time.perf_counter() - started
    print(f"4. utilities feature group, Polars (the definition): {polars_seconds:6.2f} s")
    started = time.perf_counter()
    connection = duckdb.connect()
    connection.execute(f"CREATE VIEW utilities AS SELECT * FROM read_parquet('{folder}/*.parquet')")
    from_duckdb = pl.from_arrow(connection.execute(sql).to_arrow_table())
    assert isinstance(from_duckdb, pl.DataFrame)
    on_duckdb = from_duckdb
    print(f"   same SQL on DuckDB:    {time.perf_counter() - started:6.2f} s")
    compare("DuckDB SQL against Polars", on_duckdb, polars_group.sort("uscc"))
    started = time.perf_counter()
    spark.read.parquet(str(folder)).createOrReplaceTempView("utilities")
    on_spark_sql = pl.from_arrow(spark.sql(sql).toArrow())
    print(f"   same SQL on Spark SQL: {time.perf_counter() - started:6.2f} s")
    assert isinstance(on_spark_sql, pl.DataFrame)
    compare("Spark SQL against Polars", on_spark_sql, polars_group.sort("uscc"))
    compare("Spark SQL against DuckDB", on_spark_sql, on_duckdb.sort("uscc"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--market", type=Path)
    parser.add_argument("--enterprises", type=int, default=50_000)
    parser.add_argument("--month", default="2024-12")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--no-alternative", action="store_true")
    parser.add_argument("--only-alternative", action="store_true")
    args = parser.parse_args()
    year, month_number = (int(part) for part in args.month.split("-"))
    month = date(year, month_number, 1)
    with tempfile.TemporaryDirectory() as scratch:
        market = args.market
        if market is None:
            market = Path(scratch) / "market"
            params = MarketParams(enterprises=args.enterprises, months=24, start=date(2023, 1, 1))
            generate_market(params, market)
        tables = MarketTables.from_dir(market, names=FEATURE_TABLES, optional=())
        usccs = enterprises_before(tables, month)
        print(f"market {market}: {len(usccs):,} enterprises registered before {month:%Y-%m}")

        if args.only_alternative:
            alternative(market, tables, month, args.master)
            return
        chunks = [usccs[i : i + args.chunk_size] for i in range(0, len(usccs), args.chunk_size)]
        task = FeatureMonthTask(month)
        local_engine = LocalEngine(chunk_size=args.chunk_size)
        # Alternated, best of two each: the machine is shared, the order must not decide.
        befores, locals_ = [], []
        for _ in range(2):
            started = time.perf_counter()
            baseline = pl.concat([compute_chunk(tables, chunk, month) for chunk in chunks])
            befores.append(time.perf_counter() - started)
            started = time.perf_counter()
            local = pl.concat(
                list(local_engine.map_enterprises(market, task, tables=FEATURE_TABLES))
            ).sort("uscc")
            locals_.append(time.perf_counter() - started)
        before, local_seconds = min(befores), min(locals_)
        print(f"1. baseline (before the engines): {before:6.1f} s, {baseline.height:,} rows")
        print(
            f"2. local engine: {local_seconds:6.1f} s ({local_seconds / before:.2f}x the "
            f"baseline), peak RSS {rss_mb():,.0f} MB"
        )
        compare("local engine against the baseline", local, baseline.sort("uscc"))

        from pyspark.sql import SparkSession  # noqa: PLC0415 - timed

        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the executors' interpreter
        started = time.perf_counter()
        spark = (
            SparkSession.builder.master(args.master)
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.log.level", "ERROR")
            .getOrCreate()
        )
        print(f"3. Spark session on {args.master}: {time.perf_counter() - started:6.1f} s")
        started = time.perf_counter()
        engine = SparkEngine(master=args.master, partitions=args.partitions)
        frames = 0
        parts = []
        for frame in engine.map_enterprises(market, task, tables=FEATURE_TABLES):
            frames += 1
            parts.append(frame)
        on_spark = pl.concat(parts).sort("uscc")
        spark_seconds = time.perf_counter() - started
        print(
            f"   Spark engine: {spark_seconds:6.1f} s ({spark_seconds / local_seconds:.2f}x the "
            f"local engine), {frames} partitions, driver peak RSS {rss_mb():,.0f} MB"
        )
        compare("Spark engine against the local engine", on_spark, local)

        if not args.no_alternative:
            alternative(market, tables, month, args.master)
        spark.stop()


if __name__ == "__main__":
    main()
