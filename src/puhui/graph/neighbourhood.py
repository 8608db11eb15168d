"""An enterprise's neighbourhood in a graph snapshot: the ties a person checks, with evidence.

The console and the API show an applicant's surroundings to the staff who decide it: the
people, phones, addresses, devices and accounts it shares, the enterprises it trades with or
guarantees, and what the build found about them (rings, guarantee circles, invoice round
trips, distress). A picture holds a few dozen nodes at most, so the strongest ties are kept
first (partners in the same ring, circle or round trip), and every node says how many ties it
has that are not drawn.

A snapshot is loaded once (``SnapshotCache``): ties are aggregated and indexed by node, so one
enterprise's neighbourhood is a few sorted look-ups, never a scan of the edge table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Final

import polars as pl

from puhui.domain.privacy import mask_text
from puhui.graph.loaded import LoadedSnapshot, degrees, rows, ties_of
from puhui.graph.snapshot import ENTERPRISE_PREFIX

MAX_NODES: Final = 40
"""Nodes in one picture, the enterprise included: more stops being readable."""
MAX_FANOUT: Final = 8
"""Nodes drawn hanging from one node (partners aside): a shared IP address of a carrier, tying
hundreds, shows as one node with its count instead of filling the picture."""
MAX_ROUND_TRIPS: Final = 5
"""Round trips an evidence list names (the latest)."""
FLAGS: Final = ("ring", "circle", "round_trip", "distressed")
"""What the build found about an enterprise, in the order a picture shows it."""

EVIDENCE_TEMPLATES: Final[dict[str, str]] = {
    "ring": "Member of ring %(ring)s with %(members)s enterprises (score %(score)s).",
    "ring_finding": "%(text)s",
    "circle": (
        "In guarantee circle %(circle)s: %(members)s enterprises guarantee %(exposure_fen)s"
        " for one another; %(distressed)s of them in distress."
    ),
    "round_trip": (
        "Invoices went round %(cycle)s in the window closing %(month)s: at least %(amount_fen)s"
        " on each leg, amounts within %(spread)s of one another."
    ),
    "shared_contacts": "Shares a phone, address, device or account with %(count)s enterprises.",
    "applications_30d": "%(count)s applications in the 30 days to the graph's month end.",
    "packaging": "Signs of intermediary packaging on its applications (score %(score)s).",
    "inflation": (
        "Its data look freshly inflated: settlement inflow pumped, paid out to related"
        " parties, enquiries piling up (score %(score)s)."
    ),
    "round_trip_ratio": "%(ratio)s of its sales in 12 months came back through invoice cycles.",
    "distressed": "In public distress (lawsuits, enforcement) at the graph's month.",
    "guarantors_in_distress": "%(count)s of the enterprises guaranteeing it are in distress.",
    "contagion": "Distress of its partners reaches it (contagion score %(score)s).",
}
"""English sentences of the evidence, by code; the pages translate the same texts. A value
named ``*_fen`` is money, ``ratio`` and ``spread`` shares, ``score`` a 0..1 score
(``evidence_values`` writes them out)."""


@dataclass(frozen=True, slots=True)
class NeighbourNode:
    node: str
    """``E:<uscc>`` or ``<kind>:<hash>`` (never a clear identifier)."""
    kind: str
    label: str
    """Readable and masked: a person's ID number or a phone shows only its ends."""
    depth: int
    """Ties between it and the enterprise: 0 for the enterprise itself."""
    flags: tuple[str, ...]
    degree: int
    """Its ties in the whole graph; those beyond the picture are ``degree`` minus the drawn."""
    parent: str | None
    """The node it hangs from in the picture (None for the enterprise)."""


@dataclass(frozen=True, slots=True)
class NeighbourEdge:
    src: str
    dst: str
    kind: str
    amount_fen: int | None
    """Invoices: the window's total; guarantees: the amount; identifiers: None."""
    months: int
    first_month: date
    last_month: date


@dataclass(frozen=True, slots=True)
class Evidence:
    source: str
    """``rings``, ``circles``, ``round_trips`` or ``enterprise_facts``: the table it comes from."""
    code: str
    values: dict[str, str | int | float]
    text: str


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    centre: str
    as_of: date
    depth: int
    nodes: tuple[NeighbourNode, ...]
    """The enterprise first, then by closeness and strength of tie."""
    edges: tuple[NeighbourEdge, ...]
    evidence: tuple[Evidence, ...]
    hidden: int
    """Nodes within ``depth`` left out to keep the picture readable."""


