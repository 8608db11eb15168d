"""The enterprise source over the data-source port: registry, invoice aggregates, suppliers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl

from puhui.adapters.sources.supply_chain import DataSourceEnterprises
from puhui.domain.clock import FixedClock
from puhui.domain.origination.consent import DataScope

CORE = "91330100MA2CORE01X"
SUPPLIER = "91330100MA2SUPP01X"
TIER2 = "91330100MA2TIER02X"


class Pulls:
    """Serves as the market does: rows of months complete before ``as_of``'s month."""

    def __init__(self) -> None:
        self.invoices = pl.DataFrame(
            {
                "seller_uscc": [SUPPLIER, SUPPLIER, SUPPLIER, TIER2],
                "buyer_uscc": [CORE, CORE, TIER2, SUPPLIER],
                "month": [
                    dt.date(2026, 1, 1),
                    dt.date(2026, 2, 1),
                    dt.date(2026, 1, 1),
                    dt.date(2025, 2, 1),
                ],
                "amount_fen": [1_000_00, 2_000_00, 5_00, 7_00],
            }
        )

    def pull(self, uscc: str, scope: DataScope, *, as_of: dt.date) -> Mapping[str, Any]:
        cutoff = as_of.replace(day=1)
        if scope is DataScope.REGISTRATION:
            rows = pl.DataFrame({"uscc": [uscc], "size_band": ["medium"], "name": ["X"]})
            return {"tables": {"enterprises": rows if uscc != "UNKNOWN" else rows.clear()}}
        if scope is DataScope.INVOICE:
            mine = self.invoices.filter(
                ((pl.col("seller_uscc") == uscc) | (pl.col("buyer_uscc") == uscc))
                & (pl.col("month") < cutoff)
            )
            return {"tables": {"invoices": mine}}
        return {"tables": {}}


def _source() -> DataSourceEnterprises:
    return DataSourceEnterprises(Pulls(), FixedClock(dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)))


def test_registry_names_known_enterprises_and_their_size() -> None:
    source = _source()
    found = source.enterprise(CORE)
    assert found is not None
    assert (found.uscc, found.size_band, found.name) == (CORE, "medium", "X")
    assert source.enterprise("UNKNOWN") is None


def test_invoice_amount_is_the_month_aggregate_from_seller_to_buyer() -> None:
    source = _source()
    assert source.invoice_amount(SUPPLIER, CORE, dt.date(2026, 1, 1)) == 1_000_00
    assert source.invoice_amount(SUPPLIER, CORE, dt.date(2026, 2, 1)) == 2_000_00
    assert source.invoice_amount(CORE, SUPPLIER, dt.date(2026, 1, 1)) is None
    assert source.invoice_amount(SUPPLIER, CORE, dt.date(2026, 3, 1)) is None


def test_a_supplier_sold_to_the_holder_within_the_window() -> None:
    source = _source()
    before = dt.date(2026, 3, 2)
    since = before - dt.timedelta(days=365)
    assert source.sold_to(SUPPLIER, TIER2, since=since, before=before)
    # TIER2 sold to SUPPLIER in February 2025: outside the 12 months before March 2026.
    assert not source.sold_to(TIER2, SUPPLIER, since=since, before=before)
    assert not source.sold_to(CORE, SUPPLIER, since=since, before=before)
