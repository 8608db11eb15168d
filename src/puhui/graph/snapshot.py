"""The on-disk contract of a built graph: a folder of Parquet tables and a JSON report.

A snapshot is what ``puhui graph build --as-of YYYY-MM`` writes and what every reader loads:
the online check, the strategy inputs, the model features and monitoring. Changing a column
here changes every reader: bump ``FORMAT_VERSION`` on an incompatible change.

Layout of a snapshot folder::

    report.json             BuildReport: as-of month, build time, counts, anomalies, salt
    nodes.parquet           NODES
    edges.parquet           EDGES
    enterprise_facts.parquet ENTERPRISE_FACTS: one row per enterprise, the facts decisions read
    rings.parquet           RINGS
    circles.parquet         CIRCLES
    round_trips.parquet     ROUND_TRIPS

Personal identifiers (ID numbers, phones) never appear in clear: a node of a person or of a
phone is ``kind:`` + a salted SHA-256 (``identifier_key``), with a masked label for evidence.
The salt is drawn per build and kept in the report, so a stolen edge list does not give back
the phone numbers while the online check can still find an applicant's phone in the graph.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, Literal

import polars as pl

FORMAT_VERSION: Final = "1"

IdentifierKind = Literal[
    "person",  # legal representative or applicant, by ID number (hashed)
    "phone",  # registered or applicant's mobile (hashed)
    "address",  # registered address (hashed: an address can identify a household)
    "account",  # settlement account (hashed)
    "device",  # device fingerprint of an application
    "ip",  # IPv4 address of an application session
]
IDENTIFIER_KINDS: Final[tuple[IdentifierKind, ...]] = (
    "person",
    "phone",
    "address",
    "account",
    "device",
    "ip",
)

EdgeKind = Literal[
    "legal_rep",  # enterprise -> person
    "phone",  # enterprise -> phone (registry or application)
    "address",  # enterprise -> address
    "account",  # enterprise -> settlement account
    "device",  # enterprise -> device (an application)
    "ip",  # enterprise -> ip (an application)
    "invoice",  # seller enterprise -> buyer enterprise, one row per month with amount
    "guarantee",  # guarantor enterprise -> borrower enterprise, with amount
]
EDGE_KINDS: Final[tuple[EdgeKind, ...]] = (
    "legal_rep",
    "phone",
    "address",
    "account",
    "device",
    "ip",
    "invoice",
    "guarantee",
)

ENTERPRISE_PREFIX: Final = "E:"
"""Enterprise nodes are ``E:<uscc>``; identifier nodes ``<kind>:<key>``."""


def enterprise_node(uscc: str) -> str:
    return ENTERPRISE_PREFIX + uscc


def identifier_key(kind: IdentifierKind, value: str, salt: str) -> str:
    """The node id of an identifier: stable within one build (its salt), never the clear value.

    Values are normalised first (stripped; addresses also without inner spaces) so the batch
    build and the online check agree.
    """
    normal = value.strip()
    if kind == "address":
        normal = "".join(normal.split())
    digest = hashlib.sha256(f"{salt}\x1f{kind}\x1f{normal}".encode()).hexdigest()[:24]
    return f"{kind}:{digest}"


NODES: Final = {
    "node": pl.String,  # E:<uscc> or <kind>:<hash>
    "kind": pl.String,  # 'enterprise' or an IdentifierKind
    "label": pl.String,  # readable, masked for persons and phones (138****1234)
    "first_month": pl.Date,  # first month the node is seen (registration, application)
}
EDGES: Final = {
    "src": pl.String,
    "dst": pl.String,
    "kind": pl.String,  # EdgeKind
    "month": pl.Date,  # first day of the month: invoices per month; others the first month seen
    "last_month": pl.Date,  # last month seen (== month for invoices)
    "amount_fen": pl.Int64,  # invoices and guarantees; null for identifier edges
    "source": pl.String,  # 'registry' | 'owners' | 'applications' | 'invoices' | 'guarantees'
}
ENTERPRISE_FACTS: Final = {
    "uscc": pl.String,
    # Identifier sharing (the application's neighbourhood in the batch graph).
    "shared_contact_count": pl.Int32,  # other enterprises sharing phone/address/device/account
    "applications_30d": pl.Int32,  # applications in the 30 days to the as-of month's end
    # Rings (团伙): weighted communities over shared identifiers.
    "ring_id": pl.String,  # null when in no reported ring
    "ring_score": pl.Float64,  # 0..1; null when in no ring
    # Packaging (中介包装): an intermediary's footprint on the enterprise's applications.
    "packaging_score": pl.Float64,  # 0..1
    "inflation_score": pl.Float64,  # 0..1, freshly inflated data were it to apply next month
    # Invoice round trips (循环开票).
    "invoice_round_trip_ratio": pl.Float64,  # share of sales (12 m) that came back in cycles
    "round_trip": pl.Boolean,  # on a short near-equal cycle in the window
    # Guarantee circles (互保圈): strongly connected parts of the guarantee graph.
    "guarantee_circle": pl.String,  # circle id, null when in none
    "circle_exposure_fen": pl.Int64,  # total guaranteed amount inside the circle, null if none
    # Contagion (风险传染): distress propagated along guarantee and supply edges.
    "distressed": pl.Boolean,  # own public distress at the as-of month
    "contagion_score": pl.Float64,  # 0..1
    "guarantors_in_distress": pl.Int32,  # enterprises guaranteeing it that are distressed
    "degree": pl.Int32,  # enterprise neighbours through any edge
}
RINGS: Final = {
    "ring_id": pl.String,
    "members": pl.List(pl.String),  # USCCs, sorted
    "score": pl.Float64,
    "evidence": pl.List(pl.String),  # sentences a person can read (English; codes in zh below)
}
CIRCLES: Final = {
    "circle_id": pl.String,  # the smallest member USCC: stable while the members stay
    "members": pl.List(pl.String),
    "exposure_fen": pl.Int64,  # sum of guarantee amounts between members
    "cycles": pl.List(pl.List(pl.String)),  # the simple cycles found (bounded length)
    "members_distressed": pl.Int32,
}
ROUND_TRIPS: Final = {
    "cycle_id": pl.String,
    "members": pl.List(pl.String),  # in invoice order: a -> b -> ... -> a
    "month": pl.Date,  # last month of the window the cycle closed in
    "amount_fen": pl.Int64,  # smallest amount on the cycle in the window
    "spread": pl.Float64,  # (max - min) / max of the cycle's amounts: near-equal is small
}
TABLES: Final[dict[str, dict[str, Any]]] = {
    "nodes": NODES,
    "edges": EDGES,
    "enterprise_facts": ENTERPRISE_FACTS,
    "rings": RINGS,
    "circles": CIRCLES,
    "round_trips": ROUND_TRIPS,
}


@dataclass(frozen=True, slots=True)
class Anomalies:
    """What the build met in its input and handled (never a crash): counted in the report."""

    dangling_edges: int = 0  # an edge naming an enterprise no source registers
    self_loops: int = 0  # an invoice or guarantee from an enterprise to itself
    duplicate_identifiers: int = 0  # the same edge given twice by a source
    missing_enterprises: dict[str, int] = field(default_factory=dict)  # source -> count


@dataclass(frozen=True, slots=True)
class BuildReport:
    format_version: str
    as_of: date  # first day of the as-of month: data of months <= as_of only
    built_at: datetime
    salt: str
    counts: dict[str, int]  # nodes, edges, enterprises, rings, circles, round_trips, ...
    anomalies: Anomalies
    seconds: float

    def to_json(self) -> str:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat()
        data["built_at"] = self.built_at.isoformat()
        return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> BuildReport:
        data = json.loads(text)
        return cls(
            format_version=str(data["format_version"]),
            as_of=date.fromisoformat(data["as_of"]),
            built_at=datetime.fromisoformat(data["built_at"]),
            salt=str(data["salt"]),
            counts={str(k): int(v) for k, v in data["counts"].items()},
            anomalies=Anomalies(**data["anomalies"]),
            seconds=float(data["seconds"]),
        )


class SnapshotError(Exception):
    """A snapshot folder is missing, incomplete or of another format version."""


def write_snapshot(
    folder: Path, report: BuildReport, frames: Mapping[str, pl.DataFrame | pl.LazyFrame]
) -> None:
    """Write every table (cast to its schema) and then the report, which marks it complete.

    A lazy table streams to its file (the edge list of a large market does not fit in memory)."""
    folder.mkdir(parents=True, exist_ok=True)
    missing = set(TABLES) - set(frames)
    if missing:
        raise SnapshotError(f"a snapshot needs every table; missing: {sorted(missing)}")
    (folder / "report.json").unlink(missing_ok=True)
    for name, schema in TABLES.items():
        frame = frames[name].select([pl.col(c).cast(t) for c, t in schema.items()])
        if isinstance(frame, pl.LazyFrame):
            frame.sink_parquet(folder / f"{name}.parquet")
        else:
            frame.write_parquet(folder / f"{name}.parquet")
    (folder / "report.json").write_text(report.to_json(), encoding="utf-8")


def read_report(folder: Path) -> BuildReport:
    path = folder / "report.json"
    if not path.is_file():
        raise SnapshotError(f"{folder} holds no complete graph (no report.json)")
    report = BuildReport.from_json(path.read_text(encoding="utf-8"))
    if report.format_version != FORMAT_VERSION:
        raise SnapshotError(
            f"{folder} is graph format {report.format_version}; this version reads "
            f"{FORMAT_VERSION}: build it again"
        )
    return report


def read_table(folder: Path, name: str) -> pl.DataFrame:
    if name not in TABLES:
        raise SnapshotError(f"no graph table {name!r}; tables: {sorted(TABLES)}")
    path = folder / f"{name}.parquet"
    if not path.is_file():
        raise SnapshotError(f"{folder} lacks {name}.parquet")
    return pl.read_parquet(path)
