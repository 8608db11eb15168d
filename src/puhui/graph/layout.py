"""A radial layout of a neighbourhood: the enterprise in the middle, its ties on rings around it.

Force-free and deterministic: the same neighbourhood always draws the same picture (a reviewer
who opens an application again sees what they saw), and nothing random or iterative runs per
request. Each node of the first ring gets an arc in proportion to the nodes hanging from it, and
those sit on the second ring within that arc, so no tie crosses another sector.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from puhui.graph.neighbourhood import Neighbourhood, NeighbourNode

KIND_ORDER: Final = ("enterprise", "person", "phone", "address", "account", "device", "ip")
"""Around the first ring: trading and guarantee partners, then identifiers kind by kind."""
LEAF_ARC: Final = 1.8
"""A first-ring node with few nodes hanging from it still gets this many second-ring slots of
arc: the first ring is shorter, so its nodes would otherwise crowd."""


@dataclass(frozen=True, slots=True)
class Point:
    """Where a node sits: ``x`` right and ``y`` down, in rings (the enterprise's ties are at
    distance 1, theirs at 2), and its ``angle`` in radians clockwise from the right."""

    x: float
    y: float
    angle: float


def radial_layout(hood: Neighbourhood) -> dict[str, Point]:
    """A position for every node of ``hood``: the first ring starts at the top, clockwise."""
    children: dict[str, list[NeighbourNode]] = {}
    for node in hood.nodes:
        if node.depth == 2 and node.parent is not None:
            children.setdefault(node.parent, []).append(node)
    first = sorted(
        (n for n in hood.nodes if n.depth == 1),
        key=lambda n: KIND_ORDER.index(n.kind) if n.kind in KIND_ORDER else len(KIND_ORDER),
    )
    points = {hood.centre: Point(0.0, 0.0, -math.pi / 2)}
    weights = [max(LEAF_ARC, float(len(children.get(n.node, ())))) for n in first]
    total = sum(weights)
    start = -math.pi / 2
    for node, weight in zip(first, weights, strict=True):
        span = 2 * math.pi * weight / total
        points[node.node] = _at(1.0, start + span / 2)
        hanging = children.get(node.node, [])
        for i, child in enumerate(hanging):
            points[child.node] = _at(2.0, start + span * (i + 0.5) / len(hanging))
        start += span
    return points


def _at(radius: float, angle: float) -> Point:
    return Point(
        round(radius * math.cos(angle), 6), round(radius * math.sin(angle), 6), round(angle, 6)
    )
