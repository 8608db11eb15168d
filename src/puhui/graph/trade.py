"""Invoices and guarantees as integer edge lists, with the odd rows counted and set aside.

Enterprises are numbered (``eid``, UInt32) once per build; the edge lists carry numbers, not
credit codes, so tens of millions of monthly invoice rows fit in a few hundred megabytes.
A row naming an enterprise the registry lacks (dangling), a row from an enterprise to itself
(self-loop) and a row given twice (duplicate) are dropped and counted, never fatal.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from puhui.graph.sources import Sources


@dataclass(frozen=True, slots=True)
class EdgeList:
    """``src``/``dst`` enterprise numbers, ``month`` and ``amount_fen``; plus what was dropped."""

    frame: pl.DataFrame
    dangling: int
    self_loops: int
    duplicates: int


def _encode(
    rows: pl.LazyFrame, index: pl.LazyFrame, src: str, dst: str, month: str
) -> pl.LazyFrame:
    ids = index.select("uscc", "eid")
    return (
        rows.join(ids, left_on=src, right_on="uscc", how="left")
        .rename({"eid": "src"})
        .join(ids, left_on=dst, right_on="uscc", how="left")
        .rename({"eid": "dst"})
        .select("src", "dst", pl.col(month).alias("month"), "amount_fen")
    )


def _clean(encoded: pl.DataFrame, key: list[str]) -> EdgeList:
    dangling_mask = encoded["src"].is_null() | encoded["dst"].is_null()
    dangling = int(dangling_mask.sum())
    known = encoded.filter(~dangling_mask)
    loops_mask = known["src"] == known["dst"]
    self_loops = int(loops_mask.sum())
    proper = known.filter(~loops_mask)
    unique = proper.unique(key, keep="first", maintain_order=True)
    return EdgeList(unique, dangling, self_loops, proper.height - unique.height)


def invoice_edges(sources: Sources, index: pl.DataFrame) -> EdgeList:
    """Monthly seller -> buyer invoice totals up to the as-of month."""
    encoded = _encode(
        sources.invoices(), index.lazy(), "seller_uscc", "buyer_uscc", "month"
    ).collect(engine="streaming")
    return _clean(encoded, ["src", "dst", "month"])


def guarantee_edges(sources: Sources, index: pl.DataFrame) -> EdgeList:
    """Guarantor -> borrower guarantees in force by the as-of month (``month`` = start)."""
    encoded = _encode(
        sources.guarantees(), index.lazy(), "guarantor_uscc", "borrower_uscc", "start_month"
    ).collect()
    return _clean(encoded, ["src", "dst"])
