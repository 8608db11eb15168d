"""Supply-chain finance reads enterprises and invoices through the data-source port.

Over any ``DataSource`` (the market's, in this platform): the registry scope says whether an
enterprise exists and its size band; the invoice scope gives the monthly seller -> buyer
aggregates (months complete before the day asked); the core's facts for the strategy come
from the registration, tax, bureau and court scopes.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from typing import Any

import polars as pl

from puhui.decision.supply_chain import (
    CoreFacts,
    FacilityDecision,
    SupplyChainPolicy,
    core_facts_from_sources,
)
from puhui.domain.clock import Clock
from puhui.domain.origination.consent import DataScope
from puhui.services.origination.ports import DataSource
from puhui.services.supply_chain.ports import EnterpriseInfo

TABLES = "tables"
CORE_SCOPES = (DataScope.REGISTRATION, DataScope.TAX, DataScope.BUREAU, DataScope.COURT)


def _month_after(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _table(pulled: Mapping[str, Any], name: str) -> pl.DataFrame | None:
    frame = pulled.get(TABLES, {}).get(name)
    return frame if isinstance(frame, pl.DataFrame) else None


class DataSourceEnterprises:
    """The ``EnterpriseSource`` port over a data source."""

    def __init__(self, source: DataSource, clock: Clock) -> None:
        self._source = source
        self._clock = clock

    def enterprise(self, uscc: str) -> EnterpriseInfo | None:
        # Registered before tomorrow: an enterprise registered today is known.
        as_of = self._clock.today() + dt.timedelta(days=1)
        pulled = self._source.pull(uscc, DataScope.REGISTRATION, as_of=as_of)
        rows = _table(pulled, "enterprises")
        if rows is None or rows.height == 0:
            return None
        row = rows.row(0, named=True)
        return EnterpriseInfo(uscc=uscc, name=row.get("name"), size_band=str(row["size_band"]))

    def core_facts(self, uscc: str, *, as_of: dt.date, requested_fen: int) -> CoreFacts:
        pulled = {scope.value: self._source.pull(uscc, scope, as_of=as_of) for scope in CORE_SCOPES}
        return core_facts_from_sources(pulled, uscc=uscc, as_of=as_of, requested_fen=requested_fen)

    def _invoices(self, seller: str, *, before: dt.date) -> pl.DataFrame:
        rows = _table(self._source.pull(seller, DataScope.INVOICE, as_of=before), "invoices")
        if rows is None:
            return pl.DataFrame()
        return rows.filter(pl.col("seller_uscc") == seller)

    def invoice_amount(self, seller: str, buyer: str, month: dt.date) -> int | None:
        rows = self._invoices(seller, before=_month_after(month))
        if rows.height == 0:
            return None
        found = rows.filter((pl.col("buyer_uscc") == buyer) & (pl.col("month") == month))
        if found.height == 0:
            return None
        return int(found.get_column("amount_fen").sum())

    def sold_to(self, seller: str, buyer: str, *, since: dt.date, before: dt.date) -> bool:
        rows = self._invoices(seller, before=before)
        if rows.height == 0:
            return False
        found = rows.filter(
            (pl.col("buyer_uscc") == buyer)
            & (pl.col("month") >= since.replace(day=1))
            & (pl.col("amount_fen") > 0)
        )
        return found.height > 0


class LazyPolicy:
    """The shipped supply-chain strategy, compiled on first use (not at import or start)."""

    def __init__(self) -> None:
        self._policy: SupplyChainPolicy | None = None
        self._guard = threading.Lock()

    def _loaded(self) -> SupplyChainPolicy:
        with self._guard:
            if self._policy is None:
                self._policy = SupplyChainPolicy.load()
            return self._policy

    def decide_facility(self, facts: CoreFacts) -> FacilityDecision:
        return self._loaded().decide_facility(facts)

    def discount_rate(self, grade: str) -> Any:
        return self._loaded().discount_rate(grade)

    def fee_rate(self, grade: str) -> Any:
        return self._loaded().fee_rate(grade)
