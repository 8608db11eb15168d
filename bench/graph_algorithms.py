"""Which library for which part of the graph: igraph against pure Polars joins, measured.

Usage:
    PYTHONPATH=src .venv/bin/python bench/graph_algorithms.py --market DIR --as-of YYYY-MM

Two questions, on the build's own inputs (ADR 0027 records the answers):
1. Groups of enterprises on the shared-identifier projection: connected components by
   iterated Polars min-label joins, igraph's connected components, igraph Leiden (weighted
   modularity, and the constant Potts model the build uses) and Louvain (modularity). Time,
   number of groups of 3+, the largest group, and ring quality (truth ring members in a group
   of 3+; members of such groups that are truth ring members).
2. Short invoice cycles (2-4) with near-equal amounts: the build's bucketed Polars joins
   against igraph's bounded simple cycles on the same edges (amounts checked afterwards).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import igraph as ig
import polars as pl

from puhui.graph import round_trips as rt
from puhui.graph.identifiers import identifier_links, merged_links
from puhui.graph.rings import identifier_degrees, projection
from puhui.graph.sources import Sources, parse_as_of
from puhui.graph.trade import invoice_edges


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = fn()
    return value, round(time.perf_counter() - started, 2)


def polars_components(pairs: pl.DataFrame) -> pl.DataFrame:
    """Connected components by min-label propagation: each round every node takes the
    smallest label among itself and its neighbours, until nothing changes."""
    both = pl.concat(
        [
            pairs.select(pl.col("a").alias("x"), pl.col("b").alias("y")),
            pairs.select(pl.col("b").alias("x"), pl.col("a").alias("y")),
        ]
    )
    labels = (
        both.select(pl.col("x").alias("eid"))
        .unique()
        .with_columns(pl.col("eid").cast(pl.Int64).alias("label"))
    )
    while True:
        better = (
            both.join(labels.rename({"eid": "y", "label": "ly"}), on="y")
            .group_by(pl.col("x").alias("eid"))
            .agg(pl.col("ly").min())
        )
        new = labels.join(better, on="eid", how="left").select(
            "eid", pl.min_horizontal("label", "ly").alias("label")
        )
        if new.join(labels, on=["eid", "label"], how="anti").is_empty():
            return new.rename({"label": "community"})
        labels = new


def igraph_groups(pairs: pl.DataFrame, method: str) -> pl.DataFrame:
    nodes = pl.concat([pairs["a"], pairs["b"]]).unique().sort()
    pos = pl.DataFrame({"eid": nodes, "p": pl.int_range(len(nodes), eager=True)})
    edges = pairs.join(pos.rename({"eid": "a", "p": "pa"}), on="a").join(
        pos.rename({"eid": "b", "p": "pb"}), on="b"
    )
    graph = ig.Graph(n=len(nodes), edges=edges.select("pa", "pb").to_numpy().tolist())
    weights = edges["w"].to_list()
    if method == "components":
        membership = graph.connected_components().membership
    elif method == "leiden":
        membership = graph.community_leiden(
            objective_function="modularity", weights=weights, n_iterations=-1
        ).membership
    elif method == "leiden_cpm":
        membership = graph.community_leiden(
            objective_function="CPM", resolution=0.05, weights=weights, n_iterations=-1
        ).membership
    else:
        membership = graph.community_multilevel(weights=weights).membership
    return pl.DataFrame({"eid": nodes, "community": membership})


def _quality(groups: pl.DataFrame, ring_eids: pl.Series) -> dict[str, object]:
    sized = groups.with_columns(pl.len().over("community").alias("size"))
    big = sized.filter(pl.col("size") >= 3)
    hit = int(ring_eids.is_in(big["eid"].implode()).sum())
    right = int(big["eid"].is_in(ring_eids.implode()).sum())
    return {
        "groups_3_plus": big["community"].n_unique(),
        "largest": int(sized["size"].max() or 0),
        "ring_members_in_groups": round(hit / max(1, ring_eids.len()), 4),
        "group_members_in_rings": round(right / max(1, big.height), 4),
    }


def igraph_cycles(edges: pl.DataFrame) -> int:
    """Bounded simple cycles on the pair graph, then the same amount and month test."""
    pairs = edges.select("s", "d").unique()
    nodes = pl.concat([pairs["s"], pairs["d"]]).unique().sort()
    pos = dict(zip(nodes.to_list(), range(len(nodes)), strict=True))
    graph = ig.Graph(
        n=len(nodes),
        edges=[(pos[s], pos[d]) for s, d in pairs.iter_rows()],
        directed=True,
    )
    by_pair: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for s, d, m, x in edges.select("s", "d", "m", "x").iter_rows():
        by_pair.setdefault((s, d), []).append((m, x))
    found = 0
    for cycle in graph.simple_cycles(mode=ig.OUT, min=2, max=4):
        ids = [int(nodes[v]) for v in cycle]
        hops = [by_pair[(ids[i], ids[(i + 1) % len(ids)])] for i in range(len(ids))]
        found += int(_near_equal_instance(hops))
    return found


def _near_equal_instance(hops: list[list[tuple[int, int]]]) -> bool:
    """Whether one invoice per hop fits within the months and the spread (small lists)."""

    def walk(i: int, low: int, high: int, m_lo: int, m_hi: int) -> bool:
        if i == len(hops):
            return high - low <= rt.MAX_SPREAD * high
        for m, x in hops[i]:
            lo, hi, a, b = min(low, x), max(high, x), min(m_lo, m), max(m_hi, m)
            if (
                b - a <= rt.CYCLE_SPAN_MONTHS
                and hi - lo <= rt.MAX_SPREAD * hi
                and walk(i + 1, lo, hi, a, b)
            ):
                return True
        return False

    return walk(0, 2**62, 0, 2**31, -(2**31))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--market", type=Path, required=True)
    parser.add_argument("--as-of", required=True)
    args = parser.parse_args()
    as_of = parse_as_of(args.as_of)
    sources = Sources.open(args.market, as_of)
    index = (
        sources.enterprises()
        .collect()
        .with_columns(pl.int_range(pl.len(), dtype=pl.UInt32).alias("eid"))
    )
    truth = pl.read_parquet(f"{args.market}/truth/enterprises_truth/*.parquet")
    ring_eids = index.join(truth.filter(pl.col("fraud_ring_id").is_not_null()), on="uscc")["eid"]
    links = merged_links(identifier_links(sources, index).frame)
    pairs = projection(identifier_degrees(links))
    result: dict[str, object] = {"projection_pairs": pairs.height}
    for name, fn in (
        ("polars_min_label_components", lambda: polars_components(pairs)),
        ("igraph_components", lambda: igraph_groups(pairs, "components")),
        ("igraph_leiden_modularity", lambda: igraph_groups(pairs, "leiden")),
        ("igraph_leiden_cpm_0.05", lambda: igraph_groups(pairs, "leiden_cpm")),
        ("igraph_louvain", lambda: igraph_groups(pairs, "louvain")),
    ):
        groups, seconds = _timed(fn)
        result[name] = {"seconds": seconds, **_quality(groups, ring_eids)}
    invoices = invoice_edges(sources, index).frame
    window = invoices.filter(pl.col("month") >= rt._window_start(as_of))
    edges = window.select(
        pl.col("src").alias("s"),
        pl.col("dst").alias("d"),
        rt._month_index("month"),
        pl.col("amount_fen").alias("x"),
        (pl.col("amount_fen").cast(pl.Float64).log() / math.log(rt.BUCKET_RATIO))
        .floor()
        .cast(pl.Int32)
        .alias("b"),
    )
    cyclic, scc_seconds = _timed(lambda: rt._cyclic_edges(edges))
    joins, join_seconds = _timed(lambda: rt.find_cycles(cyclic))
    distinct = sum(
        c.select([f"n{i}" for i in range(k)]).unique().height for k, c in enumerate(joins, start=2)
    )
    counted, igraph_seconds = _timed(lambda: igraph_cycles(cyclic))
    result["cycles"] = {
        "window_invoice_rows": edges.height,
        "rows_in_strong_parts": cyclic.height,
        "igraph_scc_seconds": scc_seconds,
        "polars_bucketed_joins": {"seconds": join_seconds, "cycles": distinct},
        "igraph_simple_cycles_then_amounts": {"seconds": igraph_seconds, "cycles": counted},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