def _uscc(node: str) -> str | None:
    return node[len(ENTERPRISE_PREFIX) :] if node.startswith(ENTERPRISE_PREFIX) else None


def _kind(node: str) -> str:
    return "enterprise" if node.startswith(ENTERPRISE_PREFIX) else node.split(":", 1)[0]


# --- the neighbourhood ---------------------------------------------------------------------


@dataclass
class _Candidate:
    node: str
    depth: int
    parents: set[str] = field(default_factory=set)
    amount_fen: int = 0


def neighbourhood(
    snapshot: LoadedSnapshot, uscc: str, *, depth: int = 2, max_nodes: int = MAX_NODES
) -> Neighbourhood | None:
    """The enterprise's surroundings to ``depth`` ties (1 or 2), at most ``max_nodes`` nodes.

    None when the snapshot does not know the enterprise. Kept first: partners in its ring,
    guarantee circle or invoice round trips; then its own ties (identifiers shared with the
    most enterprises, the largest amounts); then the enterprises two ties away, those tied by
    more paths first. Leaf identifiers two ties away (tying to nothing else drawn) are left out.
    """
    if depth not in (1, 2):
        raise ValueError("a neighbourhood is 1 or 2 ties deep")
    if max_nodes < 2:
        raise ValueError("a neighbourhood shows the enterprise and at least one node")
    centre = ENTERPRISE_PREFIX + uscc
    fact = rows(snapshot.facts, "uscc", [uscc])
    first_ties = ties_of(snapshot, [centre])
    if (
        fact.is_empty()
        and first_ties.is_empty()
        and rows(snapshot.nodes, "node", [centre]).is_empty()
    ):
        return None
    candidates: dict[str, _Candidate] = {}
    _collect(candidates, first_ties, {centre}, depth=1)
    if depth == 2:
        second = ties_of(snapshot, list(candidates))
        _collect(candidates, second, set(candidates) | {centre}, depth=2, skip={centre})
    partners = _partners(snapshot, uscc, fact) - {centre}
    counts = degrees(snapshot, [centre, *sorted(candidates)])
    chosen = _choose(candidates, partners, counts, max_nodes - 1)
    shown = {centre, *chosen}
    all_ties = first_ties if depth == 1 else pl.concat([first_ties, second]).unique("tie")
    drawn = sorted(shown)
    edges = _edges(all_ties.filter(pl.col("src").is_in(drawn) & pl.col("dst").is_in(drawn)))
    nodes = _nodes(snapshot, centre, chosen, candidates, counts)
    return Neighbourhood(
        centre=centre,
        as_of=snapshot.report.as_of,
        depth=depth,
        nodes=nodes,
        edges=edges,
        evidence=tuple(_evidence(snapshot, uscc, fact)),
        hidden=len(candidates) - len(chosen),
    )


def _collect(
    candidates: dict[str, _Candidate],
    ties: pl.DataFrame,
    inner: set[str],
    *,
    depth: int,
    skip: set[str] | None = None,
) -> None:
    """Add the far ends of ``ties`` from the ``inner`` nodes as candidates at ``depth``."""
    for src, dst, amount in ties.select("src", "dst", "amount_fen").iter_rows():
        for near, far in ((src, dst), (dst, src)):
            if near not in inner or far in (skip or set()):
                continue
            if far in inner and candidates.get(far, _Candidate(far, 0)).depth < depth:
                continue
            found = candidates.setdefault(far, _Candidate(far, depth))
            if found.depth == depth:
                if depth > 1:
                    found.parents.add(near)
                found.amount_fen += int(amount or 0)


