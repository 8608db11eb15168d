"""Wire the simulation's monthly post-loan cycle over the platform's database.

The monitoring run reads the market through :class:`MarketSignalSource` (market data, the
behavioural model, fund use, servicing's facts); tasks are worked through the monitoring
services with collections' hand-over; the concentration evaluation takes its clusters from
the data source. Everything is written to the platform's database, as the API serves it.
"""

from __future__ import annotations

from pathlib import Path

from puhui.adapters.db.collections.unit_of_work import collections_units
from puhui.adapters.db.post_loan.signals import ServicingSignalSource
from puhui.adapters.sources.market import MarketDataSource
from puhui.bootstrap.api import collections_hand_over, owner_phone
from puhui.bootstrap.concentration import (
    DataSourceClusters,
    concentration_service,
    market_circles,
)
from puhui.bootstrap.container import Platform
from puhui.bootstrap.monitoring import MarketSignalSource
from puhui.bootstrap.wiring import origination_units, prosperity_source
from puhui.pipelines.post_loan import PostLoanCycle, PostLoanParts
from puhui.pipelines.simulation import DEMO_MANAGER, DEMO_SUPERVISOR
from puhui.risk.behaviour import BehaviouralModel
from puhui.services.monitoring.access import MonitoringAccess
from puhui.services.monitoring.run import RunSetup

POST_LOAN_CHUNK = 2_000
"""Customers per monitoring chunk in the simulation: few chunks, few passes over the market."""


def post_loan_cycle(
    platform: Platform,
    market_dir: Path,
    *,
    data_source: MarketDataSource,
    model: BehaviouralModel | None,
    chunk_size: int = POST_LOAN_CHUNK,
) -> PostLoanCycle:
    """The cycle the simulation calls on each month's first day (``SimulationParts.month_end``)."""
    engine = platform.database.engine
    # The platform's prosperity indices, as they stand at each run (the demo rebuilds them at
    # each month's publication): the industry and region downturn signals.
    source = MarketSignalSource(
        ServicingSignalSource(engine),
        market_dir,
        model=model,
        data_source=data_source,
        prosperity=prosperity_source(platform),
    )
    collections = collections_units(
        engine,
        clock=platform.clock,
        audit_key=platform.audit_key,
        cipher=platform.settings.field_cipher(),
    )
    return PostLoanCycle(
        PostLoanParts(
            run=RunSetup(
                units=platform.monitoring_uow,
                strategies_uow=platform.strategy_uow,
                source=source,
                clock=platform.clock,
                chunk_size=chunk_size,
            ),
            tasks=MonitoringAccess(
                units=platform.monitoring_uow,
                servicing_uow=platform.servicing_uow,
                today=platform.clock.today,
                now=platform.clock.now,
                hand_over=collections_hand_over(collections, platform.clock),
                borrower_phone=owner_phone(origination_units(platform).reader),
            ),
            collections=collections,
            concentration=concentration_service(
                platform, clusters=DataSourceClusters(data_source, market_circles(market_dir))
            ),
            manager=DEMO_MANAGER,
            supervisor=DEMO_SUPERVISOR,
        )
    )
