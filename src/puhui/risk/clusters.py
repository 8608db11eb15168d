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
    cores = set(core.get_column("uscc").to_list())
    # One enterprise's pull is a few dozen rows: a loop over them costs a few µs where a
    # Polars query (filter, group, sort) costs a few hundred. Missing values count as a
    # Polars filter and sum count them: a row without a month or buyer is left out, a
    # missing amount adds nothing.
    sold: dict[str, int] = {}
    for seller_uscc, buyer, month, amount in zip(
        invoices.get_column("seller_uscc").to_list(),
        invoices.get_column("buyer_uscc").to_list(),
        invoices.get_column("month").to_list(),
        invoices.get_column("amount_fen").to_list(),
        strict=True,
    ):
        if (
            seller_uscc == seller
            and buyer in cores
            and month is not None
            and since <= month < start
        ):
            sold[buyer] = sold.get(buyer, 0) + (amount or 0)
    if not sold:
        return None
    # The most invoiced; on a tie, the smaller USCC.
    return min(sold.items(), key=lambda item: (-item[1], item[0]))[0]
