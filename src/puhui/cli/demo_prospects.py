"""The demo's active credit (主动授信) stage: models, the monthly channel, what came of it.

``prospect_channel`` trains the pre-approval's models on the market's history and returns the
channel the simulation asks each month (``bootstrap.demo_prospects``); after the run,
``prospect_results`` records the last conversions and compares the lines opened for prospects
with those opened for walk-ins against the truth (defaults by the window's last day).
"""

from __future__ import annotations

import logging
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from puhui.domain.progress import Progress

if TYPE_CHECKING:
    from puhui.bootstrap import Platform
    from puhui.bootstrap.demo_prospects import LoadedMonth, PlatformProspects
    from puhui.pipelines.simulation import LendingSimulation

logger = logging.getLogger(__name__)


def prospect_channel(
    platform_: Platform, market_dir: Path, first_day: date, progress: Progress
) -> tuple[PlatformProspects, str, float]:
    """Train the need and PD models (data before consent, history before the window); the
    channel, a line on the models for the summary, and the training's seconds."""
    from puhui.bootstrap.demo_prospects import (  # noqa: PLC0415 - heavy
        PlatformProspects,
        shipped_strategy,
        train_demo_models,
    )

    progress.start(None, "pre-approval models: training need and PD (data before consent)")
    strategy = shipped_strategy()
    models, seconds = train_demo_models(market_dir, first_day, strategy)
    line = (
        f"need {models.need.model_id} and PD {models.pd_label}, trained on the market's history "
        f"to {models.as_of:%Y-%m} from {', '.join(sorted(models.sources))}"
    )
    logger.info("pre-approval models: %s (%.1f s)", line, seconds)
    return PlatformProspects(platform_, market_dir, models, strategy), line, seconds


@dataclass(frozen=True)
class LinesGroup:
    """Lines opened for one group of applicants, and how many defaulted in the window."""

    lines: int = 0
    defaulted: int = 0
    mean_pd: float | None = None

    @property
    def bad_rate(self) -> float | None:
        return self.defaulted / self.lines if self.lines else None


@dataclass
class ProspectResults:
    """What the demo's active credit did, for its summary."""

    models: str
    months: list[LoadedMonth]
    linked: int
    lapsed: int
    again: int
    conversions: dict[str, int]
    prospects: LinesGroup
    walk_ins: LinesGroup
    last_day: date
    seconds: dict[str, float] = field(default_factory=dict)


def lines_by_group(
    simulation: LendingSimulation, defaulted: AbstractSet[str]
) -> tuple[LinesGroup, LinesGroup]:
    """Lines opened for prospects' applications and for walk-ins' (one per enterprise)."""
    from_prospects = set() if simulation.prospects is None else simulation.prospects.applications
    uscc = {a.application_id: a.uscc for a in simulation.applications}
    groups: dict[bool, list[str]] = {True: [], False: []}
    for application_id, fate in simulation.booked.items():
        if fate == "line":
            groups[application_id in from_prospects].append(uscc[application_id])

    def group(enterprises: list[str]) -> LinesGroup:
        pds = [
            float(pd)
            for u in enterprises
            if u in simulation.borrowers.lines
            and (pd := simulation.borrowers.lines[u].pd) is not None
        ]
        return LinesGroup(
            lines=len(enterprises),
            defaulted=sum(1 for u in enterprises if u in defaulted),
            mean_pd=sum(pds) / len(pds) if pds else None,
        )

    return group(groups[True]), group(groups[False])


def prospect_results(
    channel: PlatformProspects,
    simulation: LendingSimulation,
    defaulted: AbstractSet[str],
    *,
    models: str,
    last_day: date,
    training_seconds: float,
) -> ProspectResults:
    """Record the conversions still to record, then gather the figures."""
    channel.record_conversions()
    prospects, walk_ins = lines_by_group(simulation, defaulted)
    return ProspectResults(
        models=models,
        months=list(channel.months),
        linked=channel.linked,
        lapsed=channel.lapsed,
        again=channel.again,
        conversions=dict(channel.conversions()),
        prospects=prospects,
        walk_ins=walk_ins,
        last_day=last_day,
        seconds={
            "training": training_seconds,
            "monthly runs": sum(m.seconds for m in channel.months),
        },
    )
