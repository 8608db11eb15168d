"""``build(market, as_of, out)``: the batch graph of a market at a month, written as a snapshot.

Only data of months up to the as-of month is read (see :mod:`puhui.graph.sources`). The steps:
number the registered enterprises; gather identifier links and invoice and guarantee edge
lists (odd rows counted in the report, never fatal); run the detectors (rings, packaging,
round trips, circles, contagion); hash the identifiers under the platform's graph-identifier
key (HMAC-SHA256; the key stays with the caller, the report names only its id); write the
snapshot. The edge table, tens of millions of invoice rows at a million enterprises, streams
to its file; the rest is small.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from puhui.graph.circles import detect_circles
from puhui.graph.contagion import contagion, distressed, exposure_edges
from puhui.graph.facts import enterprise_facts
from puhui.graph.identifiers import EDGE_KIND_OF, hashed_identifiers, identifier_links, merged_links
from puhui.graph.packaging import inflation_scores, packaging_scores
from puhui.graph.rings import detect_rings
from puhui.graph.round_trips import detect_round_trips
from puhui.graph.snapshot import (
    ENTERPRISE_PREFIX,
    FORMAT_VERSION,
    Anomalies,
    BuildReport,
    check_key,
    key_id,
    write_snapshot,
)
from puhui.graph.sources import Sources, add_months
from puhui.graph.trade import guarantee_edges, invoice_edges

log = logging.getLogger(__name__)


class _Steps:
    """Logs how long each step took (the benchmark reads these at a million enterprises)."""

    def __init__(self) -> None:
        self.last = time.perf_counter()

    def done(self, step: str) -> None:
        now = time.perf_counter()
        log.info("graph step %s: %.1f s", step, now - self.last)
        self.last = now


def build(market: Path, as_of: date, out: Path, *, key: bytes) -> BuildReport:
    """Build the graph of ``market`` as known at ``as_of`` (a month's first day) into ``out``.

    ``key`` is the graph-identifier key (``Settings.graph_identifier_key``): the online check
    needs the same one to find an applicant's identifiers in the snapshot."""
    started = time.perf_counter()
    check_key(key)
    sources = Sources.open(market, as_of)
    registry = sources.enterprises().collect()
    duplicate_registry = registry.height - registry["uscc"].n_unique()
    index = registry.unique("uscc", keep="first", maintain_order=True).with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("eid")
    )
    steps = _Steps()
    links = identifier_links(sources, index)
    merged = merged_links(links.frame)
    steps.done("identifier links")
    invoices = invoice_edges(sources, index)
    guarantees = guarantee_edges(sources, index)
    steps.done("invoice and guarantee edges")
    apps = (
        sources.applications()
        .collect()
        .unique("application_id", keep="first")
        .join(index.select("uscc", "eid"), on="uscc")
    )
    rings = detect_rings(merged, index, apps.select("eid", "application_date"), as_of)
    steps.done("rings")
    packaging = packaging_scores(
        sources, apps, rings.communities, index.select("eid", "registration_date")
    )
    inflation = inflation_scores(sources, index)
    steps.done("packaging")
    trips = detect_round_trips(invoices.frame, index, as_of)
    steps.done("round trips")
    distress = distressed(sources, index)
    circles = detect_circles(guarantees.frame, index, distress)
    spread = contagion(
        exposure_edges(invoices.frame, guarantees.frame, add_months(as_of, -11)),
        distress,
        guarantees.frame,
    )
    steps.done("circles and contagion")
    facts = enterprise_facts(
        index=index,
        links=merged,
        invoices=invoices.frame,
        guarantees=guarantees.frame,
        applications=apps,
        as_of_end=sources.as_of_end,
        rings=rings.members,
        packaging=packaging,
        inflation=inflation,
        round_trips=trips.facts,
        circles=circles.members,
        contagion=spread,
    )
    steps.done("enterprise facts")
    hashed = hashed_identifiers(merged, key)
    steps.done("hashed identifiers")
    nodes = _nodes(index, merged, hashed)
    edges = _edges(index, merged, hashed, invoices.frame, guarantees.frame)
    anomalies = Anomalies(
        dangling_edges=invoices.dangling + guarantees.dangling + links.dangling_applications,
        self_loops=invoices.self_loops + guarantees.self_loops,
        duplicate_identifiers=duplicate_registry
        + invoices.duplicates
        + guarantees.duplicates
        + links.duplicate_applications,
        missing_enterprises={
            k: v
            for k, v in {
                "owners": links.missing_owners,
                "applications": links.dangling_applications,
            }.items()
            if v
        },
    )
    counts = {
        "enterprises": index.height,
        "nodes": nodes.height,
        "edges": merged.height + invoices.frame.height + guarantees.frame.height,
        "identifier_edges": merged.height,
        "invoice_edges": invoices.frame.height,
        "guarantee_edges": guarantees.frame.height,
        "applications": apps.height,
        "rings": rings.rings.height,
        "ring_members": rings.members.height,
        "circles": circles.circles.height,
        "round_trips": trips.trips.height,
        "distressed": distress.height,
    }
    report = BuildReport(
        format_version=FORMAT_VERSION,
        as_of=as_of,
        built_at=datetime.now(UTC),
        key_id=key_id(key),
        counts=counts,
        anomalies=anomalies,
        seconds=round(time.perf_counter() - started, 3),
    )
    write_snapshot(
        out,
        report,
        {
            "nodes": nodes,
            "edges": edges,
            "enterprise_facts": facts,
            "rings": rings.rings,
            "circles": circles.circles,
            "round_trips": trips.trips,
        },
    )
    steps.done("write")
    return report


