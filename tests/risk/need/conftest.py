"""A small generated market and a need model trained on it, once per test session."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.risk.features import MarketTables
from puhui.risk.need import PRE_CONSENT_SOURCES, NeedModel, train_need_model

SMALL = MarketParams(enterprises=1_500, months=24, start=date(2023, 1, 1), seed=13)
AS_OF = date(2024, 9, 1)
"""Scored month: 20 months of history before it, the horizon's truth after it."""


@pytest.fixture(scope="session")
def need_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("need") / "market"
    generate_market(SMALL, out, chunk_size=1_500)
    return out


@pytest.fixture(scope="session")
def need_tables(need_market: Path) -> MarketTables:
    return MarketTables.from_dir(need_market, names=sorted(PRE_CONSENT_SOURCES), optional=())


@pytest.fixture(scope="session")
def need_events(need_market: Path) -> pl.LazyFrame:
    return pl.scan_parquet(str(need_market / "truth" / "need_events" / "*.parquet"))


@pytest.fixture(scope="session")
def need_model(need_tables: MarketTables, need_events: pl.LazyFrame) -> NeedModel:
    return train_need_model(need_tables, need_events, AS_OF, snapshots=6)
