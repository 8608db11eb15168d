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


def _packed_key(frame: pl.DataFrame, by_month: bool) -> pl.Series:
    """One UInt64 per (src, dst[, month]): 26 + 26 + 12 bits, so finding repeats among tens
    of millions of rows hashes one column instead of three."""
    months = pl.col("month").dt.year().cast(pl.Int64) * 12 + pl.col("month").dt.month()
    offset = (months - months.min()).cast(pl.UInt64) if by_month else pl.lit(0, pl.UInt64)
    return frame.select(
        (
            pl.col("src").cast(pl.UInt64) * (1 << 38)
            + pl.col("dst").cast(pl.UInt64) * (1 << 12)
            + offset
        ).alias("key")
    ).to_series()


def _clean(encoded: pl.DataFrame, *, by_month: bool) -> EdgeList:
    """Drop (and count) dangling rows, self-loops and repeats of a (src, dst[, month]) key:
    invoices are one row per pair and month, guarantees one per pair."""
    dangling = int((encoded["src"].is_null() | encoded["dst"].is_null()).sum())
    self_loops = int((encoded["src"] == encoded["dst"]).sum())
    proper = encoded.filter(
        pl.col("src").is_not_null() & pl.col("dst").is_not_null() & (pl.col("src") != pl.col("dst"))
    )
    first = _packed_key(proper, by_month).is_first_distinct()
    duplicates = proper.height - int(first.sum())
    if duplicates:
        proper = proper.filter(first)
    return EdgeList(proper, dangling, self_loops, duplicates)


def invoice_edges(sources: Sources, index: pl.DataFrame) -> EdgeList:
    """Monthly seller -> buyer invoice totals up to the as-of month."""
    rows = _encode(sources.invoices(), index.lazy(), "seller_uscc", "buyer_uscc", "month")
    return _clean(rows.collect(engine="streaming"), by_month=True)


def guarantee_edges(sources: Sources, index: pl.DataFrame) -> EdgeList:
    """Guarantor -> borrower guarantees in force by the as-of month (``month`` = start)."""
    encoded = _encode(
        sources.guarantees(), index.lazy(), "guarantor_uscc", "borrower_uscc", "start_month"
    ).collect()
    return _clean(encoded, by_month=False)
