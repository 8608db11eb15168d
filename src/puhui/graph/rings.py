"""Rings (团伙): weighted communities of enterprises tied by shared identifiers.

The enterprise projection joins two enterprises by every identifier they share, weighted by
the identifier's kind (a shared account says more than a shared network) and by its rarity
(an identifier shared by two says more than one shared by twenty). Identifiers shared by more
than ``HUB_LIMIT`` enterprises (an intermediary's device, a business-centre address) are left
out: they are the packaging detector's evidence, and they would glue unrelated firms together.
Leiden (constant Potts model, weighted) splits the projection into communities; a community
of three or more is scored by its size, how recently and closely its members registered, how
densely they share identifiers and how their applications burst. About 3% of owners run a
second business: such a pair shares a person and a phone, but two firms are not a ring
(``MIN_RING_SIZE``).
A ring must also share who its members are (person, phone, address or account) in at least
as many pairs as it takes to join them: an intermediary's clients share only its device and
network, which is packaging, not a ring.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import polars as pl

from puhui.graph.identifiers import MASKS
from puhui.graph.sources import add_months
from puhui.lazy import lazy_module

if TYPE_CHECKING:
    import igraph as ig
else:
    ig = lazy_module("igraph")

HUB_LIMIT = 25
"""Identifiers shared by more enterprises than this are hubs, not ring evidence."""
MIN_RING_SIZE = 3
CPM_RESOLUTION = 0.05
"""Leiden's constant Potts model keeps a community only where its members are tied more
densely than this (in pair weight). Modularity, measured against it, merged loosely tied
groups in a large sparse projection (its resolution limit: the largest group of a million
enterprises was the whole connected component); rings found were the same."""
RING_SCORE_THRESHOLD = 0.62
"""Communities scoring below this are not reported (measured on held-out markets)."""
KIND_WEIGHT: dict[str, float] = {
    "account": 1.5,
    "person": 1.0,
    "phone": 1.0,
    "device": 0.8,
    "address": 0.6,
    "ip": 0.4,
}
KIND_WORDS: dict[str, str] = {
    "person": "legal representative",
    "phone": "phone",
    "address": "address",
    "account": "settlement account",
    "device": "device",
    "ip": "network",
}
IDENTITY_KINDS = ("person", "phone", "address", "account")
"""Kinds that come with a registration; devices and networks come with applications only, and
an intermediary's clients share those without sharing who they are."""
RECENT_MONTHS = 24
BURST_DAYS = 60


@dataclass(frozen=True, slots=True)
class Rings:
    communities: pl.DataFrame  # eid, community (every enterprise in the projection)
    rings: pl.DataFrame  # ring_id, members (USCCs), score, evidence
    members: pl.DataFrame  # eid, ring_id, ring_score


def identifier_degrees(links: pl.DataFrame) -> pl.DataFrame:
    """Distinct (eid, kind, value) with the number of enterprises sharing the identifier."""
    distinct = links.select("eid", "kind", "value").unique()
    return distinct.with_columns(pl.len().over("kind", "value").alias("deg"))


def projection(degrees: pl.DataFrame, hub_limit: int = HUB_LIMIT) -> pl.DataFrame:
    """Weighted enterprise pairs (a < b) over the identifiers they share."""
    shared = degrees.filter(pl.col("deg").is_between(2, hub_limit)).with_columns(
        (
            pl.col("kind").replace_strict(KIND_WEIGHT, return_dtype=pl.Float64)
            / (pl.col("deg").cast(pl.Float64) + 1.0).log(2.0)
        ).alias("w")
    )
    return (
        shared.join(shared.select("kind", "value", pl.col("eid").alias("b")), on=["kind", "value"])
        .filter(pl.col("eid") < pl.col("b"))
        .group_by(pl.col("eid").alias("a"), "b")
        .agg(
            pl.col("w").sum(),
            pl.col("kind").n_unique().alias("kinds"),
            pl.col("kind").is_in(IDENTITY_KINDS).any().alias("identity"),
        )
    )


