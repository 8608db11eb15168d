"""Small generated markets shared by the market tests (generated once per session)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from puhui.market.generate import generate_market
from puhui.market.params import MarketParams

SMALL = MarketParams(enterprises=2_000, months=24, start=date(2023, 1, 1), seed=11)


@pytest.fixture(scope="session")
def small_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market") / "small"
    generate_market(SMALL, out, chunk_size=2_000)
    return out


@pytest.fixture(scope="session")
def small_market_one_month_more(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market") / "plus_one"
    params = MarketParams(
        enterprises=SMALL.enterprises, months=SMALL.months + 1, start=SMALL.start, seed=SMALL.seed
    )
    generate_market(params, out, chunk_size=700)
    return out
