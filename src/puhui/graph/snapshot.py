"""The on-disk contract of a built graph: a folder of Parquet tables and a JSON report.

A snapshot is what ``puhui graph build --as-of YYYY-MM`` writes and what every reader loads:
the online check, the strategy inputs, the model features and monitoring. Changing a column
here changes every reader: bump ``FORMAT_VERSION`` on an incompatible change.

Layout of a snapshot folder::

    report.json             BuildReport: as-of month, build time, counts, anomalies, key id
    nodes.parquet           NODES
    edges.parquet           EDGES
    enterprise_facts.parquet ENTERPRISE_FACTS: one row per enterprise, the facts decisions read
    rings.parquet           RINGS
    circles.parquet         CIRCLES
    round_trips.parquet     ROUND_TRIPS

Personal identifiers (ID numbers, phones) never appear in clear: a node of a person or of a
phone is ``kind:`` + a keyed hash (HMAC-SHA256, ``identifier_key``), with a masked label for
evidence. The key is the platform's graph-identifier key (derived from its secrets by the
caller) and is never written here: the report keeps only its id (``key_id``, a one-way
fingerprint). A salt stored beside the hashes would not do: there are only ~1e9 mobile
numbers, so anyone holding a copied folder could hash them all in minutes. Without the key
the node ids give nothing back; with it, the online check finds an applicant's phone.

A snapshot is written beside its folder and swapped in (``write_snapshot``): a reader sees
the old complete snapshot or the new one, never a half-written month.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, Literal

import polars as pl

FORMAT_VERSION: Final = "2"
"""2: identifiers keyed (HMAC) and the report's ``salt`` replaced by ``key_id``."""

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


MIN_KEY_BYTES: Final = 32


class GraphKeyError(ValueError):
    """The graph-identifier key is too short, or a snapshot was hashed under another key."""


def check_key(key: bytes) -> bytes:
    """``key`` if it is long enough to be a secret (32 bytes or more)."""
    if len(key) < MIN_KEY_BYTES:
        raise GraphKeyError(f"the graph-identifier key needs at least {MIN_KEY_BYTES} bytes")
    return key


def key_id(key: bytes) -> str:
    """A public name of ``key`` for the report: a one-way fingerprint that tells two keys
    apart (the online check refuses a snapshot of another key) but gives no node id back."""
    fingerprint = hmac.new(check_key(key), b"puhui/graph-identifiers/key-id", hashlib.sha256)
    return fingerprint.hexdigest()[:16]


def identifier_key(kind: IdentifierKind, value: str, key: bytes) -> str:
    """The node id of an identifier: keyed (HMAC-SHA256), never the clear value.

    Values are normalised first (stripped; addresses also without inner spaces) so the batch
    build and the online check agree.
    """
    normal = value.strip()
    if kind == "address":
        normal = "".join(normal.split())
    digest = hmac.digest(check_key(key), f"{kind}\x1f{normal}".encode(), "sha256")
    return f"{kind}:{digest.hex()[:24]}"


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
    key_id: str  # which graph-identifier key hashed the identifiers (``key_id``), not the key
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
            key_id=str(data["key_id"]),
            counts={str(k): int(v) for k, v in data["counts"].items()},
            anomalies=Anomalies(**data["anomalies"]),
            seconds=float(data["seconds"]),
        )


class SnapshotError(Exception):
    """A snapshot folder is missing, incomplete or of another format version."""


SNAPSHOT_FILES: Final = frozenset({"report.json", *(f"{name}.parquet" for name in TABLES)})


def write_snapshot(
    folder: Path, report: BuildReport, frames: Mapping[str, pl.DataFrame | pl.LazyFrame]
) -> None:
    """Write every table (cast to its schema) and the report into a hidden sibling folder,
    then swap it in for ``folder``: servers reading a month rebuilt in place see the old
    complete snapshot or the new one (a reader between the two renames finds no folder and
    falls back to the previous month). A failed write leaves ``folder`` as it was.

    A lazy table streams to its file (the edge list of a large market does not fit in memory).
    """
    missing = set(TABLES) - set(frames)
    if missing:
        raise SnapshotError(f"a snapshot needs every table; missing: {sorted(missing)}")
    _check_replaceable(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    staging = folder.parent / f".{folder.name}.new-{token}"
    try:
        staging.mkdir()
        for name, schema in TABLES.items():
            frame = frames[name].select([pl.col(c).cast(t) for c, t in schema.items()])
            if isinstance(frame, pl.LazyFrame):
                frame.sink_parquet(staging / f"{name}.parquet")
            else:
                frame.write_parquet(staging / f"{name}.parquet")
        (staging / "report.json").write_text(report.to_json(), encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not folder.exists():
        os.rename(staging, folder)
        return
    retired = folder.parent / f".{folder.name}.old-{token}"
    os.rename(folder, retired)
    os.rename(staging, folder)
    shutil.rmtree(retired, ignore_errors=True)


def _check_replaceable(folder: Path) -> None:
    """Refuse to swap out a folder holding anything but a snapshot's files: ``--out`` naming
    the wrong folder must not delete it."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise SnapshotError(f"{folder} is a file, not a graph snapshot folder")
    strangers = sorted(p.name for p in folder.iterdir() if p.name not in SNAPSHOT_FILES)
    if strangers:
        raise SnapshotError(
            f"{folder} holds files that are not a graph snapshot's ({', '.join(strangers[:5])}): "
            "refusing to replace it; choose an empty or new folder"
        )


def read_report(folder: Path) -> BuildReport:
    path = folder / "report.json"
    if not path.is_file():
        raise SnapshotError(f"{folder} holds no complete graph (no report.json)")
    text = path.read_text(encoding="utf-8")
    version = str(json.loads(text).get("format_version"))
    if version != FORMAT_VERSION:
        raise SnapshotError(
            f"{folder} is graph format {version}; this version reads "
            f"{FORMAT_VERSION}: build it again"
        )
    return BuildReport.from_json(text)


def read_table(folder: Path, name: str) -> pl.DataFrame:
    if name not in TABLES:
        raise SnapshotError(f"no graph table {name!r}; tables: {sorted(TABLES)}")
    path = folder / f"{name}.parquet"
    if not path.is_file():
        raise SnapshotError(f"{folder} lacks {name}.parquet")
    return pl.read_parquet(path)
