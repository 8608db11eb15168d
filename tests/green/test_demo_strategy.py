"""The demo's strategy version 2: the shipped strategy with the green discount and the
downturn limit cut; valid, priced and limited as its notes say, and put in force by four eyes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from tests.green.test_green_pricing import APPLICANT, AS_OF, GRADE_B

from puhui.bootstrap import Platform, Settings, build_platform
from puhui.bootstrap.demo_strategy import (
    APPROVER,
    AUTHOR,
    NAME,
    demo_strategy_text,
    put_demo_strategy_in_force,
)
from puhui.decision import load_shipped_strategy
from puhui.decision.strategy import load_strategy
from puhui.domain.clock import FixedClock
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.services import strategies


def _decide(text: str | None, **extra: Any) -> Any:
    strategy = load_shipped_strategy(NAME) if text is None else load_strategy("demo", text=text)
    return strategy.evaluate(
        {**APPLICANT, **extra}, GRADE_B, as_of=AS_OF, licence_type="bank", trace=False
    )


def test_version_two_discounts_green_applicants_and_cuts_limits_in_a_downturn() -> None:
    text = demo_strategy_text(2)
    base = _decide(None)
    assert _decide(text).annual_rate == base.annual_rate  # no label, no index: as version 1
    assert _decide(text, green_label="green").annual_rate == base.annual_rate - Decimal("0.003")
    clean = _decide(text, green_label="green", green_category="clean_energy")
    assert clean.annual_rate == base.annual_rate - Decimal("0.004")
    assert _decide(text, green_label="excluded_penalty").annual_rate == base.annual_rate
    assert _decide(text, industry_prosperity_index=55.0).limit_fen == base.limit_fen
    downturn = _decide(text, industry_prosperity_index=35.0)
    assert downturn.limit_fen is not None
    assert base.limit_fen is not None
    assert downturn.limit_fen < base.limit_fen
    assert downturn.limit_fen <= base.limit_fen * 8 // 10
    assert "INDUSTRY_DOWNTURN" in downturn.reasons


@pytest.fixture
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo-strategy")
    generate_market(
        MarketParams(enterprises=400, months=24, start=date(2023, 1, 1), seed=5), root / "m"
    )
    return root / "m"


@pytest.fixture
def demo_platform(database_url: str, tmp_path: Path) -> Iterator[Platform]:
    clock = FixedClock(datetime(2024, 12, 1, 2, tzinfo=UTC))
    settings = Settings(
        database_url=database_url,
        environment="test",
        data_dir=tmp_path / "data",
        _env_file=None,
    )  # type: ignore[call-arg]
    platform = build_platform(settings, clock=clock)
    platform.migrate()
    try:
        yield platform
    finally:
        platform.close()


def test_the_stage_puts_version_two_in_force_by_four_eyes(
    demo_platform: Platform, market: Path, tmp_path: Path
) -> None:
    done = put_demo_strategy_in_force(demo_platform, market, date(2024, 12, 1), tmp_path / "work")
    active = strategies.active_version(demo_platform.strategy_uow, NAME)
    assert active is not None
    assert active.version == done.version == 2
    assert (active.submitted_by, active.approved_by) == (AUTHOR, APPROVER)
    # The assessor will read the screen written for it, and the indices of the months before.
    assert demo_platform.settings.green_screen_dir == done.green_dir
    assert any(done.green_dir.iterdir())
    assert done.green_screened > 0
    assert done.prosperity_months > 0
    assert any(demo_platform.settings.prosperity_folder.iterdir())
