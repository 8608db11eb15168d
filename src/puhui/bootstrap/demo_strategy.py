"""The demo's strategy version 2: the shipped strategy with a green pricing discount and a
limit cut in an industry downturn, put in force the way a bank would (issue #18).

Before lending starts, the stage screens the market as of the month before (green finance,
docs/green.md) into the folder the assessor reads, builds the prosperity indices from the
months before (docs/prosperity.md) into the platform's folder, and takes version 2 of
``mse-online-credit`` through its lifecycle: drafted and submitted by one risk officer,
approved by a second (four eyes), activated. From the first application on, a green-labelled
applicant is priced 0.30 points lower (clean energy 0.10 more) and an applicant whose industry
index is under 40 gets 80 % of the limit. During the run the indices are rebuilt at each
month's publication from the months closed by then (``with_prosperity``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import yaml

from puhui.adapters.db.reporting.green import offers_by_green_label as green_offers
from puhui.bootstrap.container import Platform
from puhui.bootstrap.wiring import strategy_input_schema
from puhui.decision.strategy import shipped_strategy_text
from puhui.domain.errors import PuhuiError
from puhui.domain.lending.schedule import add_months
from puhui.pipelines.green.screen import screen_market, write_screen
from puhui.pipelines.prosperity.build import build_index, write_index
from puhui.risk.green.catalogue import load_catalogue
from puhui.services import strategies

logger = logging.getLogger(__name__)
T = TypeVar("T")

NAME = "mse-online-credit"
AUTHOR = "demo:risk-officer"
APPROVER = "demo:chief-risk-officer"
GREEN_DISCOUNT = "-0.0030"
CLEAN_ENERGY_EXTRA = "-0.0010"
DOWNTURN_BELOW = 40
DOWNTURN_MULTIPLIER = "0.8"


def demo_strategy_text(version: int) -> str:
    """The shipped strategy with the green discount and the downturn limit cut."""
    data: dict[str, Any] = yaml.safe_load(shipped_strategy_text(NAME))
    data["version"] = version
    data["description"] = (
        "小微企业线上信用贷：绿色信贷利率优惠、行业景气下行额度收紧 / MSE online credit with a "
        "green pricing discount and a limit cut in an industry downturn"
    )
    data["inputs"].update(
        {
            "green_label": {
                "type": "string",
                "description": "Green pre-screen label (绿色金融预筛, docs/green.md)",
            },
            "green_category": {
                "type": "string",
                "description": "Green industry category of the catalogue (绿色产业指导目录)",
            },
            "industry_prosperity_index": {
                "type": "number",
                "description": "Latest prosperity index of the applicant's industry (50 neutral)",
            },
        }
    )
    data["pricing"]["adjustments"] = [
        {
            "id": "PA_GREEN",
            "description": "绿色贷款利率优惠 / green loan discount",
            "when": {"green_label": "green"},
            "spread_delta": GREEN_DISCOUNT,
        },
        {
            "id": "PA_CLEAN_ENERGY",
            "description": "清洁能源产业再优惠 / clean energy, a further discount",
            "when": {"green_label": "green", "green_category": "clean_energy"},
            "spread_delta": CLEAN_ENERGY_EXTRA,
        },
    ]
    data["limit"]["adjustments"] = [
        {
            "id": "LA_DOWNTURN",
            "when": {"industry_prosperity_index": f"< {DOWNTURN_BELOW}"},
            "multiplier": DOWNTURN_MULTIPLIER,
            "reason": "INDUSTRY_DOWNTURN",
        }
    ]
    data["reasons"]["INDUSTRY_DOWNTURN"] = {
        "zh": "所属行业景气下行，额度按策略下调",
        "en": "The industry is in a downturn: the limit is reduced by the strategy",
        "adverse": False,
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@dataclass(frozen=True, slots=True)
class DemoStrategy:
    """What the stage put in force before lending."""

    version: int
    green_dir: Path
    green_screened: int
    green_labelled: int
    prosperity_months: int
    notes: tuple[str, ...] = ()


def _publish_indices(market_dir: Path, folder: Path, through: date) -> int:
    """Build the indices from the market's months up to ``through`` into ``folder``; the
    number of months built (0 when the market has no month a year earlier to compare with)."""
    try:
        index = build_index(market_dir, last_month=through)
    except PuhuiError as exc:
        logger.warning("prosperity indices through %s not built: %s", through, exc.message)
        return 0
    write_index(index, folder)
    return int(index.indices.get_column("month").n_unique())


def put_demo_strategy_in_force(
    platform: Platform, market_dir: Path, first_day: date, workdir: Path
) -> DemoStrategy:
    """Screen, build the indices, take version 2 through four eyes and activate it; the
    platform's settings then point the assessor at the screen (call before building ports)."""
    before = add_months(first_day.replace(day=1), -1)
    screen = screen_market(market_dir, before, load_catalogue())
    green_dir = workdir / "green"
    write_screen(screen, green_dir)
    labels = screen.report()["labels"]
    platform.settings = platform.settings.model_copy(update={"green_screen_dir": green_dir})
    months = _publish_indices(market_dir, platform.settings.prosperity_folder, before)
    clock, uow = platform.clock, platform.strategy_uow
    active = strategies.active_version(uow, NAME)
    version = (active.version if active is not None else 0) + 1
    strategies.create_draft(uow, text=demo_strategy_text(version), actor=AUTHOR, clock=clock)
    strategies.submit(uow, NAME, version, actor=AUTHOR, clock=clock)
    strategies.approve(uow, NAME, version, actor=APPROVER, clock=clock)
    strategies.activate(
        uow, NAME, version, actor=APPROVER, clock=clock, schema=strategy_input_schema()
    )
    return DemoStrategy(
        version=version,
        green_dir=green_dir,
        green_screened=sum(labels.values()),
        green_labelled=labels.get("green", 0),
        prosperity_months=months,
    )


def with_prosperity(
    publish: Callable[[date], T], market_dir: Path, folder: Path
) -> Callable[[date], T]:
    """The month's publication, then the indices rebuilt from the months closed by then."""

    def publish_then_indices(month: date) -> T:
        published = publish(month)
        _publish_indices(market_dir, folder, add_months(month, -1))
        return published

    return publish_then_indices


@dataclass(frozen=True, slots=True)
class OffersByLabel:
    """Offers made under the demo's strategy, by the green label recorded at assessment."""

    label: str
    offers: int
    average_rate: Decimal | None
    limit_fen: int


def offers_by_green_label(platform: Platform) -> list[OffersByLabel]:
    """Offers with their recorded green label (``none``: the screen did not cover them)."""
    return [
        OffersByLabel(label, offers, rate, limit_fen)
        for label, offers, rate, limit_fen in green_offers(platform.database.engine)
    ]
