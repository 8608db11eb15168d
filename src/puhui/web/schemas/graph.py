"""Bodies of the relationship graph: an application's neighbourhood (staff only)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from puhui.graph.neighbourhood import Neighbourhood


class GraphNodeOut(BaseModel):
    node: str = Field(description="E:<uscc> for an enterprise, <kind>:<salted hash> otherwise")
    kind: str = Field(description="enterprise, person, phone, address, account, device or ip")
    label: str = Field(description="readable; ID numbers and phones masked")
    depth: int = Field(description="ties from the application's enterprise (0: itself)")
    flags: list[str] = Field(description="ring, circle, round_trip, distressed")
    degree: int = Field(description="its ties in the whole graph, drawn or not")
    parent: str | None = Field(description="the node it hangs from in the picture")


class GraphEdgeOut(BaseModel):
    src: str
    dst: str
    kind: str = Field(
        description="legal_rep, phone, address, account, device, ip, invoice, guarantee"
    )
    amount_fen: int | None = Field(
        description="invoices: the 12 months' total; guarantees: the amount; else null"
    )
    months: int
    first_month: date
    last_month: date


class GraphEvidenceOut(BaseModel):
    source: str = Field(description="rings, circles, round_trips or enterprise_facts")
    code: str
    values: dict[str, str | int | float]
    text: str = Field(description="the sentence in English")


class NeighbourhoodOut(BaseModel):
    """The enterprise's surroundings in the latest relationship graph, strongest ties first."""

    as_of: date = Field(description="the month the graph was built for (its first day)")
    centre: str
    depth: int
    nodes: list[GraphNodeOut]
    edges: list[GraphEdgeOut]
    evidence: list[GraphEvidenceOut]
    hidden: int = Field(description="nodes within depth left out of the picture")


def neighbourhood_out(hood: Neighbourhood) -> NeighbourhoodOut:
    return NeighbourhoodOut(
        as_of=hood.as_of,
        centre=hood.centre,
        depth=hood.depth,
        nodes=[
            GraphNodeOut(
                node=n.node,
                kind=n.kind,
                label=n.label,
                depth=n.depth,
                flags=list(n.flags),
                degree=n.degree,
                parent=n.parent,
            )
            for n in hood.nodes
        ],
        edges=[
            GraphEdgeOut(
                src=e.src,
                dst=e.dst,
                kind=e.kind,
                amount_fen=e.amount_fen,
                months=e.months,
                first_month=e.first_month,
                last_month=e.last_month,
            )
            for e in hood.edges
        ],
        evidence=[
            GraphEvidenceOut(source=e.source, code=e.code, values=dict(e.values), text=e.text)
            for e in hood.evidence
        ],
        hidden=hood.hidden,
    )
