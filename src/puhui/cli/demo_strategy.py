"""The demo's strategy stage (issue #18): version 2 of the credit strategy, with a green
pricing discount and a limit cut in an industry downturn, put in force by four eyes before
lending; after the run, the offers made by the green label recorded at assessment."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from puhui.cli.demo_report import Section
from puhui.domain.money import format_yuan
from puhui.domain.progress import Progress

if TYPE_CHECKING:
    from puhui.bootstrap import Platform
    from puhui.bootstrap.demo_strategy import DemoStrategy, OffersByLabel

TITLE = "Strategy in force (策略版本): green discount, downturn limit cut"


def strategy_stage(
    platform_: Platform, market_dir: Path, first_day: date, workdir: Path, progress: Progress
) -> DemoStrategy:
    """Screen, build the indices and activate version 2 (before the ports are built)."""
    from puhui.bootstrap.demo_strategy import put_demo_strategy_in_force  # noqa: PLC0415

    progress.start(None, "strategy: green screen, prosperity indices, version 2 by four eyes")
    return put_demo_strategy_in_force(platform_, market_dir, first_day, workdir)


def strategy_section(strategy: DemoStrategy, offers: list[OffersByLabel]) -> Section:
    from puhui.bootstrap.demo_strategy import (  # noqa: PLC0415
        APPROVER,
        AUTHOR,
        CLEAN_ENERGY_EXTRA,
        DOWNTURN_BELOW,
        DOWNTURN_MULTIPLIER,
        GREEN_DISCOUNT,
        NAME,
    )

    rows: list[tuple[str, ...]] = [
        (
            f"offers, green label {o.label}:",
            f"{o.offers:,}",
            "-" if o.average_rate is None else f"{o.average_rate * 100:.3f}%",
            format_yuan(o.limit_fen),
        )
        for o in offers
    ]
    return Section(
        TITLE,
        ("", "offers", "average rate", "limits (RMB)"),
        rows=rows,
        notes=[
            f"{NAME} version {strategy.version}: drafted by {AUTHOR}, approved and activated by "
            f"{APPROVER} (four eyes) before the first application",
            f"pricing.adjustments: green {GREEN_DISCOUNT} on the spread, clean energy "
            f"{CLEAN_ENERGY_EXTRA} more; limit.adjustments: ×{DOWNTURN_MULTIPLIER} when the "
            f"industry's prosperity index is under {DOWNTURN_BELOW}",
            f"green screen of {strategy.green_screened:,} enterprises "
            f"({strategy.green_labelled:,} green) in {strategy.green_dir}; prosperity indices "
            f"of {strategy.prosperity_months} months before lending, rebuilt each month",
        ],
        numeric=frozenset({1, 2, 3}),
    )
