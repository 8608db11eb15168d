"""Small graph snapshots written by hand through the contract (``write_snapshot``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from puhui.graph.snapshot import (
    FORMAT_VERSION,
    TABLES,
    Anomalies,
    BuildReport,
    IdentifierKind,
    enterprise_node,
    identifier_key,
    key_id,
    write_snapshot,
)

GRAPH_KEY = b"graph-identifier-key-of-the-tests-0001"
"""The graph-identifier key of hand-made snapshots (the servers under test hold it too)."""

_EDGE_KIND = {"person": "legal_rep"}


@dataclass
class HandGraph:
    """Enterprises with facts, identifier edges in clear (hashed on write), rings, circles."""

    month: date
    key: bytes = GRAPH_KEY
    facts: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    rings: list[dict[str, Any]] = field(default_factory=list)
    circles: list[dict[str, Any]] = field(default_factory=list)

    def enterprise(self, uscc: str, **facts: Any) -> HandGraph:
        self.facts.append({"uscc": uscc, **facts})
        return self

    def identifier(
        self,
        uscc: str,
        kind: IdentifierKind,
        value: str,
        *,
        source: str = "applications",
        month: date | None = None,
    ) -> HandGraph:
        seen = month or self.month
        self.edges.append(
            {
                "src": enterprise_node(uscc),
                "dst": identifier_key(kind, value, self.key),
                "kind": _EDGE_KIND.get(kind, kind),
                "month": seen,
                "last_month": seen,
                "amount_fen": None,
                "source": source,
            }
        )
        return self

    def ring(self, ring_id: str, members: list[str], score: float) -> HandGraph:
        self.rings.append(
            {
                "ring_id": ring_id,
                "members": sorted(members),
                "score": score,
                "evidence": [f"{len(members)} enterprises share two devices"],
            }
        )
        for fact in self.facts:
            if fact["uscc"] in members:
                fact["ring_id"], fact["ring_score"] = ring_id, score
        return self

    def circle(self, circle_id: str, members: list[str], distressed: int) -> HandGraph:
        self.circles.append(
            {
                "circle_id": circle_id,
                "members": members,
                "exposure_fen": 1_000_000_00,
                "cycles": [members + members[:1]],
                "members_distressed": distressed,
            }
        )
        for fact in self.facts:
            if fact["uscc"] in members:
                fact["guarantee_circle"] = circle_id
                fact["circle_exposure_fen"] = 1_000_000_00
        return self

    def write(self, graph_dir: Path) -> Path:
        folder = graph_dir / self.month.strftime("%Y-%m")
        frames = {name: _frame(name, rows) for name, rows in self._tables().items()}
        report = BuildReport(
            format_version=FORMAT_VERSION,
            as_of=self.month,
            built_at=datetime(2026, 1, 1, tzinfo=UTC),
            key_id=key_id(self.key),
            counts={"enterprises": len(self.facts), "edges": len(self.edges)},
            anomalies=Anomalies(),
            seconds=0.0,
        )
        write_snapshot(folder, report, frames)
        return folder

    def _tables(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "nodes": [],
            "edges": self.edges,
            "enterprise_facts": self.facts,
            "rings": self.rings,
            "circles": self.circles,
            "round_trips": [],
        }


def _frame(name: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = TABLES[name]
    return pl.DataFrame(
        [{column: row.get(column) for column in schema} for row in rows], schema=schema
    )
