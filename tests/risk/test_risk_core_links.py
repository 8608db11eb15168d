"""Links to core enterprises (核心企业): counted from invoices, the same in batch and online."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from puhui.adapters.sources.market import MarketDataSource
from puhui.domain.origination.consent import DataScope
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.risk.features import CORE_ENTERPRISES, FEN_SMOOTHING, MarketTables, compute_features
from puhui.services.origination.assessment import tables_from_pull

MONTH = date(2025, 4, 1)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market")
    generate_market(MarketParams(enterprises=600, months=18, start=date(2024, 1, 1), seed=5), out)
    return out


def test_core_links_and_sales_share_read_as_defined(market: Path) -> None:
    tables = MarketTables.from_dir(market)
    features = compute_features(tables, MONTH)
    core = set(tables[CORE_ENTERPRISES].collect().get_column("uscc"))
    enterprises = tables["enterprises"].collect()
    assert core == set(enterprises.filter(pl.col("size_band") == "medium").get_column("uscc"))
    invoices = (
        tables["invoices"]
        .filter((pl.col("month") >= date(2024, 4, 1)) & (pl.col("month") < MONTH))
        .collect()
    )
    linked = features.filter(pl.col("invoice_core_links_12m") > 0)
    assert linked.height > 10
    for row in linked.head(10).iter_rows(named=True):
        uscc = row["uscc"]
        sold = invoices.filter(pl.col("seller_uscc") == uscc)
        bought = invoices.filter(pl.col("buyer_uscc") == uscc)
        buyers = set(sold.get_column("buyer_uscc")) & core
        suppliers = set(bought.get_column("seller_uscc")) & core
        assert row["invoice_core_links_12m"] == len(buyers) + len(suppliers)
        to_core = sold.filter(pl.col("buyer_uscc").is_in(list(core)))["amount_fen"].sum()
        share = to_core / (sold["amount_fen"].sum() + FEN_SMOOTHING) if sold.height else None
        assert row["invoice_core_sales_share"] == pytest.approx(share, rel=1e-9)


def test_an_online_pull_gives_the_core_links_the_batch_gives(market: Path) -> None:
    source = MarketDataSource(market)
    batch = compute_features(MarketTables.from_dir(market), MONTH)
    linked = batch.filter(pl.col("invoice_core_links_12m") > 0).head(15)
    for row in linked.iter_rows(named=True):
        pulled = source.pull(row["uscc"], DataScope.INVOICE, as_of=date(2025, 4, 9))
        assert set(pulled["tables"]) == {"invoices", CORE_ENTERPRISES}
        data = {
            scope: source.pull(row["uscc"], scope, as_of=date(2025, 4, 9)) for scope in DataScope
        }
        online = compute_features(tables_from_pull(data), MONTH).row(0, named=True)
        for name in ("invoice_core_links_12m", "invoice_core_sales_share"):
            assert online[name] == pytest.approx(row[name], rel=1e-12), name
