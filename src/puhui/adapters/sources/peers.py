"""Peer benchmarks over a generated market's population: quartiles by industry and size band.

Only aggregates leave this module: for each industry group and size band, the quartiles of
the 12-month declared sales, their year-on-year change and the settlement account's net
margin among enterprises with twelve months of returns; a cell of fewer than ``MIN_PEERS``
enterprises is suppressed (``None``), and its count is still given so the report can say so.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import polars as pl

from puhui.market import store
from puhui.services.advisor.ports import MIN_PEERS, PeerAnswer, PeerCell

MEASURES = ("sales_12m_fen", "sales_yoy", "net_margin")


def _month_add(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


class MarketPeers:
    """``PeerBenchmarks`` over a market folder; one month's cells computed once, then kept."""

    def __init__(self, market_dir: Path | str, *, min_peers: int = MIN_PEERS) -> None:
        market = Path(market_dir)
        store.read_manifest(market)
        self._tax = store.read(market, "tax_monthly").select("uscc", "month", "declared_sales_fen")
        self._settlement = store.read(market, "settlement_monthly").select(
            "uscc", "month", "inflow_fen", "outflow_fen"
        )
        self._enterprises = store.read(market, "enterprises").select(
            "uscc", "industry_group", "size_band"
        )
        self._min = min_peers
        self._cache: dict[date, pl.DataFrame] = {}
        self._lock = threading.Lock()

    def measures(self, as_of: date) -> pl.DataFrame:
        """One row per enterprise with twelve months of returns to ``as_of``: its measures."""
        year_ago = _month_add(as_of, -12)
        two_years = _month_add(as_of, -24)
        tax = (
            self._tax.filter((pl.col("month") > two_years) & (pl.col("month") <= as_of))
            .group_by("uscc")
            .agg(
                pl.col("declared_sales_fen")
                .filter(pl.col("month") > year_ago)
                .sum()
                .alias("sales_12m_fen"),
                pl.col("declared_sales_fen")
                .filter(pl.col("month") <= year_ago)
                .sum()
                .alias("_prior"),
                (pl.col("month") > year_ago).sum().alias("_recent"),
            )
            .filter(pl.col("_recent") == 12)
            .with_columns(
                pl.when(pl.col("_prior") > 0)
                .then(pl.col("sales_12m_fen") / pl.col("_prior") - 1.0)
                .alias("sales_yoy")
            )
        )
        flows = (
            self._settlement.filter((pl.col("month") > year_ago) & (pl.col("month") <= as_of))
            .group_by("uscc")
            .agg(pl.col("inflow_fen").sum().alias("_in"), pl.col("outflow_fen").sum().alias("_out"))
            .with_columns(
                pl.when(pl.col("_in") > 0)
                .then((pl.col("_in") - pl.col("_out")) / pl.col("_in"))
                .alias("net_margin")
            )
        )
        return (
            tax.join(flows, on="uscc", how="left")
            .join(self._enterprises, on="uscc", how="inner")
            .select("uscc", "industry_group", "size_band", *MEASURES)
        )

    def _cells(self, as_of: date) -> pl.DataFrame:
        with self._lock:
            found = self._cache.get(as_of)
            if found is None:
                rows = self.measures(as_of)
                found = rows.group_by("industry_group", "size_band").agg(
                    expr
                    for m in MEASURES
                    for expr in (
                        pl.col(m).drop_nulls().len().alias(f"{m}:n"),
                        pl.col(m).quantile(0.25, "nearest").alias(f"{m}:q1"),
                        pl.col(m).quantile(0.5, "nearest").alias(f"{m}:median"),
                        pl.col(m).quantile(0.75, "nearest").alias(f"{m}:q3"),
                    )
                )
                self._cache[as_of] = found
            return found

    def cells(self, industry_group: str, size_band: str, as_of: date) -> PeerAnswer:
        table = self._cells(as_of).filter(
            (pl.col("industry_group") == industry_group) & (pl.col("size_band") == size_band)
        )
        cells: dict[str, PeerCell | None] = {}
        counts: dict[str, int] = {}
        row = table.row(0, named=True) if table.height else None
        for m in MEASURES:
            n = int(row[f"{m}:n"]) if row is not None else 0
            counts[m] = n
            if row is None or n < self._min:
                cells[m] = None
                continue
            cells[m] = PeerCell(
                peers=n,
                q1=float(row[f"{m}:q1"]),
                median=float(row[f"{m}:median"]),
                q3=float(row[f"{m}:q3"]),
            )
        return PeerAnswer(cells, counts)
