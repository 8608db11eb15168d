"""Wire the concentration evaluation: clusters from the data source, the active limits, alerts.

What the platform knows of a customer's clusters: its industry (GB/T 4754 division), region
(GB/T 2260 code) and industrial park from the registration scope of the data source (the
registry the market simulator or a provider serves), its core enterprise from the invoice
scope (the core buyer it invoiced most in 12 months), and its guarantee circle from the
market's public guarantee graph when a market is configured.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from puhui.adapters.db.collections.unit_of_work import collections_units
from puhui.adapters.db.post_loan.under_alert import SqlUnderAlert
from puhui.bootstrap.container import Platform
from puhui.domain.errors import NotFound
from puhui.domain.origination.consent import DataScope
from puhui.pipelines.monitoring_inputs import guarantee_circles, open_market
from puhui.risk.clusters import main_core_buyer
from puhui.risk.features import CORE_ENTERPRISES
from puhui.services.concentration import Concentration
from puhui.services.concentration_ports import ClusterMembership, EnterpriseClusters, UnderAlert
from puhui.services.monitoring.rules import active_concentration
from puhui.services.origination.assessment import TABLES_KEY
from puhui.services.origination.ports import DataSource

logger = logging.getLogger(__name__)


class DataSourceClusters:
    """Each customer's clusters: industry, region and park from the registration; the core
    enterprise (the core buyer it sold most to) from the invoice pull; the guarantee circle
    from ``circles`` (a function of the date giving USCC -> circle), when one is wired."""

    def __init__(
        self,
        source: DataSource,
        circles: Callable[[date], Mapping[str, str]] | None = None,
    ) -> None:
        self._source = source
        self._circles = circles

    def _core_enterprise(self, customer: str, as_of: date) -> str | None:
        pulled = self._source.pull(customer, DataScope.INVOICE, as_of=as_of)
        tables = pulled.get(TABLES_KEY, {})
        invoices, core = tables.get("invoices"), tables.get(CORE_ENTERPRISES)
        if invoices is None or core is None:
            return None
        return main_core_buyer(invoices, core, customer, as_of)

    def clusters(
        self, customer_ids: Sequence[str], *, as_of: date
    ) -> Mapping[str, ClusterMembership]:
        found = {}
        circles = {} if self._circles is None else self._circles(as_of)
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
                core_enterprise=self._core_enterprise(customer, as_of),
                guarantee_circle=circles.get(customer),
            )
        return found


def market_circles(market_dir: Path) -> Callable[[date], Mapping[str, str]]:
    """Guarantee circles of the market's public guarantee graph, as of the month before."""
    tables = open_market(market_dir)

    def circles(as_of: date) -> Mapping[str, str]:
        month = (date(as_of.year, as_of.month, 1) - timedelta(days=1)).replace(day=1)
        frame = guarantee_circles(tables, month)
        return dict(frame.iter_rows())

    return circles


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
