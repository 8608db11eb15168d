"""Active credit (主动授信) in the demo: the pre-approval run, loaded and worked on the platform.

The simulation asks on the first day of each month who is pre-approved
(``pipelines.prospect_channel``). :class:`PlatformProspects` answers as a bank would: it runs
the month's pre-approval on the market's data up to the month before (the engines' local
engine, the shipped strategy's ``preapproval:`` section), loads the list on the demo's
platform (one transaction, stamped with the simulated day) and hands back the listed USCCs.
When one of them applies, the platform links the application to its prospect as it is
submitted (the fast-track: the prospect becomes ``applied``; ``services.prospects.conversion``)
and the manager keying it in confirms the link; once decided, its conversion is recorded the
way an operator would with ``POST /api/v1/prospect-conversions`` (nothing on the platform does
it on a schedule): at the start of each month and at the end of the run.

The models (need and PD, from the sources before consent only) are trained once, on the
market's own history before the first simulated month: point in time, as the bank would train
on its own past; the held-out measures of the issue are in docs/benchmarks.md.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from puhui.bootstrap.container import Platform
from puhui.bootstrap.prospects import BATCH, load_run_on
from puhui.decision.preapproval import PreapprovalMode, preapproval_mode
from puhui.decision.strategy import load_strategy, shipped_strategy_text
from puhui.domain.errors import Conflict
from puhui.domain.lending.schedule import add_months
from puhui.pipelines.engines import Engine, LocalEngine
from puhui.pipelines.marketing_map import customers_by_place
from puhui.pipelines.preapproval import prospect_rows, run_preapproval
from puhui.pipelines.preapproval_models import ProspectModels, train_prospect_models
from puhui.pipelines.simulation import DEMO_MANAGER
from puhui.risk.features import ENTERPRISES, LOAN_HISTORY, MarketTables
from puhui.services.prospects import conversion
from puhui.services.prospects.ports import ProspectExpired, RunMeta

logger = logging.getLogger(__name__)

SHIPPED_STRATEGY = "mse-online-credit"
"""The demo decides with the shipped strategy; its ``preapproval:`` section is the mode."""
CONVERSIONS_PER_CALL = 100_000
"""More than a demo's prospects ever apply: one call records them all."""


def shipped_strategy() -> tuple[str, str]:
    return f"{SHIPPED_STRATEGY}.yaml", shipped_strategy_text(SHIPPED_STRATEGY)


def train_demo_models(
    market: Path, first_day: date, strategy: tuple[str, str]
) -> tuple[ProspectModels, float]:
    """Need and PD models on the market's history up to the month before ``first_day``
    (data before consent only); the seconds it took."""
    started = time.perf_counter()
    as_of = add_months(date(first_day.year, first_day.month, 1), -1)
    mode = _mode(strategy)
    models = train_prospect_models(
        market, as_of, mode.sources_before_consent, trained_at=datetime.now(UTC)
    )
    return models, time.perf_counter() - started


def _mode(strategy: tuple[str, str]) -> PreapprovalMode:
    source, text = strategy
    return preapproval_mode(load_strategy(source, text=text))


@dataclass
class LoadedMonth:
    """One month's run as the demo loaded it."""

    month: date
    """The month the list is worked in (the run's data ends the month before)."""
    listed: int
    customers: int
    """Of the listed, enterprises that already owed the bank (invited for more)."""
    assigned: int
    seconds: float


@dataclass
class PlatformProspects:
    """The demo's :class:`~puhui.pipelines.prospect_channel.ProspectChannel` on its platform."""

    platform: Platform
    market: Path
    models: ProspectModels
    strategy: tuple[str, str]
    engine: Engine = field(default_factory=LocalEngine)
    months: list[LoadedMonth] = field(default_factory=list)
    linked: int = 0
    lapsed: int = 0
    """Applications of listed enterprises after their offer's validity (not fast-tracked)."""
    again: int = 0
    """Second applications of a prospect already linked to its first (not linked)."""
    _live: dict[str, str] = field(default_factory=dict)
    """USCC -> prospect id of the month's list."""

    def month_started(self, month: date) -> list[str]:
        started = time.perf_counter()
        self.record_conversions()
        as_of = add_months(month, -1)
        mode = _mode(self.strategy)
        frame = run_preapproval(
            self.market,
            as_of,
            engine=self.engine,
            need_model=self.models.need,
            risk_model=self.models.pd,
            strategy=self.strategy,
            risk_model_label=self.models.pd_label,
        )
        rows = prospect_rows(frame)
        self._live = {}
        if not rows:
            self.months.append(LoadedMonth(month, 0, 0, 0, time.perf_counter() - started))
            logger.info("prospects %s: the run pre-approved nobody", f"{month:%Y-%m}")
            return []
        tables = MarketTables.from_dir(self.market, names=(ENTERPRISES, LOAN_HISTORY), optional=())
        meta = RunMeta(
            sources=mode.sources_before_consent,
            strategy_version=mode.version,
            model_version=f"{self.models.need.model_id}+{self.models.pd_label}",
            engine=self.engine.name,
            customers=customers_by_place(tables, as_of),
        )
        report = load_run_on(self.platform, rows, run_meta=meta, month=as_of)
        with self.platform.prospect_access().units() as uow:
            listed = uow.prospects.listed(as_of)
        self._live = {uscc: record.prospect_id for uscc, record in listed.items()}
        self.months.append(
            LoadedMonth(
                month,
                report.rows_loaded,
                sum(1 for r in rows if r.is_customer),
                report.assigned,
                time.perf_counter() - started,
            )
        )
        logger.info(
            "prospects %s: %d pre-approved as of %s, loaded as run %s",
            f"{month:%Y-%m}",
            report.rows_loaded,
            f"{as_of:%Y-%m}",
            report.run_id,
        )
        return sorted(self._live)

    def applied(self, uscc: str, application_id: str, on: date) -> None:
        """The manager keying the application links it to the prospect (fast-track; the
        platform has linked it on submission already when the offer is live)."""
        prospect_id = self._live.get(uscc)
        if prospect_id is None:
            return
        try:
            conversion.link_application(
                self.platform.prospect_access(),
                actor=DEMO_MANAGER,
                prospect_id=prospect_id,
                application_id=application_id,
            )
        except ProspectExpired:
            self.lapsed += 1
            return
        except Conflict:
            # Applying again after a decline: the prospect keeps its first application.
            self.again += 1
            return
        self.linked += 1

    def record_conversions(self) -> int:
        """Record how every decided application of a prospect ended (idempotent)."""
        return conversion.record_conversions(
            self.platform.prospect_access(), actor=BATCH, limit=CONVERSIONS_PER_CALL
        )

    def conversions(self) -> Counter[str]:
        """Linked prospects by conversion: approved, declined, or still ``pending``."""
        counted: Counter[str] = Counter()
        access = self.platform.prospect_access()
        with access.units() as uow:
            for run in self.months:
                for record in uow.prospects.listed(add_months(run.month, -1)).values():
                    if record.application_id is None:
                        continue
                    done = record.conversion
                    counted["pending" if done is None else done.value] += 1
        return counted
