"""Guarantee circles (互保圈): strongly connected parts of the guarantee graph.

Inside a strongly connected part every member stands, through some chain, behind every other:
one default can run all the way round. The circle's exposure is the exact sum (integer fen) of
the guarantees between its members; its id is its smallest member's credit code, stable while
the members stay. The simple cycles (up to ``MAX_CYCLE_LENGTH``) are kept as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import igraph as ig
import polars as pl

MAX_CYCLE_LENGTH = 6
MAX_CYCLES_PER_CIRCLE = 20


@dataclass(frozen=True, slots=True)
class Circles:
    circles: pl.DataFrame  # circle_id, members, exposure_fen, cycles, members_distressed
    members: pl.DataFrame  # eid, circle_id, exposure_fen


def detect_circles(
    guarantees: pl.DataFrame, index: pl.DataFrame, distressed: pl.DataFrame
) -> Circles:
    """``guarantees``: src (guarantor eid), dst (borrower eid), amount_fen, one row per pair;
    ``index``: eid, uscc; ``distressed``: eid of enterprises in distress."""
    if guarantees.is_empty():
        return Circles(_empty_circles(), _empty_members())
    nodes = pl.concat([guarantees["src"], guarantees["dst"]]).unique().sort()
    position = pl.DataFrame({"eid": nodes, "pos": pl.int_range(len(nodes), eager=True)})
    edges = guarantees.join(position.rename({"eid": "src", "pos": "ps"}), on="src").join(
        position.rename({"eid": "dst", "pos": "pd"}), on="dst"
    )
    graph = ig.Graph(
        n=len(nodes), edges=edges.select("ps", "pd").to_numpy().tolist(), directed=True
    )
    membership = graph.connected_components(mode="strong").membership
    component = pl.DataFrame(
        {"pos": pl.int_range(len(nodes), eager=True), "part": membership}
    ).with_columns(pl.len().over("part").alias("size"))
    in_circle = component.filter(pl.col("size") >= 2)
    if in_circle.is_empty():
        return Circles(_empty_circles(), _empty_members())
    uscc = position.join(index.select("eid", "uscc"), on="eid")
    labelled = in_circle.join(uscc, on="pos")
    ids = labelled.group_by("part").agg(pl.col("uscc").min().alias("circle_id"))
    labelled = labelled.join(ids, on="part")
    inner = (
        edges.join(labelled.select(pl.col("pos").alias("ps"), "part"), on="ps")
        .join(labelled.select(pl.col("pos").alias("pd"), pl.col("part").alias("part_d")), on="pd")
        .filter(pl.col("part") == pl.col("part_d"))
    )
    exposure = inner.group_by("part").agg(pl.col("amount_fen").sum().alias("exposure_fen"))
    cycles = _cycles(graph, labelled)
    circles = (
        labelled.with_columns(pl.col("eid").is_in(distressed["eid"].implode()).alias("bad"))
        .group_by("part", "circle_id")
        .agg(
            pl.col("uscc").sort().alias("members"),
            pl.col("bad").sum().cast(pl.Int32).alias("members_distressed"),
        )
        .join(exposure, on="part")
        .join(cycles, on="part", how="left")
        .with_columns(pl.col("cycles").fill_null(pl.lit([], dtype=pl.List(pl.List(pl.String)))))
        .sort("circle_id")
    )
    members = labelled.join(circles.select("part", "exposure_fen"), on="part").select(
        "eid", "circle_id", "exposure_fen"
    )
    return Circles(
        circles.select("circle_id", "members", "exposure_fen", "cycles", "members_distressed"),
        members,
    )


def _cycles(graph: ig.Graph, labelled: pl.DataFrame) -> pl.DataFrame:
    """Bounded simple cycles inside each circle, as credit codes in guarantee order."""
    names = dict(zip(labelled["pos"].to_list(), labelled["uscc"].to_list(), strict=True))
    parts = dict(zip(labelled["pos"].to_list(), labelled["part"].to_list(), strict=True))
    sub = graph.induced_subgraph(sorted(names))
    original = sorted(names)
    found: dict[int, list[list[str]]] = {}
    vertices = sub.simple_cycles(mode=ig.OUT, min=2, max=MAX_CYCLE_LENGTH, output="vpath")
    for cycle in vertices:
        members = [names[original[v]] for v in cycle]
        part = parts[original[cycle[0]]]
        kept = found.setdefault(part, [])
        if len(kept) < MAX_CYCLES_PER_CIRCLE:
            start = members.index(min(members))
            kept.append(members[start:] + members[:start])
    return pl.DataFrame(
        {"part": list(found), "cycles": [sorted(c) for c in found.values()]},
        schema={"part": pl.Int64, "cycles": pl.List(pl.List(pl.String))},
    )


def _empty_circles() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "circle_id": pl.String,
            "members": pl.List(pl.String),
            "exposure_fen": pl.Int64,
            "cycles": pl.List(pl.List(pl.String)),
            "members_distressed": pl.Int32,
        }
    )


def _empty_members() -> pl.DataFrame:
    return pl.DataFrame(schema={"eid": pl.UInt32, "circle_id": pl.String, "exposure_fen": pl.Int64})
