"""The draw-outflow port on a generated market: one enterprise's draws, point in time."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from puhui.adapters.sources.market import MarketDataSource
from puhui.domain.errors import InvalidInput
from puhui.market import schema, store
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.risk.fund_use import fund_use_evidence
from puhui.services.origination.ports import DrawOutflowSource

PARAMS = MarketParams(enterprises=800, months=15, start=date(2024, 1, 1), seed=23)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fund_use") / "market"
    generate_market(PARAMS, out, chunk_size=800)
    return out


@pytest.fixture(scope="module")
def source(market: Path) -> MarketDataSource:
    return MarketDataSource(market)


def _busiest(market: Path) -> tuple[str, pl.DataFrame]:
    rows = store.read(market, "draw_outflows")
    counts = rows.group_by("uscc").agg(pl.col("application_id").n_unique().alias("draws"))
    uscc = counts.sort(["draws", "uscc"], descending=[True, False])["uscc"][0]
    return uscc, rows.filter(pl.col("uscc") == uscc)


def test_the_market_source_serves_the_port(source: MarketDataSource) -> None:
    port: DrawOutflowSource = source  # the adapter satisfies the protocol (checked by mypy)
    out = port.draw_outflows(
        "91350100M000100Y43", date(2024, 1, 1), date(2025, 12, 31), as_of=date(2026, 1, 1)
    )
    assert out.height == 0
    assert out.columns == list(schema.DRAW_OUTFLOWS.column_names)


def test_rows_of_the_draws_in_the_date_range_as_known_on_the_day(
    market: Path, source: MarketDataSource
) -> None:
    uscc, mine = _busiest(market)
    everything = source.draw_outflows(
        uscc, date(2000, 1, 1), date(2100, 1, 1), as_of=date(2100, 1, 1)
    )
    assert everything.sort(everything.columns).equals(mine.sort(mine.columns))
    first = mine["draw_date"].min()
    assert isinstance(first, date)
    only_first = source.draw_outflows(uscc, first, first, as_of=date(2100, 1, 1))
    assert set(only_first["draw_date"].to_list()) == {first}
    # As of the first day after the draw's month, only rows of complete months are known.
    as_of = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    known = source.draw_outflows(uscc, first, first, as_of=as_of)
    assert known.height < only_first.height
    assert (known["month"] < as_of).all()


def test_the_detector_reads_what_the_port_returns(market: Path, source: MarketDataSource) -> None:
    uscc, mine = _busiest(market)
    pulled = source.draw_outflows(uscc, date(2000, 1, 1), date(2100, 1, 1), as_of=date(2100, 1, 1))
    evidence = fund_use_evidence(pulled)
    assert evidence["application_id"].to_list() == sorted(mine["application_id"].unique().to_list())
    assert (evidence["uscc"] == uscc).all()


def test_a_reversed_date_range_is_refused(source: MarketDataSource) -> None:
    with pytest.raises(InvalidInput):
        source.draw_outflows("x", date(2025, 2, 1), date(2025, 1, 1), as_of=date(2026, 1, 1))


def test_a_market_from_before_the_flows_serves_no_rows(market: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(market, old)
    shutil.rmtree(old / schema.DRAW_OUTFLOWS.folder)
    uscc, _ = _busiest(market)
    out = MarketDataSource(old).draw_outflows(
        uscc, date(2000, 1, 1), date(2100, 1, 1), as_of=date(2100, 1, 1)
    )
    assert out.height == 0
