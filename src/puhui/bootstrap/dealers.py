"""Dealer lending (``puhui.services.dealers``) wired on the platform: servicing, the data
sources, the supply-chain core registry (the core must be onboarded and have named the
dealer) and the enterprise users (a dealer's own users draw on its lines)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import cache

from puhui.bootstrap.container import Platform
from puhui.bootstrap.supply_chain import supply_chain_service
from puhui.decision.supply_chain import SupplyChainPolicy
from puhui.domain.errors import ConfigurationError
from puhui.services.dealers import CoreBacking, DealerAccess
from puhui.services.origination.ports import DataSource
from puhui.services.security.permissions import Principal
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.services.supply_chain.use_cases import SupplyChainService


@cache
def dealer_policy() -> SupplyChainPolicy:
    """The shipped supply-chain document, loaded once per process."""
    return SupplyChainPolicy.load()


def core_registry(service: SupplyChainService) -> Callable[[Principal, str, str], CoreBacking]:
    """The platform's core registry behind dealer lines: the core must be onboarded and
    have named the dealer; the line takes the grade of the core's usable facility."""

    def backing(actor: Principal, core: str, dealer: str) -> CoreBacking:
        standing = service.dealer_standing(actor, core=core, dealer=dealer)
        return CoreBacking(named=standing.named, grade=standing.grade)

    return backing


def bound_enterprises(service: SupplyChainService) -> Callable[[str], frozenset[str]]:
    """The enterprises an enterprise user is bound to (``/api/v1/enterprise-users``)."""

    def enterprises_of(user_id: str) -> frozenset[str]:
        with service.units() as uow:
            return uow.supply_chain.enterprises_of(user_id)

    return enterprises_of


def dealer_access_on(
    servicing_uow: Callable[[], ServicingUnitOfWork],
    data_source: DataSource,
    today: Callable[[], date],
    supply_chain: SupplyChainService,
) -> DealerAccess:
    return DealerAccess(
        servicing_uow,
        data_source,
        today,
        policy=dealer_policy(),
        registry=core_registry(supply_chain),
        bound=bound_enterprises(supply_chain),
    )


def dealer_access(platform: Platform, *, data_source: DataSource | None = None) -> DealerAccess:
    """Dealer lending on a built platform (the CLI): the configured market is needed
    (sizing reads the dealer's purchases; the registry reads the enterprises)."""
    if data_source is None:
        market = platform.settings.market_dir
        if market is None:
            raise ConfigurationError(
                "dealer lines read enterprises and invoices: set PUHUI_MARKET_DIR"
            )
        from puhui.adapters.sources.market import MarketDataSource  # noqa: PLC0415 - heavy

        data_source = MarketDataSource(market)
    service = supply_chain_service(platform, data_source=data_source)
    return dealer_access_on(platform.servicing_uow, data_source, platform.clock.today, service)
