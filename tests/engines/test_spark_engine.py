"""The Spark engine in ``local[2]`` gives what the local engine gives, to the last bit."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from puhui.pipelines.engines import EngineFailed, LocalEngine, SparkEngine
from puhui.pipelines.feature_store import FeatureMonthTask
from puhui.pipelines.monitoring_inputs import active_enterprises, monitoring_inputs, open_market
from puhui.risk.features import FEATURE_TABLES

MONTH = date(2024, 5, 1)


def bits(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col(pl.Float64).reinterpret(signed=True))


def staging_left(market: Path) -> list[Path]:
    return sorted(market.parent.glob(".puhui-spark-*"))


def test_feature_month_on_spark_equals_local(spark: Any, market: Path) -> None:
    task = FeatureMonthTask(MONTH)
    local = pl.concat(
        list(LocalEngine(chunk_size=70).map_enterprises(market, task, tables=FEATURE_TABLES))
    ).sort("uscc")
    frames = SparkEngine(partitions=3).map_enterprises(market, task, tables=FEATURE_TABLES)
    on_spark = pl.concat(list(frames)).sort("uscc")
    assert local.height > 200
    assert on_spark.schema == local.schema
    assert bits(on_spark).equals(bits(local), null_equal=True)
    assert staging_left(market) == []


def test_monitoring_inputs_on_spark_equal_local(spark: Any, market: Path) -> None:
    month = date(2024, 3, 1)
    tables = open_market(market)
    local = monitoring_inputs(tables, month, chunk_size=50)
    on_spark = monitoring_inputs(tables, month, engine=SparkEngine(partitions=2), market=market)
    assert local.height == len(active_enterprises(tables, month)) > 200
    assert local.get_column("tax_grade").null_count() < local.height
    assert bits(on_spark).equals(bits(local), null_equal=True)
    assert staging_left(market) == []


def test_a_failing_task_raises_a_clear_error_and_leaves_nothing(spark: Any, market: Path) -> None:
    # The features refuse a month not given by its first day: on an executor here.
    frames = []
    with pytest.raises(EngineFailed, match=r"the Spark job failed: .*first day of a month"):
        frames.extend(
            SparkEngine(partitions=2).map_enterprises(
                market, FeatureMonthTask(date(2024, 5, 15)), tables=FEATURE_TABLES
            )
        )
    assert frames == []
    assert staging_left(market) == []