def communities(pairs: pl.DataFrame, seed: int = 1) -> pl.DataFrame:
    """Leiden communities (CPM, weighted) of the enterprises that share anything."""
    if pairs.is_empty():
        return pl.DataFrame(schema={"eid": pl.UInt32, "community": pl.Int64})
    nodes = pl.concat([pairs["a"], pairs["b"]]).unique().sort()
    position = pl.DataFrame({"eid": nodes, "pos": pl.int_range(len(nodes), eager=True)})
    edges = (
        pairs.join(position.rename({"eid": "a", "pos": "pa"}), on="a")
        .join(position.rename({"eid": "b", "pos": "pb"}), on="b")
        .select("pa", "pb", "w")
    )
    graph = ig.Graph(n=len(nodes), edges=edges.select("pa", "pb").to_numpy().tolist())
    ig.set_random_number_generator(random.Random(seed))  # noqa: S311 - reproducible, not secret
    parts = graph.community_leiden(
        objective_function="CPM",
        resolution=CPM_RESOLUTION,
        weights=edges["w"].to_list(),
        n_iterations=-1,
    )
    return pl.DataFrame({"eid": nodes, "community": pl.Series(parts.membership, dtype=pl.Int64)})


def detect_rings(
    links: pl.DataFrame,
    index: pl.DataFrame,
    applications: pl.DataFrame,
    as_of: date,
) -> Rings:
    """Communities of three or more, scored; those above the threshold reported with evidence.

    ``links`` has eid, kind, value (clear: masked here for evidence); ``index`` eid, uscc,
    registration_date; ``applications`` eid, application_date.
    """
    degrees = identifier_degrees(links)
    pairs = projection(degrees)
    groups = communities(pairs)
    sizes = groups.group_by("community").agg(pl.len().alias("size"))
    candidates = groups.join(sizes.filter(pl.col("size") >= MIN_RING_SIZE), on="community")
    if candidates.is_empty():
        return Rings(groups, _empty_rings(), _empty_members())
    inside = (
        pairs.join(candidates.select(pl.col("eid").alias("a"), "community"), on="a")
        .join(candidates.select(pl.col("eid").alias("b"), pl.col("community").alias("cb")), on="b")
        .filter(pl.col("community") == pl.col("cb"))
        .group_by("community")
        .agg(
            pl.len().alias("pairs"),
            (pl.col("kinds") >= 2).sum().alias("multi_pairs"),
            pl.col("identity").sum().alias("identity_pairs"),
        )
    )
    recent_from = add_months(as_of, -RECENT_MONTHS)
    registered = (
        candidates.join(index.select("eid", "uscc", "registration_date"), on="eid")
        .group_by("community")
        .agg(
            pl.col("uscc").sort().alias("members"),
            pl.col("registration_date").min().alias("reg_first"),
            pl.col("registration_date").max().alias("reg_last"),
            (pl.col("registration_date") >= recent_from).mean().alias("recent"),
        )
    )
    bursts = _bursts(candidates, applications)
    scored = (
        sizes.filter(pl.col("size") >= MIN_RING_SIZE)
        .join(inside, on="community", how="left")
        .join(registered, on="community")
        .join(bursts, on="community", how="left")
        .with_columns(
            pl.col(
                "pairs", "multi_pairs", "identity_pairs", "burst_apps", "burst_members"
            ).fill_null(0)
        )
        .with_columns(_score().alias("score"))
        .filter(
            (pl.col("score") >= RING_SCORE_THRESHOLD)
            & (pl.col("identity_pairs") >= pl.col("size") - 1)
        )
    )
    shared = _shared_identifiers(
        degrees, candidates.join(scored.select("community"), on="community")
    )
    rows = []
    for row in scored.sort("community").iter_rows(named=True):
        members: list[str] = row["members"]
        rows.append(
            {
                "ring_id": "R" + members[0],
                "community": row["community"],
                "members": members,
                "score": round(float(row["score"]), 4),
                "evidence": _evidence(row, shared.get(row["community"], [])),
            }
        )
    if not rows:
        return Rings(groups, _empty_rings(), _empty_members())
    rings = pl.DataFrame(rows).sort("score", "ring_id", descending=[True, False])
    member_rows = candidates.join(
        rings.select("community", "ring_id", pl.col("score").alias("ring_score")), on="community"
    ).select("eid", "ring_id", "ring_score")
    return Rings(groups, rings.drop("community"), member_rows)


def _score() -> pl.Expr:
    """0..1: dense sharing, of who they are, of several kinds at once, size, recent close
    registration, application bursts."""
    size = pl.col("size").cast(pl.Float64)
    possible = size * (size - 1.0) / 2.0
    density = (pl.col("pairs") / possible).clip(0.0, 1.0)
    multi = (pl.col("multi_pairs") / possible).clip(0.0, 1.0)
    identity = (pl.col("identity_pairs") / possible).clip(0.0, 1.0)
    size_part = ((size - 2.0) / 6.0).clip(0.0, 1.0)
    span_days = (pl.col("reg_last") - pl.col("reg_first")).dt.total_days().cast(pl.Float64)
    close = (1.0 - span_days / 365.0).clip(0.0, 1.0)
    burst = (pl.col("burst_members") / size).clip(0.0, 1.0)
    return (
        0.15 * density
        + 0.15 * identity
        + 0.1 * multi
        + 0.1 * size_part
        + 0.15 * pl.col("recent")
        + 0.15 * close
        + 0.2 * burst
    )


