"""The marketing map (营销地图): prospects, estimated need, customers and penetration.

For one month's list, by region code, industry group or park:
- ``prospects``: live pre-approved enterprises that are not customers yet;
- ``need_fen``: their estimated need added up (the run's point estimates, fen);
- ``customers``: existing customers there, as the run counted them over the whole market
  (``RunMeta.customers``); a run that gave no counts falls back to its listed enterprises
  flagged as customers;
- ``penetration`` = customers / (customers + prospects): the share of the enterprises the bank
  serves or may serve now that it already serves (None when both are zero).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from puhui.domain.prospects import NO_PARK, penetration
from puhui.services.prospects.access import ProspectAccess
from puhui.services.prospects.ports import ClusterCount
from puhui.services.security.permissions import Permission, Principal, require


class MapDimension(StrEnum):
    REGION = "region"
    INDUSTRY = "industry"
    PARK = "park"


@dataclass(frozen=True, slots=True)
class MapRow:
    key: str
    prospects: int
    need_fen: int
    customers: int

    @property
    def penetration(self) -> Decimal | None:
        return penetration(self.customers, self.prospects)


@dataclass(frozen=True, slots=True)
class MarketingMap:
    month: dt.date | None
    dimension: MapDimension
    rows: tuple[MapRow, ...]


def _key(cluster: tuple[str, str, str | None], dimension: MapDimension) -> str:
    region, industry, park = cluster
    if dimension is MapDimension.REGION:
        return region
    if dimension is MapDimension.INDUSTRY:
        return industry
    return park or NO_PARK


def aggregate(
    clusters: Iterable[ClusterCount],
    customers: dict[tuple[str, str, str | None], int] | None,
    dimension: MapDimension,
) -> tuple[MapRow, ...]:
    """Rows by the dimension's key, most prospects first (then by key)."""
    prospects: dict[str, int] = defaultdict(int)
    need: dict[str, int] = defaultdict(int)
    served: dict[str, int] = defaultdict(int)
    for cluster in clusters:
        key = _key((cluster.region_code, cluster.industry_group, cluster.park), dimension)
        prospects[key] += cluster.prospects
        need[key] += cluster.need_fen
        if customers is None:
            served[key] += cluster.listed_customers
    for cluster_key, count in (customers or {}).items():
        served[_key(cluster_key, dimension)] += count
    keys = set(prospects) | set(served)
    rows = [MapRow(k, prospects.get(k, 0), need.get(k, 0), served.get(k, 0)) for k in keys]
    rows.sort(key=lambda r: (-r.prospects, r.key))
    return tuple(rows)


def marketing_map(
    access: ProspectAccess,
    *,
    actor: Principal,
    dimension: MapDimension,
    month: dt.date | None = None,
) -> MarketingMap:
    """The map of ``month`` (default: the latest month loaded)."""
    require(actor, Permission.PROSPECT_READ)
    with access.units() as uow:
        chosen = month or uow.prospects.latest_month()
        if chosen is None:
            return MarketingMap(None, dimension, ())
        run = uow.prospects.latest_run(chosen)
        clusters = uow.prospects.clusters(chosen)
    counts = None if run is None or run.meta.customers is None else dict(run.meta.customers)
    return MarketingMap(chosen, dimension, aggregate(clusters, counts, dimension))
