"""A small market written in several files per table, and one Spark session for the area.

The Spark session is ``local[2]``, quiet, without its web UI, with its scratch space under
pytest's temporary folder; the engine finds it as the active session and leaves it running.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from puhui.market.generate import generate_market
from puhui.market.params import MarketParams

SMALL = MarketParams(enterprises=300, months=18, start=date(2023, 1, 1), seed=5)
"""Several parquet files per table (chunks of 120): the engines must keep the market's order."""


@pytest.fixture(scope="session")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("engines") / "market"
    generate_market(SMALL, out, chunk_size=120)
    return out


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    # py4j logs its connections closing at interpreter exit, after pytest closed the streams.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    scratch = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("puhui-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.log.level", "ERROR")
        .config("spark.local.dir", str(scratch / "local"))
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