def _nodes(index: pl.DataFrame, links: pl.DataFrame, hashed: pl.DataFrame) -> pl.DataFrame:
    enterprises = index.select(
        (pl.lit(ENTERPRISE_PREFIX) + pl.col("uscc")).alias("node"),
        pl.lit("enterprise").alias("kind"),
        pl.col("name").alias("label"),
        pl.col("registration_date").dt.truncate("1mo").alias("first_month"),
    )
    identifiers = (
        links.group_by("kind", "value")
        .agg(pl.col("month").min().alias("first_month"))
        .join(hashed, on=["kind", "value"])
        .select("node", "kind", "label", "first_month")
    )
    return pl.concat([enterprises, identifiers])


def _edges(
    index: pl.DataFrame,
    links: pl.DataFrame,
    hashed: pl.DataFrame,
    invoices: pl.DataFrame,
    guarantees: pl.DataFrame,
) -> pl.LazyFrame:
    """Every edge, lazily: the invoice rows stream to the file instead of sitting in memory."""
    names = index.lazy().select("eid", (pl.lit(ENTERPRISE_PREFIX) + pl.col("uscc")).alias("n"))
    identifier_edges = (
        links.lazy()
        .join(hashed.lazy(), on=["kind", "value"])
        .join(names, on="eid")
        .select(
            pl.col("n").alias("src"),
            pl.col("node").alias("dst"),
            pl.col("kind").replace_strict(EDGE_KIND_OF, return_dtype=pl.String).alias("kind"),
            "month",
            "last_month",
            pl.lit(None, dtype=pl.Int64).alias("amount_fen"),
            "source",
        )
    )

    def trade(frame: pl.DataFrame, kind: str, source: str, last: pl.Expr) -> pl.LazyFrame:
        return (
            frame.lazy()
            .join(names.rename({"eid": "src", "n": "s"}), on="src")
            .join(names.rename({"eid": "dst", "n": "d"}), on="dst")
            .select(
                pl.col("s").alias("src"),
                pl.col("d").alias("dst"),
                pl.lit(kind).alias("kind"),
                "month",
                last.alias("last_month"),
                "amount_fen",
                pl.lit(source).alias("source"),
            )
        )

    return pl.concat(
        [
            identifier_edges,
            trade(invoices, "invoice", "invoices", pl.col("month")),
            trade(guarantees, "guarantee", "guarantees", pl.col("month")),
        ]
    )
