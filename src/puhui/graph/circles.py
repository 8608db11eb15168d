"""Guarantee circles (互保圈): strongly connected parts of the guarantee graph.

Inside a strongly connected part every member stands, through some chain, behind every other:
one default can run all the way round. The circle's exposure is the exact sum (integer fen) of
the guarantees between its members; its id is its smallest member's credit code, stable while
the members stay. The simple cycles (up to ``MAX_CYCLE_LENGTH``) are kept as evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from puhui.lazy import lazy_module

if TYPE_CHECKING:
    import igraph as ig
else:
    ig = lazy_module("igraph")

MAX_CYCLE_LENGTH = 6
MAX_CYCLES_PER_CIRCLE = 20
MAX_SEARCH_STEPS = 200_000
"""Edges one circle's cycle search may follow: bounds the search in a large sparse circle too,
where short cycles are few and most paths never close."""


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
    """Bounded simple cycles inside each circle, as credit codes in guarantee order.

    Evidence, not the measure: a dense circle of a few dozen members has more short cycles
    than atoms in a galaxy, so each circle is searched on its own and the search stops at
    ``MAX_CYCLES_PER_CIRCLE`` cycles or ``MAX_SEARCH_STEPS`` steps, whichever comes first.
    """
    names = dict(zip(labelled["pos"].to_list(), labelled["uscc"].to_list(), strict=True))
    members_of: dict[int, list[int]] = {}
    for pos, part in zip(labelled["pos"].to_list(), labelled["part"].to_list(), strict=True):
        members_of.setdefault(part, []).append(pos)
    adjacency = graph.get_adjlist(mode="out")
    found: dict[int, list[list[str]]] = {}
    for part, members in sorted(members_of.items()):
        cycles = _circle_cycles(adjacency, sorted(members))
        if cycles:
            found[part] = sorted(_rotated([names[v] for v in cycle]) for cycle in cycles)
    return pl.DataFrame(
        {"part": list(found), "cycles": list(found.values())},
        schema={"part": pl.Int64, "cycles": pl.List(pl.List(pl.String))},
    )


def _circle_cycles(adjacency: list[list[int]], members: list[int]) -> list[list[int]]:
    """Simple cycles of at most ``MAX_CYCLE_LENGTH`` members inside one strongly connected part.

    Each cycle is found once, from its lowest vertex: a path from ``start`` only visits
    vertices above it. Depth-first with an explicit stack, stopping early at the caps."""
    inside = set(members)
    cycles: list[list[int]] = []
    steps = 0
    for start in members:
        path = [start]
        on_path = {start}
        stack = [iter(adjacency[start])]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                on_path.discard(path.pop())
                continue
            steps += 1
            if steps > MAX_SEARCH_STEPS:
                return cycles
            if step == start and len(path) >= 2:
                cycles.append(list(path))
                if len(cycles) >= MAX_CYCLES_PER_CIRCLE:
                    return cycles
            elif (
                step > start
                and step in inside
                and step not in on_path
                and len(path) < MAX_CYCLE_LENGTH
            ):
                path.append(step)
                on_path.add(step)
                stack.append(iter(adjacency[step]))
    return cycles


def _rotated(members: list[str]) -> list[str]:
    """The cycle read from its smallest credit code: one spelling per cycle."""
    first = members.index(min(members))
    return members[first:] + members[:first]


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
