"""Wire the concentration evaluation: clusters from the data source, the active limits, alerts.

What the platform knows of a customer's clusters today: its industry (GB/T 4754 division),
region (GB/T 2260 code) and industrial park from the registration scope of the data source
(the registry the market simulator or a provider serves). Core enterprise and guarantee
circle are not known yet (the relationship graph does not feed them): null for everyone,
so those dimensions never breach until they are wired.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date
from functools import partial
from typing import Any

from puhui.adapters.db.collections.unit_of_work import collections_units
from puhui.adapters.db.post_loan.under_alert import SqlUnderAlert
from puhui.bootstrap.container import Platform
from puhui.domain.errors import NotFound
from puhui.domain.origination.consent import DataScope
from puhui.services.concentration import Concentration
from puhui.services.concentration_ports import ClusterMembership, EnterpriseClusters, UnderAlert
from puhui.services.monitoring.rules import active_concentration
from puhui.services.origination.assessment import TABLES_KEY
from puhui.services.origination.ports import DataSource

logger = logging.getLogger(__name__)


class DataSourceClusters:
    """Industry, region and park of each customer from the data source's registration."""

    def __init__(self, source: DataSource) -> None:
        self._source = source

    def clusters(
        self, customer_ids: Sequence[str], *, as_of: date
    ) -> Mapping[str, ClusterMembership]:
        found = {}
        for customer in customer_ids:
            try:
                pulled = self._source.pull(customer, DataScope.REGISTRATION, as_of=as_of)
            except NotFound:
                continue
            frame: Any = pulled.get(TABLES_KEY, {}).get("enterprises")
            if frame is None or frame.height == 0:
                continue
            row = frame.row(0, named=True)
            found[customer] = ClusterMembership(
                industry=row.get("industry_code"),
                region=row.get("region_code"),
                park=row.get("park"),
            )
        return found


def concentration_service(
    platform: Platform,
    *,
    clusters: EnterpriseClusters | None = None,
    under_alert: UnderAlert | None = None,
) -> Concentration:
    """The evaluation over the platform's book, tightening the configured strategy."""
    settings = platform.settings
    units = collections_units(
        platform.database.engine,
        clock=platform.clock,
        audit_key=platform.audit_key,
        cipher=settings.field_cipher(),
    )
    parts: dict[str, Any] = {"under_alert": under_alert or SqlUnderAlert(platform.monitoring_uow)}
    if clusters is not None:
        parts["clusters"] = clusters
    return Concentration(
        uow=units,
        limits=partial(active_concentration, platform.strategy_uow),
        clock=platform.clock,
        strategies_uow=platform.strategy_uow,
        strategy_name=settings.strategy,
        **parts,
    )
