"""The month-by-month graph facts (models, monitoring) and the batch snapshot say the same.

Both call the rules of ``puhui.graph.distress``; this holds the two callers' inputs (the
window of invoices, the guarantees in force, the enterprise keys) equal on a generated market.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from tests.graph.test_build import AS_OF

from puhui.graph.features import month_facts
from puhui.graph.snapshot import read_table

TABLES = ("bureau", "court_cases", "guarantees", "invoices", "loan_history")


def test_month_facts_agree_with_the_snapshot(small_market: Path, small_graph: Path) -> None:
    frames = {name: pl.scan_parquet(f"{small_market}/tables/{name}/*.parquet") for name in TABLES}
    by_month = month_facts(frames, AS_OF)
    snapshot = read_table(small_graph, "enterprise_facts")
    both = by_month.join(snapshot, on="uscc", suffix="_snapshot")
    assert both.height == by_month.height > 100
    assert both.filter(pl.col("distressed")).height > 0
    assert both.filter(pl.col("contagion_score") > 0).height > 0
    for column in ("distressed", "guarantors_in_distress", "guarantee_circle"):
        differ = both.filter(pl.col(column).ne_missing(pl.col(f"{column}_snapshot")))
        assert differ.is_empty(), f"{column} differs for {differ['uscc'].to_list()[:5]}"
    in_circle = both.filter(pl.col("guarantee_circle").is_not_null())
    assert in_circle.height > 0
    assert (in_circle["circle_exposure_fen"] == in_circle["circle_exposure_fen_snapshot"]).all()
    gap = (both["contagion_score"] - both["contagion_score_snapshot"]).abs().max()
    assert isinstance(gap, float)
    assert gap < 1e-12