def _bursts(candidates: pl.DataFrame, applications: pl.DataFrame) -> pl.DataFrame:
    """Per community: the most applications (and applicants) inside one ``BURST_DAYS`` span."""
    apps = applications.join(candidates, on="eid").select("community", "eid", "application_date")
    if apps.is_empty():
        return pl.DataFrame(
            schema={
                "community": pl.Int64,
                "burst_apps": pl.UInt32,
                "burst_members": pl.UInt32,
                "burst_from": pl.Date,
                "burst_to": pl.Date,
            }
        )
    pairs = apps.join(
        apps.select("community", pl.col("eid").alias("e2"), pl.col("application_date").alias("d2")),
        on="community",
    ).filter(
        (pl.col("d2") >= pl.col("application_date"))
        & ((pl.col("d2") - pl.col("application_date")).dt.total_days() <= BURST_DAYS)
    )
    windows = pairs.group_by("community", "eid", "application_date").agg(
        pl.len().alias("burst_apps"),
        pl.col("e2").n_unique().alias("burst_members"),
        pl.col("d2").max().alias("burst_to"),
    )
    return (
        windows.sort("burst_members", "burst_apps", descending=True)
        .group_by("community")
        .first()
        .select(
            "community",
            pl.col("burst_apps").cast(pl.UInt32),
            pl.col("burst_members").cast(pl.UInt32),
            pl.col("application_date").alias("burst_from"),
            "burst_to",
        )
    )


def _shared_identifiers(
    degrees: pl.DataFrame, members: pl.DataFrame
) -> dict[int, list[tuple[str, str, int]]]:
    """Per community: (kind, masked label, members sharing it), the most shared first."""
    shared = (
        degrees.join(members.select("eid", "community"), on="eid")
        .group_by("community", "kind", "value")
        .agg(pl.len().alias("n"))
        .filter(pl.col("n") >= 2)
        .sort("community", "n", "kind", "value", descending=[False, True, False, False])
    )
    out: dict[int, list[tuple[str, str, int]]] = {}
    for community, kind, value, n in shared.iter_rows():
        out.setdefault(community, []).append((kind, MASKS[kind](value), n))
    return out


def _plural(word: str) -> str:
    return word + ("es" if word.endswith("s") else "s")


def _evidence(row: dict[str, object], shared: list[tuple[str, str, int]]) -> list[str]:
    size = int(str(row["size"]))
    alike: dict[tuple[str, str], list[int]] = {}
    for kind, label, n in shared[:6]:
        alike.setdefault((kind, label), []).append(n)
    lines = [
        f"{counts[0]} of {size} members share the {KIND_WORDS[kind]} {label}."
        if len(counts) == 1
        else f"{len(counts)} {_plural(KIND_WORDS[kind])} masked alike as {label} are shared by "
        f"{' and '.join(str(n) for n in counts)} of {size} members."
        for (kind, label), counts in alike.items()
    ]
    pairs = int(str(row["pairs"]))
    lines.append(
        f"{pairs} of {size * (size - 1) // 2} member pairs share an identifier; "
        f"{int(str(row['identity_pairs']))} share who they are (person, phone, address or "
        f"account) and {int(str(row['multi_pairs']))} two kinds or more."
    )
    first, last = row["reg_first"], row["reg_last"]
    if isinstance(first, date) and isinstance(last, date):
        lines.append(
            f"Members registered between {first:%Y-%m-%d} and {last:%Y-%m-%d} "
            f"({math.floor(float(str(row['recent'])) * size + 0.5)} of {size} within "
            f"{RECENT_MONTHS} months of the as-of month)."
        )
    burst_members = int(str(row["burst_members"]))
    if burst_members >= 2 and isinstance(row["burst_from"], date):
        lines.append(
            f"{burst_members} members applied {int(str(row['burst_apps']))} times between "
            f"{row['burst_from']:%Y-%m-%d} and {row['burst_to']:%Y-%m-%d}."
        )
    return lines


def _empty_rings() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "ring_id": pl.String,
            "members": pl.List(pl.String),
            "score": pl.Float64,
            "evidence": pl.List(pl.String),
        }
    )


def _empty_members() -> pl.DataFrame:
    return pl.DataFrame(schema={"eid": pl.UInt32, "ring_id": pl.String, "ring_score": pl.Float64})
