"""Dealer lending (``puhui.services.dealers``) wired on the site's servicing, data sources,
core registry and enterprise users: used by the API's routes and the pages alike."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from puhui.decision.supply_chain import SupplyChainPolicy
from puhui.domain.errors import ConfigurationError
from puhui.services.dealers import CoreBacking, DealerAccess
from puhui.services.security.permissions import Principal
from puhui.services.supply_chain.use_cases import SupplyChainService
from puhui.web.dependencies import ApiDependencies


@cache
def _policy() -> SupplyChainPolicy:
    return SupplyChainPolicy.load()


def _registry(service: SupplyChainService) -> Callable[[Principal, str, str], CoreBacking]:
    """The platform's core registry behind dealer lines: the core must be onboarded and
    have named the dealer; the line takes the grade of the core's usable facility."""

    def backing(actor: Principal, core: str, dealer: str) -> CoreBacking:
        standing = service.dealer_standing(actor, core=core, dealer=dealer)
        return CoreBacking(named=standing.named, grade=standing.grade)

    return backing


def _bound(service: SupplyChainService) -> Callable[[str], frozenset[str]]:
    """The enterprises an enterprise user is bound to (``/api/v1/enterprise-users``)."""

    def enterprises_of(user_id: str) -> frozenset[str]:
        with service.units() as uow:
            return uow.supply_chain.enterprises_of(user_id)

    return enterprises_of


def dealer_access(deps: ApiDependencies) -> DealerAccess:
    """Dealer lending on the API's servicing, data sources, core registry and enterprise
    users (the pages use it too)."""
    # Mounted only with servicing (see ``create_app``), as is the supply-chain registry.
    if deps.credit is None or deps.supply_chain is None:
        raise ConfigurationError("servicing is not wired in this API")
    return DealerAccess.from_credit(
        deps.credit,
        deps.origination.data_source,
        policy=_policy(),
        registry=_registry(deps.supply_chain),
        bound=_bound(deps.supply_chain),
    )
