"""The online graph check: one application against a snapshot plus what came since.

A :class:`GraphIndex` holds one snapshot in memory as sorted NumPy arrays (identifier key ->
enterprises, USCC -> facts row): a lookup is a binary search, and a million enterprises with
their identifier edges take a few hundred megabytes, not a Python object per edge. The
applications made since the snapshot are not copied into it: the caller reads them from the
platform's database (the truth every worker shares) and passes them in as
:class:`RecentTie` rows, so two workers given the same snapshot and the same database decide
alike, and two new applications from one device are tied before the next batch build.

Which snapshot serves, and whether one may (freshness, reloads), is :mod:`puhui.graph.live`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.domain.origination.application import Applicant
from puhui.domain.origination.fraud import GraphFacts, GraphPolicy
from puhui.domain.privacy import mask_id_number, mask_phone
from puhui.graph.identifiers import EDGE_KIND_OF
from puhui.graph.packaging import FOOTPRINT_DAYS
from puhui.graph.rings import HUB_LIMIT
from puhui.graph.snapshot import (
    ENTERPRISE_PREFIX,
    BuildReport,
    GraphKeyError,
    IdentifierKind,
    SnapshotError,
    identifier_key,
    key_id,
    read_report,
    read_table,
)
from puhui.graph.sources import month_end

logger = logging.getLogger(__name__)

GRAPH_INPUTS: Final = (
    "shared_contact_count",
    "invoice_round_trip_ratio",
    "guarantee_circle",
    "graph_ring_score",
    "contagion_score",
    "packaging_enterprises",
    "guarantors_in_distress",
)
"""Strategy inputs the graph fills (missing, "no evidence", when the graph is unavailable)."""

STRONG_KINDS: Final[frozenset[IdentifierKind]] = frozenset({"person", "phone", "device"})
"""Identifiers that tie an applicant to a ring: one person, phone or device is one party.
Addresses (a shared building) and IPs (a carrier's NAT) tie too loosely for a knockout."""
CONTACT_KINDS: Final[frozenset[IdentifierKind]] = frozenset({"phone", "address", "device"})
"""Identifiers counted in ``shared_contact_count``: the batch's (graph/facts.py) less the
settlement account, which an application does not carry."""
APPLICATION_KINDS: Final[frozenset[IdentifierKind]] = frozenset(
    {"phone", "address", "device", "ip"}
)
"""Identifiers an intermediary's footprint shows in (packaging): the channel of applying."""
LOOSE_KINDS: Final[frozenset[IdentifierKind]] = frozenset({"address", "ip"})
"""Identifiers many unrelated parties share (a building, a carrier's NAT): a packaging tie
through them counts only within the batch's ``FOOTPRINT_DAYS``, not the policy's year."""
HUB_SIZE: Final = HUB_LIMIT
"""An identifier shared by more enterprises than this (a business centre's address, an
agent's device) is a hub: it is neither a shared contact nor a packaging tie, as in the
batch's rings. Without the cap six firms on one registered address declined a genuine
applicant (FR_RING); on a 1M-enterprise market 35.7% share their address with five others."""
_MONTH_DAYS = 30
"""Snapshot edges are dated by month (its first day): an edge is fresh when any day of its
month (first day + 30) falls in the window."""

_MAX_EXAMPLES = 5
_EPOCH = date(1970, 1, 1)


def identifiers_by_kind(applicant: Applicant) -> dict[IdentifierKind, str]:
    """The applicant's identifiers in clear, by graph kind (hashed with the graph key)."""
    found: dict[IdentifierKind, str | None] = {
        "person": applicant.id_number,
        "phone": applicant.phone,
        "device": applicant.device_id,
        "ip": applicant.ip_address,
        "address": applicant.address,
    }
    return {kind: value for kind, value in found.items() if value}


@dataclass(frozen=True, slots=True)
class RecentTie:
    """Another enterprise's application since the snapshot sharing one identifier."""

    kind: IdentifierKind
    uscc: str
    same_person: bool
    """Made by the same person (ID number): a related enterprise, not an intermediary's."""
    created_on: date


@dataclass(frozen=True, slots=True)
class GraphCheck:
    """The graph's answer for one application: facts for the rules, inputs for the strategy,
    and evidence a person can read (identifiers masked)."""

    facts: GraphFacts
    inputs: dict[str, Any]
    evidence: dict[str, Any]


def _mask(kind: IdentifierKind, value: str) -> str:
    if kind == "phone":
        return mask_phone(value)
    if kind == "person":
        return mask_id_number(value)
    if kind == "ip":
        parts = value.split(".")
        return ".".join(parts[:2] + ["*"] * (len(parts) - 2)) if len(parts) == 4 else "*"
    return value[:4] + "****"


def _key_numbers(keys: pl.Expr) -> pl.Expr:
    """The first 60 bits of an identifier node's hash as an Int64 (the keyed hash makes them
    uniform; 60 bits keep the chance of two of ten million identifiers colliding ~1e-4)."""
    return keys.str.split(":").list.get(1).str.slice(0, 15).str.to_integer(base=16)


def _key_number(node: str) -> int:
    return int(node.split(":", 1)[1][:15], 16)


def _servable_facts(facts: pl.DataFrame, folder: Path) -> pl.DataFrame:
    """Facts by USCC, one row each, sorted; rows whose USCC is null or not ASCII dropped and
    counted (a USCC is 18 ASCII characters: the byte array of USCCs must sort as text)."""
    valid = pl.col("uscc").is_not_null() & (
        pl.col("uscc").str.len_bytes() == pl.col("uscc").str.len_chars()
    )
    bad = facts.height - facts.filter(valid).height
    if bad:
        logger.warning("graph %s: %d facts rows without a valid USCC dropped", folder.name, bad)
    return facts.filter(valid).unique("uscc", keep="first").sort("uscc")


def _days(column: str) -> pl.Expr:
    return (pl.col(column) - pl.lit(_EPOCH)).dt.total_days().cast(pl.Int32)


@dataclass(frozen=True)
class GraphIndex:
    """One snapshot in memory, arranged for lookups by identifier and by USCC."""

    folder: Path
    report: BuildReport
    key: bytes = field(repr=False)
    """The graph-identifier key the snapshot was hashed under (its id is in the report)."""
    uscc: npt.NDArray[np.bytes_]
    """Sorted USCCs: a row number in it is an enterprise's number everywhere below."""
    facts: pl.DataFrame
    """ENTERPRISE_FACTS in the order of ``uscc``."""
    ring_of: npt.NDArray[np.int32]
    """Per enterprise, its ring's number in ``rings`` (-1: none)."""
    rings: tuple[tuple[str, float, tuple[str, ...]], ...]
    """(ring_id, score, evidence) by ring number."""
    circle_distressed: dict[str, int]
    keys: npt.NDArray[np.int64]
    """Sorted distinct identifier keys; ``offsets[i]:offsets[i+1]`` are key i's edges."""
    offsets: npt.NDArray[np.int64]
    edge_enterprise: npt.NDArray[np.int32]
    edge_last_day: npt.NDArray[np.int32]
    """Last month the edge was seen, as days since 1970-01-01 (its first day)."""
    edge_from_application: npt.NDArray[np.bool_]
    report_hash: str = ""
    """First 16 hex digits of report.json's SHA-256: with ``built_at``, names the exact graph
    a decision saw (a folder rebuilt in place keeps its name)."""
    loaded_in_seconds: float = field(default=0.0, compare=False)

    @property
    def data_until(self) -> date:
        """The last day whose data the snapshot holds (the as-of month's end)."""
        return month_end(self.report.as_of)

    @classmethod
    def load(cls, folder: Path, key: bytes) -> GraphIndex:
        """Load ``folder``, refusing a snapshot hashed under another key than ``key`` (its
        applicants' identifiers would silently never match)."""
        started = time.perf_counter()
        report = read_report(folder)
        if report.key_id != key_id(key):
            raise GraphKeyError(
                f"snapshot {folder.name} was hashed under graph key {report.key_id}, this "
                f"server holds key {key_id(key)}: rebuild it or configure the same secrets"
            )
        report_hash = hashlib.sha256((folder / "report.json").read_bytes()).hexdigest()[:16]
        facts = _servable_facts(read_table(folder, "enterprise_facts"), folder)
        usccs = facts["uscc"].to_list()
        uscc = np.array(usccs, dtype=np.bytes_) if usccs else np.array([], dtype="S18")
        rows = pl.DataFrame(
            {"uscc": facts["uscc"], "row": pl.int_range(facts.height, dtype=pl.Int32, eager=True)}
        )
        rings_table = read_table(folder, "rings").sort("ring_id")
        rings = tuple(
            (str(r["ring_id"]), float(r["score"] or 0.0), tuple(r["evidence"] or ()))
            for r in rings_table.iter_rows(named=True)
        )
        ring_number = {ring_id: i for i, (ring_id, _, _) in enumerate(rings)}
        ring_of = (
            facts["ring_id"]
            .replace_strict(ring_number, default=-1, return_dtype=pl.Int32)
            .fill_null(-1)
            .to_numpy()
            .astype(np.int32)
        )
        circles = read_table(folder, "circles")
        circle_distressed = {
            str(c): int(d or 0)
            for c, d in zip(circles["circle_id"], circles["members_distressed"], strict=True)
        }
        path = folder / "edges.parquet"
        if not path.is_file():
            raise SnapshotError(f"{folder} lacks edges.parquet")
        # Lazily: the invoices, most of the rows, are never read into memory.
        edges = (
            pl.scan_parquet(path)
            .filter(pl.col("kind").is_in(sorted(set(EDGE_KIND_OF.values()))))
            .filter(pl.col("src").str.starts_with(ENTERPRISE_PREFIX))
            .select(
                pl.col("src").str.strip_prefix(ENTERPRISE_PREFIX).alias("uscc"),
                _key_numbers(pl.col("dst")).alias("key"),
                _days("last_month").fill_null(_days("month")).alias("last_day"),
                (pl.col("source") == "applications").alias("from_application"),
            )
            .join(rows.lazy(), on="uscc", how="inner")
            .drop_nulls("key")
            .sort("key")
            .collect()
        )
        edge_keys = edges["key"].to_numpy()
        keys, first = np.unique(edge_keys, return_index=True)
        offsets = np.append(first, len(edge_keys)).astype(np.int64)
        index = cls(
            folder=folder,
            report=report,
            key=key,
            uscc=uscc,
            facts=facts,
            ring_of=ring_of,
            rings=rings,
            circle_distressed=circle_distressed,
            keys=keys.astype(np.int64),
            offsets=offsets,
            edge_enterprise=edges["row"].to_numpy().astype(np.int32),
            edge_last_day=edges["last_day"].fill_null(0).to_numpy().astype(np.int32),
            edge_from_application=edges["from_application"].to_numpy().astype(np.bool_),
            report_hash=report_hash,
            loaded_in_seconds=time.perf_counter() - started,
        )
        logger.info(
            "graph %s loaded: %d enterprises, %d identifier edges, %.0f MB, %.1f s",
            folder.name,
            facts.height,
            len(edge_keys),
            index.memory_bytes() / 1e6,
            index.loaded_in_seconds,
        )
        return index

    def memory_bytes(self) -> int:
        """What the index holds in memory (arrays and facts; the small ring table aside)."""
        arrays = (
            self.uscc,
            self.ring_of,
            self.keys,
            self.offsets,
            self.edge_enterprise,
            self.edge_last_day,
            self.edge_from_application,
        )
        return sum(a.nbytes for a in arrays) + int(self.facts.estimated_size())

    def row_of(self, uscc: str) -> int | None:
        needle = np.bytes_(uscc.encode())
        i = int(np.searchsorted(self.uscc, needle))
        if i < len(self.uscc) and self.uscc[i] == needle:
            return i
        return None

    def _edges_of(self, kind: IdentifierKind, value: str) -> slice:
        number = _key_number(identifier_key(kind, value, self.key))
        i = int(np.searchsorted(self.keys, number))
        if i < len(self.keys) and self.keys[i] == number:
            return slice(int(self.offsets[i]), int(self.offsets[i + 1]))
        return slice(0, 0)

    def _ring(self, row: int | None) -> tuple[str, float, tuple[str, ...]] | None:
        if row is None or self.ring_of[row] < 0:
            return None
        return self.rings[int(self.ring_of[row])]

    def check(
        self,
        application: Applicant,
        as_of: date,
        recent: Sequence[RecentTie] = (),
        policy: GraphPolicy | None = None,
    ) -> GraphCheck:
        """What the graph, extended by the applications since it was built, says of one
        application on ``as_of``. Work grows with the enterprises sharing its identifiers,
        all of it in NumPy but the few rows named in the evidence."""
        p = policy or GraphPolicy()
        own = self.row_of(application.uscc)
        values = identifiers_by_kind(application)
        hits = {k: self._edges_of(k, v) for k, v in values.items()}
        related = self.edge_enterprise[hits.get("person", slice(0, 0))]
        if own is not None:
            related = np.append(related, own)
        near = _Near(self, p, as_of)
        # Rings first, over every enterprise tied: one of the same person's other enterprises
        # in a ring ties a new shell to it (AF10) though it is not a stranger.
        for kind, edges in hits.items():
            if kind in STRONG_KINDS:
                new_rows = [self.row_of(t.uscc) for t in recent if t.kind == kind]
                tied = np.array([r for r in new_rows if r is not None], dtype=np.int32)
                near.note_rings(np.union1d(self.edge_enterprise[edges], tied), kind)
        near.relate(related, {t.uscc for t in recent if t.same_person or t.kind == "person"})
        near.strangers_related.add(application.uscc)
        for kind, edges in hits.items():
            near.add(kind, values[kind], edges, [t for t in recent if t.kind == kind])
        return self._answer(own, as_of, near)

    def _answer(self, own: int | None, as_of: date, near: _Near) -> GraphCheck:
        tied_rings = near.rings
        row = (
            None if own is None else dict(zip(self.facts.columns, self.facts.row(own), strict=True))
        )
        ring = self._ring(own)
        if ring is not None:
            tied_rings.pop(ring[0], None)
        circle = None if row is None else row["guarantee_circle"]
        circle_distressed = 0 if circle is None else self.circle_distressed.get(circle, 0)

        def fact(name: str) -> Any:
            return None if row is None else row[name]

        facts = GraphFacts(
            ring_id=None if ring is None else ring[0],
            ring_score=None if ring is None else ring[1],
            tied_rings=tuple(sorted(tied_rings)),
            packaging_enterprises=near.count(near.packaging_rows, near.packaging_strangers),
            packaging_score=fact("packaging_score"),
            invoice_round_trip_ratio=fact("invoice_round_trip_ratio"),
            guarantee_circle=circle,
            circle_members_distressed=circle_distressed,
            guarantors_in_distress=int(fact("guarantors_in_distress") or 0),
            contagion_score=fact("contagion_score"),
            inflation_score=None if row is None else row.get("inflation_score"),
        )
        ring_scores = [s for s, _ in tied_rings.values()] + ([ring[1]] if ring else [])
        inputs: dict[str, Any] = {
            "shared_contact_count": near.count(near.contact_rows, near.contact_strangers),
            "invoice_round_trip_ratio": facts.invoice_round_trip_ratio,
            "guarantee_circle": circle,
            "graph_ring_score": max(ring_scores, default=0.0),
            "contagion_score": facts.contagion_score,
            "packaging_enterprises": facts.packaging_enterprises,
            "guarantors_in_distress": facts.guarantors_in_distress,
        }
        # The snapshot's applications_30d is not passed on: it counts the 30 days to the
        # snapshot's month end, which are 30 to 60 days old a month later (a stale count
        # would trigger FR_VELOCITY); the platform counts the last 30 days itself.
        evidence: dict[str, Any] = {
            "status": "ok",
            "snapshot": self.folder.name,
            "built_at": self.report.built_at.isoformat(),
            "report_sha256": self.report_hash,
            "as_of": self.report.as_of.isoformat(),
            "enterprise_in_graph": own is not None,
            "ties": near.ties,
            "ring": None
            if ring is None
            else {"ring_id": ring[0], "score": ring[1], "evidence": list(ring[2])},
            "tied_rings": [
                {"ring_id": r, "score": s, "via": k} for r, (s, k) in sorted(tied_rings.items())
            ],
            "packaging_enterprises": near.examples(near.packaging_rows, near.packaging_strangers),
            "invoice_round_trip_ratio": facts.invoice_round_trip_ratio,
            "guarantee_circle": None
            if circle is None
            else {
                "circle_id": circle,
                "exposure_fen": fact("circle_exposure_fen"),
                "members_distressed": circle_distressed,
                "guarantors_in_distress": facts.guarantors_in_distress,
            },
            "contagion_score": facts.contagion_score,
            "inflation_score": facts.inflation_score,
        }
        return GraphCheck(facts=facts, inputs=inputs, evidence=evidence)


class _Near:
    """What one check gathers around an application: enterprises by row number (snapshot)
    or by USCC (applications since, not in the snapshot), related ones set apart."""

    def __init__(self, index: GraphIndex, policy: GraphPolicy, as_of: date) -> None:
        self.index, self.policy = index, policy
        self.window_start = (as_of - timedelta(days=policy.packaging_window_days) - _EPOCH).days
        self.loose_start = (as_of - timedelta(days=self.loose_days) - _EPOCH).days
        self.as_of = as_of
        self.related_rows: npt.NDArray[np.int32] = np.empty(0, np.int32)
        self.strangers_related: set[str] = set()
        self.contact_rows: list[npt.NDArray[np.int32]] = []
        self.contact_strangers: set[str] = set()
        self.packaging_rows: list[npt.NDArray[np.int32]] = []
        self.packaging_strangers: set[str] = set()
        self.rings: dict[str, tuple[float, IdentifierKind]] = {}
        self.ties: list[dict[str, Any]] = []

    def relate(self, rows: npt.NDArray[np.int32], usccs: set[str]) -> None:
        """The applicant's own enterprise and those of the same person: not strangers."""
        known = [r for r in (self.index.row_of(u) for u in usccs) if r is not None]
        self.related_rows = np.unique(np.append(rows, known).astype(np.int32))
        self.strangers_related |= usccs

    @property
    def loose_days(self) -> int:
        return min(self.policy.packaging_window_days, FOOTPRINT_DAYS)

    def add(self, kind: IdentifierKind, value: str, edges: slice, new: list[RecentTie]) -> None:
        index = self.index
        rows = index.edge_enterprise[edges]
        unrelated = self._unrelated(rows)
        others = np.unique(rows[unrelated])
        start, days = (
            (self.loose_start, self.loose_days)
            if kind in LOOSE_KINDS
            else (self.window_start, self.policy.packaging_window_days)
        )
        fresh = index.edge_from_application[edges] & (
            index.edge_last_day[edges] + _MONTH_DAYS >= start
        )
        packaged = np.unique(rows[unrelated & fresh])
        new_rows: list[int] = []
        strangers: set[str] = set()
        recent: set[str] = set()
        sharing_rows: list[int] = []
        sharing_new: set[str] = set()
        for tie in new:
            row = index.row_of(tie.uscc)
            if row is None:
                sharing_new.add(tie.uscc)
            else:
                sharing_rows.append(row)
            if tie.uscc in self.strangers_related or (row is not None and row in self.related_rows):
                continue
            if row is None:
                strangers.add(tie.uscc)
            else:
                new_rows.append(row)
            if (self.as_of - tie.created_on).days <= days:
                recent.add(tie.uscc)
        tied = np.union1d(others, np.array(new_rows, dtype=np.int32))
        sharing = np.union1d(rows, np.array(sharing_rows, dtype=np.int32))
        hub = len(sharing) + len(sharing_new) > HUB_SIZE
        if kind in CONTACT_KINDS and not hub:
            self.contact_rows.append(tied)
            self.contact_strangers |= strangers
        if kind in APPLICATION_KINDS and not hub:
            recent_rows = [r for r in new_rows if index.uscc[r].decode() in recent]
            self.packaging_rows.append(np.union1d(packaged, np.array(recent_rows, np.int32)))
            self.packaging_strangers |= strangers & recent
        if len(tied) or strangers:
            self.ties.append(
                {
                    "identifier": f"{kind} {_mask(kind, value)}",
                    "enterprises_in_graph": len(others),
                    "applications_since_graph": len(new),
                    "hub": hub,
                    "examples": self.examples([tied], strangers),
                }
            )

    def _unrelated(self, rows: npt.NDArray[np.int32]) -> npt.NDArray[np.bool_]:
        if len(self.related_rows) > 8:  # one person with many enterprises: a set test
            return ~np.isin(rows, self.related_rows)
        keep = np.ones(len(rows), dtype=np.bool_)
        for related in self.related_rows:  # usually one or two: cheaper than np.isin
            keep &= rows != related
        return keep

    def note_rings(self, rows: npt.NDArray[np.int32], kind: IdentifierKind) -> None:
        numbers = self.index.ring_of[rows]
        for number in np.unique(numbers[numbers >= 0]):
            ring_id, score, _ = self.index.rings[int(number)]
            if score >= self.policy.min_ring_score:
                self.rings.setdefault(ring_id, (score, kind))

    @staticmethod
    def count(rows: list[npt.NDArray[np.int32]], strangers: set[str]) -> int:
        distinct = np.unique(np.concatenate(rows)) if rows else ()
        return len(distinct) + len(strangers)

    def examples(self, rows: list[npt.NDArray[np.int32]], strangers: set[str]) -> list[str]:
        distinct = np.unique(np.concatenate(rows))[:_MAX_EXAMPLES] if rows else ()
        named = {self.index.uscc[r].decode() for r in distinct} | strangers
        return sorted(named)[:_MAX_EXAMPLES]


def unavailable_inputs() -> dict[str, Any]:
    """The graph's strategy inputs when it cannot serve: every one missing (no evidence)."""
    return dict.fromkeys(GRAPH_INPUTS)
