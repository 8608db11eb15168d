"""Contagion (风险传染) in the batch build: the rules of ``puhui.graph.distress`` over the
build's integer enterprise ids (``eid``), so a million enterprises' edges stay small.

Distress is public (a bureau overdue or 90+ days past due in the last three months, an
executed or dishonest listing in two years, a new case as defendant in three months); it
reaches a neighbour in proportion to what the neighbour has at stake, over a few rounds (see
``distress.exposure_edges`` and ``distress.contagion``).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.graph import distress as rules
from puhui.graph.sources import Sources


def distressed(sources: Sources, index: pl.DataFrame) -> pl.DataFrame:
    """``eid`` of enterprises in public distress at the as-of month."""
    status = rules.public_status(
        {rules.BUREAU: sources.bureau(), rules.COURT_CASES: sources.court_cases()},
        sources.as_of,
    )
    bad = status.filter(pl.col("distressed")).select("uscc")
    return index.join(bad, on="uscc", how="semi").select("eid")


def exposure_edges(
    invoices: pl.DataFrame, guarantees: pl.DataFrame, sales_since: date
) -> pl.DataFrame:
    """``u`` -> ``v`` with ``w``: how much of ``u``'s distress ``v`` takes (0..1).

    ``invoices``: ``src, dst, month, amount_fen`` by eid; ``guarantees``: ``src, dst,
    amount_fen`` (guarantor -> borrower); sales are the invoiced sales since ``sales_since``.
    """
    pairs = (
        invoices.filter(pl.col("month") >= sales_since)
        .group_by(pl.col("src").alias("seller"), pl.col("dst").alias("buyer"))
        .agg(pl.col("amount_fen").sum().alias("amount"))
    )
    sales = pairs.group_by(pl.col("seller").alias("eid")).agg(pl.col("amount").sum().alias("sales"))
    return rules.exposure_edges(
        pairs,
        guarantees.select(
            pl.col("src").alias("guarantor"), pl.col("dst").alias("borrower"), "amount_fen"
        ),
        sales,
        key="eid",
    )


def contagion(
    edges: pl.DataFrame, distress: pl.DataFrame, guarantees: pl.DataFrame
) -> pl.DataFrame:
    """eid, distressed, contagion_score, guarantors_in_distress for every enterprise reached."""
    score = rules.contagion(edges, distress["eid"], key="eid")
    guarantors = (
        guarantees.join(distress.rename({"eid": "src"}), on="src", how="semi")
        .group_by(pl.col("dst").alias("eid"))
        .agg(pl.col("src").n_unique().cast(pl.Int32).alias("guarantors_in_distress"))
    )
    return score.join(guarantors, on="eid", how="full", coalesce=True).join(
        distress.select("eid", pl.lit(True).alias("distressed")),
        on="eid",
        how="full",
        coalesce=True,
    )
