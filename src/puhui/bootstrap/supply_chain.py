"""The supply-chain finance service wired to the configured platform (the API, the demo).

Enterprises and invoices come from the configured market (``PUHUI_MARKET_DIR``) through the
data-source port; the facility strategy is the shipped supply-chain document.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from puhui.adapters.db.supply_chain.unit_of_work import SupplyChainUnitOfWork
from puhui.adapters.sources.supply_chain import DataSourceEnterprises, LazyPolicy
from puhui.bootstrap.container import Platform
from puhui.domain.clock import Clock
from puhui.domain.errors import ConfigurationError
from puhui.services.origination.ports import DataSource
from puhui.services.supply_chain.ports import EnterpriseSource, FacilityPolicy
from puhui.services.supply_chain.use_cases import SupplyChainService

if TYPE_CHECKING:
    from sqlalchemy import Engine


def supply_chain_service_on(
    engine: Engine,
    *,
    clock: Clock,
    audit_key: bytes,
    source: EnterpriseSource,
    policy: FacilityPolicy | None = None,
) -> SupplyChainService:
    """The service on an engine, with the enterprises and policy given (tests, the API)."""
    return SupplyChainService(
        units=partial(SupplyChainUnitOfWork, engine, clock=clock, audit_key=audit_key),
        clock=clock,
        source=source,
        policy=policy or LazyPolicy(),
    )


def enterprises_from(data_source: DataSource, clock: Clock) -> EnterpriseSource:
    return DataSourceEnterprises(data_source, clock)


def supply_chain_service(
    platform: Platform, *, data_source: DataSource | None = None
) -> SupplyChainService:
    """The service on a built platform; enterprises from ``data_source`` or the configured
    market (a market is needed: onboarding, invoices and transfers read it)."""
    if data_source is None:
        market = platform.settings.market_dir
        if market is None:
            raise ConfigurationError(
                "supply-chain finance reads enterprises and invoices: set PUHUI_MARKET_DIR"
            )
        from puhui.adapters.sources.market import MarketDataSource  # noqa: PLC0415 - heavy

        data_source = MarketDataSource(market)
    return supply_chain_service_on(
        platform.database.engine,
        clock=platform.clock,
        audit_key=platform.audit_key,
        source=enterprises_from(data_source, platform.clock),
    )
