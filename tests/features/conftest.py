"""A small generated market shared by the feature store tests (generated once per session)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.risk.features import MarketTables

SMALL = MarketParams(enterprises=160, months=30, start=date(2023, 1, 1), seed=7)


@pytest.fixture(scope="session")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market") / "small"
    generate_market(SMALL, out)
    return out


@pytest.fixture(scope="session")
def tables(market: Path) -> MarketTables:
    return MarketTables.from_dir(market)
