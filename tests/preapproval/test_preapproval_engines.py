"""The pre-approval list is the same file whichever engine runs the task."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.pipelines.engines import Engine, LocalEngine, SparkEngine
from puhui.pipelines.preapproval import run_preapproval, write_prospects
from puhui.pipelines.preapproval_models import ProspectModels

AS_OF = date(2024, 10, 1)
TINY = MarketParams(enterprises=300, months=22, start=date(2023, 1, 1), seed=44)
"""Small enough for Spark to start, stage and run in seconds; the models come from seed 41."""


@pytest.fixture(scope="module")
def tiny_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("preapproval-engines") / "tiny"
    generate_market(TINY, out)
    return out


def _file(
    market: Path, models: ProspectModels, engine: Engine, strategy: tuple[str, str], out: Path
) -> bytes:
    frame = run_preapproval(
        market,
        AS_OF,
        engine=engine,
        need_model=models.need,
        risk_model=models.pd,
        strategy=strategy,
        risk_model_label=models.pd_label,
    )
    return write_prospects(frame, out).read_bytes()


def test_the_local_engine_in_chunks_writes_the_file_of_the_whole_market(
    score_market: Path,
    models: ProspectModels,
    test_strategy: tuple[str, str],
    prospects: pl.DataFrame,
    tmp_path: Path,
) -> None:
    whole = write_prospects(prospects, tmp_path / "whole.parquet").read_bytes()
    engine = LocalEngine(chunk_size=700)
    local = _file(score_market, models, engine, test_strategy, tmp_path / "local.parquet")
    assert local == whole


@pytest.mark.slow  # a Spark session, staging and two buckets: ~20 s on a quiet machine
def test_local_and_spark_engines_write_identical_files(
    tiny_market: Path, models: ProspectModels, test_strategy: tuple[str, str], tmp_path: Path
) -> None:
    chunks, buckets = LocalEngine(chunk_size=120), SparkEngine(partitions=2)
    local = _file(tiny_market, models, chunks, test_strategy, tmp_path / "local.csv")
    spark = _file(tiny_market, models, buckets, test_strategy, tmp_path / "spark.csv")
    assert spark == local
    assert local.count(b"\n") > 1  # a header and at least one prospect
