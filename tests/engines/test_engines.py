"""The engines' contract without Spark: partitions, checks by name and the options."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from puhui.pipelines.engines import LocalEngine, SparkEngine, engine_from_options
from puhui.pipelines.engines.spark_bucket import CORE_FILE, bucket_tables
from puhui.pipelines.feature_store import FeatureMonthTask
from puhui.pipelines.monitoring_inputs import MonitoringTask
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import (
    APPLICATIONS,
    ENTERPRISES,
    FEATURE_TABLES,
    LOAN_HISTORY,
    TAX_MONTHLY,
    MarketTables,
    core_enterprises,
)

MONTH = date(2024, 5, 1)


def bits(frame: pl.DataFrame) -> pl.DataFrame:
    """Floats as their bit patterns: equal frames are equal to the last bit (NaN included)."""
    return frame.with_columns(pl.col(pl.Float64).reinterpret(signed=True))


def run(engine: LocalEngine | SparkEngine, market: Path) -> pl.DataFrame:
    frames = list(engine.map_enterprises(market, FeatureMonthTask(MONTH), tables=FEATURE_TABLES))
    return pl.concat(frames).sort("uscc")


def test_local_results_do_not_depend_on_the_chunk_size(market: Path) -> None:
    whole = run(LocalEngine(chunk_size=1_000), market)
    chunked = run(LocalEngine(chunk_size=37), market)
    assert whole.height > 200
    assert bits(whole).equals(bits(chunked), null_equal=True)


def test_local_engine_streams_one_frame_per_chunk(market: Path) -> None:
    frames = LocalEngine(chunk_size=100).map_enterprises(
        market, FeatureMonthTask(MONTH), tables=FEATURE_TABLES
    )
    assert [frame.height <= 100 for frame in frames] == [True, True, True]


def test_restricted_to_some_enterprises(market: Path) -> None:
    everyone = run(LocalEngine(), market)
    some = everyone.get_column("uscc").to_list()[::7]
    frames = LocalEngine(chunk_size=10).map_enterprises(
        market, FeatureMonthTask(MONTH), tables=FEATURE_TABLES, enterprises=[*some, "NOT-A-FIRM"]
    )
    got = pl.concat(list(frames)).sort("uscc")
    assert got.get_column("uscc").to_list() == some
    assert bits(got).equals(bits(everyone.filter(pl.col("uscc").is_in(some))), null_equal=True)


@pytest.mark.parametrize("engine", [LocalEngine(), SparkEngine()], ids=["local", "spark"])
def test_a_missing_table_is_refused_by_name(
    engine: LocalEngine | SparkEngine, market: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "market"
    shutil.copytree(market, copy)
    shutil.rmtree(copy / "tables" / "court_cases")
    with pytest.raises(InvalidTrainingData, match="'court_cases' not found"):
        engine.map_enterprises(copy, FeatureMonthTask(MONTH), tables=FEATURE_TABLES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["market"]


@pytest.mark.parametrize("engine", [LocalEngine(), SparkEngine()], ids=["local", "spark"])
def test_a_run_without_the_enterprises_table_is_refused(
    engine: LocalEngine | SparkEngine, market: Path
) -> None:
    without = tuple(name for name in FEATURE_TABLES if name != "enterprises")
    with pytest.raises(InvalidTrainingData, match="enterprises table partitions the work"):
        engine.map_enterprises(market, FeatureMonthTask(MONTH), tables=without)
    assert not any(p.name.startswith(".puhui-spark-") for p in market.parent.iterdir())


@pytest.mark.parametrize("engine", [LocalEngine(), SparkEngine()], ids=["local", "spark"])
def test_a_missing_month_is_refused_by_name(
    engine: LocalEngine | SparkEngine, market: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "market"
    shutil.copytree(market, copy)
    folder = copy / "tables" / TAX_MONTHLY
    tax = pl.read_parquet(folder / "*.parquet")
    shutil.rmtree(folder)
    folder.mkdir()
    tax.filter(pl.col("month") != date(2023, 9, 1)).write_parquet(folder / "part-0.parquet")
    task = FeatureMonthTask(MONTH)
    with pytest.raises(InvalidTrainingData, match=r"'tax_monthly' .* no rows for month 2023-09"):
        engine.map_enterprises(copy, task, tables=FEATURE_TABLES, through=date(2024, 4, 1))
    # Up to the month before the gap the market is complete.
    assert list(
        LocalEngine().map_enterprises(copy, task, tables=FEATURE_TABLES, through=date(2023, 8, 1))
    )


def test_a_month_after_the_market_is_refused_by_name(market: Path) -> None:
    with pytest.raises(InvalidTrainingData, match=r"no rows for month 2024-07 .after the market"):
        LocalEngine().map_enterprises(
            market, FeatureMonthTask(MONTH), tables=FEATURE_TABLES, through=date(2024, 7, 1)
        )


def test_engine_options() -> None:
    assert engine_from_options("local", None, chunk_size=10) == LocalEngine(chunk_size=10)
    assert engine_from_options("Spark", "local[1]") == SparkEngine(master="local[1]")
    assert engine_from_options("spark", None) == SparkEngine(master=None)
    with pytest.raises(
        InvalidTrainingData, match="unknown engine 'dask': choose one of local, spark"
    ):
        engine_from_options("dask", None)
    with pytest.raises(InvalidTrainingData, match="--master is for the Spark engine"):
        engine_from_options("local", "local[2]")
    with pytest.raises(InvalidTrainingData, match="chunk size must be at least one"):
        engine_from_options("spark", None, chunk_size=0)


def test_no_enterprise_gives_one_empty_frame_with_the_task_columns(market: Path) -> None:
    frames = list(
        LocalEngine(chunk_size=100).map_enterprises(
            market,
            MonitoringTask(MONTH, None, {}),
            tables=(*FEATURE_TABLES, LOAN_HISTORY),
            optional=(APPLICATIONS,),
            enterprises=[],
        )
    )
    assert [frame.height for frame in frames] == [0]
    assert "declared_sales_yoy_change" in frames[0].columns


def test_an_empty_bucket_gives_the_task_empty_tables_of_the_market_types(
    market: Path, tmp_path: Path
) -> None:
    """What a Spark task does with a bucket no row hashed to (no Spark needed to see it)."""
    tables = MarketTables.from_dir(market, names=FEATURE_TABLES, optional=())
    schemas = {name: tables[name].collect_schema() for name in FEATURE_TABLES}
    core_enterprises(tables[ENTERPRISES]).collect().write_parquet(tmp_path / CORE_FILE)
    empty = bucket_tables(tmp_path, 5, schemas)
    assert {name: empty[name].collect_schema() for name in FEATURE_TABLES} == schemas
    got = FeatureMonthTask(MONTH)(empty)
    want = FeatureMonthTask(MONTH)(tables.for_enterprises([]))
    assert got.height == 0
    assert got.schema == want.schema
