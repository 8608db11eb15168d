"""ENTERPRISE_FACTS: one row per registered enterprise, every detector's answer side by side."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from puhui.graph.rings import HUB_LIMIT

CONTACT_KINDS = ("phone", "address", "device", "account")
"""``shared_contact_count`` counts other enterprises on these (not the person: a second
business of one owner is ordinary; not the network: many share a carrier's address)."""


def shared_contacts(links: pl.DataFrame) -> pl.DataFrame:
    """Other enterprises sharing a contact identifier. Identifiers shared by more than
    ``HUB_LIMIT`` are counted by their size rather than paired (an agent's device would
    otherwise make millions of pairs); an enterprise on two of them may be counted twice."""
    distinct = (
        links.filter(pl.col("kind").is_in(CONTACT_KINDS))
        .select("eid", "kind", "value")
        .unique()
        .with_columns(pl.len().over("kind", "value").alias("deg"))
        .filter(pl.col("deg") >= 2)
    )
    small = distinct.filter(pl.col("deg") <= HUB_LIMIT)
    paired = (
        small.join(
            small.select("kind", "value", pl.col("eid").alias("other")), on=["kind", "value"]
        )
        .filter(pl.col("eid") != pl.col("other"))
        .group_by("eid")
        .agg(pl.col("other").n_unique().alias("paired"))
    )
    hubs = (
        distinct.filter(pl.col("deg") > HUB_LIMIT)
        .group_by("eid")
        .agg((pl.col("deg") - 1).sum().alias("hub"))
    )
    return paired.join(hubs, on="eid", how="full", coalesce=True).select(
        "eid",
        (pl.col("paired").fill_null(0) + pl.col("hub").fill_null(0))
        .cast(pl.Int32)
        .alias("shared_contact_count"),
    )


def trade_degree(invoices: pl.DataFrame, guarantees: pl.DataFrame) -> pl.DataFrame:
    """Distinct enterprise neighbours through invoices and guarantees, either direction."""
    pairs = pl.concat([invoices.select("src", "dst"), guarantees.select("src", "dst")]).unique()
    both = pl.concat(
        [
            pairs.select(pl.col("src").alias("eid"), pl.col("dst").alias("other")),
            pairs.select(pl.col("dst").alias("eid"), pl.col("src").alias("other")),
        ]
    )
    return both.group_by("eid").agg(pl.col("other").n_unique().cast(pl.Int32).alias("degree"))


def enterprise_facts(
    *,
    index: pl.DataFrame,
    links: pl.DataFrame,
    invoices: pl.DataFrame,
    guarantees: pl.DataFrame,
    applications: pl.DataFrame,
    as_of_end: date,
    rings: pl.DataFrame,
    packaging: pl.DataFrame,
    inflation: pl.DataFrame,
    round_trips: pl.DataFrame,
    circles: pl.DataFrame,
    contagion: pl.DataFrame,
) -> pl.DataFrame:
    """Every ENTERPRISE_FACTS column for every enterprise of ``index``; absent answers are
    the neutral value (0, False) or null where the contract says null (ring, circle)."""
    since = as_of_end - timedelta(days=30)
    apps_30d = (
        applications.filter(pl.col("application_date") > since)
        .group_by("eid")
        .agg(pl.len().cast(pl.Int32).alias("applications_30d"))
    )
    frame = index.select("eid", "uscc")
    for part in (
        shared_contacts(links),
        apps_30d,
        rings,
        packaging,
        inflation,
        round_trips,
        circles.rename({"circle_id": "guarantee_circle", "exposure_fen": "circle_exposure_fen"}),
        contagion,
        trade_degree(invoices, guarantees),
    ):
        frame = frame.join(part, on="eid", how="left")
    return frame.select(
        "uscc",
        pl.col("shared_contact_count").fill_null(0).cast(pl.Int32),
        pl.col("applications_30d").fill_null(0).cast(pl.Int32),
        "ring_id",
        "ring_score",
        pl.col("packaging_score").fill_null(0.0),
        pl.col("inflation_score").fill_null(0.0),
        pl.col("invoice_round_trip_ratio").fill_null(0.0),
        pl.col("round_trip").fill_null(False),
        "guarantee_circle",
        "circle_exposure_fen",
        pl.col("distressed").fill_null(False),
        pl.col("contagion_score").fill_null(0.0),
        pl.col("guarantors_in_distress").fill_null(0).cast(pl.Int32),
        pl.col("degree").fill_null(0).cast(pl.Int32),
    ).sort("uscc")
