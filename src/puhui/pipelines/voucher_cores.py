"""The market's core enterprises for supply-chain finance: who acts as a core, whom it names.

The market's medium firms (``enterprises.size_band == 'medium'``) that buy from enough
suppliers act as core enterprises (核心企业); each names its largest suppliers of the history
before the window and asks for a facility sized on what it buys from them. What they then
issue, pass down and finance is planned by ``pipelines.voucher_flows``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

import polars as pl

from puhui.domain.lending.schedule import add_months
from puhui.pipelines.voucher_flows import FlowParams


@dataclass(frozen=True, slots=True)
class CoreCandidate:
    """A medium firm that acts as a core: the suppliers it names, the facility it asks for."""

    core: str
    suppliers: tuple[str, ...]
    requested_fen: int
    purchases_fen: int
    """What it bought from the named suppliers over the lookback."""


def select_cores(
    enterprises: pl.DataFrame, invoices: pl.DataFrame, as_of: date, params: FlowParams
) -> list[CoreCandidate]:
    """The medium firms that act as cores at ``as_of`` (the window's first day), largest first.

    ``enterprises`` needs ``uscc`` and ``size_band``; ``invoices`` the market table's
    ``seller_uscc``, ``buyer_uscc``, ``month``, ``amount_fen``. Only invoices of the lookback
    before ``as_of`` count (what the core and the bank know when it is onboarded).
    """
    first = add_months(date(as_of.year, as_of.month, 1), -params.lookback_months)
    medium = enterprises.filter(pl.col("size_band") == "medium").get_column("uscc")
    bought = (
        invoices.filter(
            pl.col("buyer_uscc").is_in(medium.implode())
            & (pl.col("month") >= first)
            & (pl.col("month") < as_of)
            & (pl.col("seller_uscc") != pl.col("buyer_uscc"))
        )
        .group_by("buyer_uscc", "seller_uscc")
        .agg(pl.col("amount_fen").sum().alias("amount_fen"), pl.len().alias("months"))
        .sort(["buyer_uscc", "amount_fen", "seller_uscc"], descending=[False, True, False])
    )
    # A market shorter than the lookback: the mean over the months it has.
    months = max(
        invoices.filter((pl.col("month") >= first) & (pl.col("month") < as_of))
        .get_column("month")
        .n_unique(),
        1,
    )
    candidates = []
    for (core,), rows in bought.group_by("buyer_uscc", maintain_order=True):
        if rows.height < params.min_suppliers:
            continue
        named = rows.head(params.suppliers_per_core)
        purchases = int(named.get_column("amount_fen").sum())
        monthly = purchases // months
        # Asked in whole 10,000 yuan, rounded up.
        requested = -(-monthly * params.requested_months // 1_000_000_00) * 1_000_000_00
        candidates.append(
            CoreCandidate(
                core=str(core),
                suppliers=tuple(named.get_column("seller_uscc").to_list()),
                requested_fen=max(requested, 1_000_000_00),
                purchases_fen=purchases,
            )
        )
    candidates.sort(key=lambda c: (-c.purchases_fen, c.core))
    return candidates[: params.max_cores]


def size_bands_of(
    enterprises: pl.DataFrame, among: Collection[str] | None = None
) -> dict[str, str]:
    """uscc -> size band (``micro | small | medium``) of the market's registry."""
    frame = enterprises.select("uscc", "size_band")
    if among is not None:
        frame = frame.filter(pl.col("uscc").is_in(list(among)))
    return dict(
        zip(
            frame.get_column("uscc").to_list(), frame.get_column("size_band").to_list(), strict=True
        )
    )