def _choose(
    candidates: dict[str, _Candidate],
    partners: set[str],
    degrees: dict[str, int],
    room: int,
) -> dict[str, str | None]:
    """The nodes drawn with the node each hangs from, strongest ties first, within ``room``."""

    def rank(c: _Candidate) -> tuple[int, int, int, int, int, str]:
        if c.node in partners:
            tier = 0
        elif c.depth == 1:
            tier = 1
        else:
            tier = 2 if c.node.startswith(ENTERPRISE_PREFIX) else 3
        return (tier, c.depth, -len(c.parents), -c.amount_fen, -degrees.get(c.node, 0), c.node)

    order = sorted(
        (
            c
            for c in candidates.values()
            # An identifier two ties away shows only when it ties two drawn neighbours.
            if c.depth == 1 or c.node.startswith(ENTERPRISE_PREFIX) or len(c.parents) >= 2
        ),
        key=rank,
    )
    position = {c.node: i for i, c in enumerate(order)}
    chosen: dict[str, str | None] = {}
    hanging: dict[str, int] = {}
    for candidate in order:
        if candidate.node in chosen:
            continue
        parent: str | None = None
        if candidate.depth == 2:
            # The strongest of its ties in with room left: one already drawn if there is one.
            open_parents = [
                p
                for p in candidate.parents
                if candidate.node in partners or hanging.get(p, 0) < MAX_FANOUT
            ]
            if not open_parents:
                continue
            parent = min(
                open_parents, key=lambda p: (p not in chosen, position.get(p, len(order)), p)
            )
        needed = 1 + (parent is not None and parent not in chosen)
        if len(chosen) + needed > room:
            continue
        if parent is not None:
            hanging[parent] = hanging.get(parent, 0) + 1
            if parent not in chosen:
                chosen[parent] = None
        chosen[candidate.node] = parent
    return chosen


def _partners(snapshot: LoadedSnapshot, uscc: str, fact: pl.DataFrame) -> set[str]:
    """The enterprises in the same ring, guarantee circle or invoice round trip."""
    members: set[str] = set()
    if not fact.is_empty():
        ring_id, circle_id = fact["ring_id"][0], fact["guarantee_circle"][0]
        if ring_id is not None:
            for row in snapshot.rings.filter(pl.col("ring_id") == ring_id)["members"]:
                members.update(row)
        if circle_id is not None:
            for row in snapshot.circles.filter(pl.col("circle_id") == circle_id)["members"]:
                members.update(row)
    for row in _round_trips(snapshot, uscc)["members"]:
        members.update(row)
    return {ENTERPRISE_PREFIX + m for m in members}


def _round_trips(snapshot: LoadedSnapshot, uscc: str) -> pl.DataFrame:
    found = rows(snapshot.round_trip_members, "member", [uscc])["row"].sort()
    return snapshot.round_trips[found.cast(pl.Int64).to_list()].sort("month", "cycle_id")


def _edges(ties: pl.DataFrame) -> tuple[NeighbourEdge, ...]:
    return tuple(
        NeighbourEdge(
            src=row["src"],
            dst=row["dst"],
            kind=row["kind"],
            amount_fen=row["amount_fen"],
            months=row["months"],
            first_month=row["first_month"],
            last_month=row["last_month"],
        )
        for row in ties.sort("src", "dst", "kind").iter_rows(named=True)
    )


def _nodes(
    snapshot: LoadedSnapshot,
    centre: str,
    chosen: dict[str, str | None],
    candidates: dict[str, _Candidate],
    degrees: dict[str, int],
) -> tuple[NeighbourNode, ...]:
    ids = [centre, *chosen]
    labels = dict(rows(snapshot.nodes, "node", ids).select("node", "label").iter_rows())
    usccs = [u for u in map(_uscc, ids) if u is not None]
    facts = {row["uscc"]: row for row in rows(snapshot.facts, "uscc", usccs).iter_rows(named=True)}
    # Parents before their children; then by closeness and as chosen (strongest first).
    order = {node: i for i, node in enumerate(chosen)}
    ids.sort(key=lambda n: (0 if n == centre else candidates[n].depth, order.get(n, -1)))
    return tuple(
        NeighbourNode(
            node=node,
            kind=_kind(node),
            label=_label(node, labels.get(node)),
            depth=0 if node == centre else candidates[node].depth,
            flags=_flags(facts.get(_uscc(node) or "")),
            degree=degrees.get(node, 0),
            parent=None if node == centre else (chosen[node] or centre),
        )
        for node in ids
    )


def _label(node: str, label: str | None) -> str:
    uscc = _uscc(node)
    if uscc is not None:
        return label or uscc
    kind, _, key = node.partition(":")
    # Masked again here: a label written in clear by some builder never reaches a page.
    return mask_text(label) if label else f"{kind} …{key[-4:]}"


