"""Dealer lending (``puhui.services.dealers``) wired on the site's servicing, data sources,
core registry and enterprise users: used by the API's routes and the pages alike."""

from __future__ import annotations

from puhui.bootstrap.dealers import dealer_access_on
from puhui.domain.errors import ConfigurationError
from puhui.services.dealers import DealerAccess
from puhui.web.dependencies import ApiDependencies


def dealer_access(deps: ApiDependencies) -> DealerAccess:
    """Dealer lending on the API's servicing, data sources, core registry and enterprise
    users (the pages use it too)."""
    # Mounted only with servicing (see ``create_app``), as is the supply-chain registry.
    if deps.credit is None or deps.supply_chain is None:
        raise ConfigurationError("servicing is not wired in this API")
    credit = deps.credit
    return dealer_access_on(
        credit.servicing_uow, deps.origination.data_source, credit.today, deps.supply_chain
    )
