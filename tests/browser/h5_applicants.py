"""Owners of the live site's market who may apply on the H5 pages and be approved.

The live site's demo books the applications the market sends it; an enterprise that never
applied is free to apply now. Among those, the helper takes enterprises whose legal
representative represents no other enterprise, whose phone no other enterprise shares (the
anti-fraud screening counts both) and that have no court case, and orders them by the
market's hidden base health, healthiest first: a test fixture may read the market's truth to
choose its applicant, the platform never does. The order is deterministic for a market.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from puhui.market import store


@dataclass(frozen=True, slots=True)
class MarketOwner:
    uscc: str
    id_number: str
    phone: str
    name: str


@cache
def fresh_owners(market_dir: Path, count: int = 8) -> tuple[MarketOwner, ...]:
    """The ``count`` healthiest enterprises of the market that never applied, with owners."""
    enterprises = store.scan(market_dir, "enterprises").collect()
    owners = store.scan(market_dir, "owners").select(
        "id_number", pl.col("phone").alias("owner_phone"), "enterprises_represented"
    )
    applied = store.scan(market_dir, "applications").select("uscc").unique().collect()
    sued = store.scan(market_dir, "court_cases").select("uscc").unique().collect()
    truth = store.scan(market_dir, "enterprises_truth").select(
        "uscc", "base_health", "default_month", "fraud_ring_id"
    )
    shared_phones = (
        enterprises.group_by("phone").len().filter(pl.col("len") > 1).get_column("phone")
    )
    chosen = (
        enterprises.lazy()
        .join(owners, left_on="legal_rep_id_number", right_on="id_number")
        .join(truth, on="uscc")
        .filter(
            ~pl.col("uscc").is_in(applied.get_column("uscc").implode())
            & ~pl.col("uscc").is_in(sued.get_column("uscc").implode())
            & ~pl.col("phone").is_in(shared_phones.implode())
            & (pl.col("enterprises_represented") == 1)
            & pl.col("default_month").is_null()
            & pl.col("fraud_ring_id").is_null()
            & (pl.col("size_band") != "medium")
        )
        .sort(["base_health", "uscc"], descending=[True, False])
        .head(count)
        .collect()
    )
    return tuple(
        MarketOwner(r["uscc"], r["legal_rep_id_number"], r["owner_phone"], r["name"])
        for r in chosen.iter_rows(named=True)
    )