def _flags(fact: dict[str, object] | None) -> tuple[str, ...]:
    if fact is None:
        return ()
    found = {
        "ring": fact.get("ring_id") is not None,
        "circle": fact.get("guarantee_circle") is not None,
        "round_trip": bool(fact.get("round_trip")),
        "distressed": bool(fact.get("distressed")),
    }
    return tuple(flag for flag in FLAGS if found[flag])


# --- evidence ------------------------------------------------------------------------------


def _yuan(amount_fen: int) -> str:
    return f"{amount_fen // 100:,}.{amount_fen % 100:02d} yuan"


def evidence_values(
    values: dict[str, str | int | float], *, yuan: Callable[[int], str] = _yuan
) -> dict[str, str]:
    """An evidence's values as its sentence shows them (``yuan`` writes money)."""
    shown: dict[str, str] = {}
    for name, value in values.items():
        if name.endswith("_fen") and isinstance(value, int):
            shown[name] = yuan(value)
        elif name in ("ratio", "spread") and isinstance(value, int | float):
            shown[name] = f"{value:.0%}"
        elif name == "score" and isinstance(value, int | float):
            shown[name] = f"{value:.2f}"
        else:
            shown[name] = str(value)
    return shown


def _said(source: str, code: str, **values: str | int | float) -> Evidence:
    return Evidence(source, code, values, EVIDENCE_TEMPLATES[code] % evidence_values(values))


def _evidence(snapshot: LoadedSnapshot, uscc: str, fact: pl.DataFrame) -> list[Evidence]:
    found: list[Evidence] = []
    row = fact.row(0, named=True) if not fact.is_empty() else {}
    if row.get("ring_id") is not None:
        for ring in snapshot.rings.filter(pl.col("ring_id") == row["ring_id"]).iter_rows(
            named=True
        ):
            found.append(
                _said(
                    "rings",
                    "ring",
                    ring=ring["ring_id"],
                    members=len(ring["members"]),
                    score=float(ring["score"] or 0.0),
                )
            )
            found.extend(
                _said("rings", "ring_finding", text=mask_text(text))
                for text in ring["evidence"] or ()
            )
    if row.get("guarantee_circle") is not None:
        for circle in snapshot.circles.filter(
            pl.col("circle_id") == row["guarantee_circle"]
        ).iter_rows(named=True):
            found.append(
                _said(
                    "circles",
                    "circle",
                    circle=circle["circle_id"],
                    members=len(circle["members"]),
                    exposure_fen=int(circle["exposure_fen"] or 0),
                    distressed=circle["members_distressed"] or 0,
                )
            )
    # The latest few cycles: a heavy round-tripper closes one every month.
    latest = _round_trips(snapshot, uscc).reverse().head(MAX_ROUND_TRIPS)
    for trip in latest.iter_rows(named=True):
        members = list(trip["members"])
        found.append(
            _said(
                "round_trips",
                "round_trip",
                cycle=" → ".join([*members, members[0]]) if members else trip["cycle_id"],
                month=trip["month"].strftime("%Y-%m"),
                amount_fen=int(trip["amount_fen"] or 0),
                spread=float(trip["spread"] or 0.0),
            )
        )
    found.extend(_fact_evidence(row))
    return found


def _fact_evidence(row: dict[str, object]) -> list[Evidence]:
    def number(name: str) -> float:
        value = row.get(name)
        return float(value) if isinstance(value, int | float) else 0.0

    said: list[Evidence] = []
    source = "enterprise_facts"
    if number("shared_contact_count") > 0:
        said.append(_said(source, "shared_contacts", count=int(number("shared_contact_count"))))
    if number("applications_30d") > 1:
        said.append(_said(source, "applications_30d", count=int(number("applications_30d"))))
    if round(number("packaging_score"), 2) > 0:
        said.append(_said(source, "packaging", score=number("packaging_score")))
    if round(number("inflation_score"), 2) > 0:
        said.append(_said(source, "inflation", score=number("inflation_score")))
    if round(number("invoice_round_trip_ratio"), 2) > 0:
        said.append(_said(source, "round_trip_ratio", ratio=number("invoice_round_trip_ratio")))
    if row.get("distressed"):
        said.append(_said(source, "distressed"))
    if number("guarantors_in_distress") > 0:
        said.append(
            _said(source, "guarantors_in_distress", count=int(number("guarantors_in_distress")))
        )
    if round(number("contagion_score"), 2) > 0:
        said.append(_said(source, "contagion", score=number("contagion_score")))
    return said
