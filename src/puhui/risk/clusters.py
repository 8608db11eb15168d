"""Concentration clusters computed from pulled data (not stored features)."""

from __future__ import annotations

from datetime import date

import polars as pl

CORE_BUYER_MONTHS = 12
"""A supplier's core enterprise: the core buyer it invoiced most in the last 12 months."""


def main_core_buyer(
    invoices: pl.DataFrame, core: pl.DataFrame, seller: str, as_of: date
) -> str | None:
    """The core enterprise ``seller`` invoiced most in the 12 months before ``as_of``'s month
    (ties: the smaller USCC); None when it sold to no core enterprise (a concentration
    cluster, 核心企业). ``invoices`` as the invoice pull has them, ``core`` with ``uscc``."""
    if invoices.height == 0 or core.height == 0:
        return None
    start = date(as_of.year, as_of.month, 1)
    since = date(start.year - 1, start.month, 1)
    sold = (
        invoices.filter(
            (pl.col("seller_uscc") == seller)
            & pl.col("buyer_uscc").is_in(core.get_column("uscc").to_list())
            & (pl.col("month") >= since)
            & (pl.col("month") < start)
        )
        .group_by("buyer_uscc")
        .agg(pl.col("amount_fen").sum())
        .sort(["amount_fen", "buyer_uscc"], descending=[True, False])
    )
    return None if sold.height == 0 else str(sold.item(0, "buyer_uscc"))
