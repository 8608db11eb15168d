"""A generated market shared by the green tests (3,000 enterprises, three years)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from puhui.market.generate import generate_market
from puhui.market.params import MarketParams

GREEN_MARKET = MarketParams(enterprises=3_000, months=36, start=date(2023, 1, 1), seed=5)


@pytest.fixture(scope="session")
def green_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("green-market") / "m"
    generate_market(GREEN_MARKET, out, chunk_size=1_000)
    return out
