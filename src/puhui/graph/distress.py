"""Public distress and its contagion along guarantee and supply edges: the one set of rules.

The batch build (``puhui.graph.contagion``, over its integer enterprise ids), the model
features and monitoring (``puhui.graph.features``, over USCCs, for every month of a window
without building a snapshot per month) all call these functions. Beside distress,
``in_default`` is the monitoring rule of a firm seen in default (the ``GUARANTOR_DEFAULT`` and
``CIRCLE_DEFAULT`` signals read it).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Final

import polars as pl

from puhui.graph.sources import add_months

BUREAU: Final = "bureau"
COURT_CASES: Final = "court_cases"
LOAN_HISTORY: Final = "loan_history"

RECENT_MONTHS: Final = 3
"""Distress: an overdue at another lender or a new case as defendant in the last 3 months..."""
LISTING_MONTHS: Final = 24
"""... or a listing as executed or dishonest (被执行人, 失信) in the last 24 months."""
DEFAULT_DAYS_PAST_DUE: Final = 90
"""Seen in default: 90+ days past due at other lenders (bureau) or on the book (Basel/NFRA)."""

ROUNDS: Final = 3
DECAY: Final = 0.5
BORROWER_WEIGHT: Final = 0.3
"""What a borrower takes of its guarantor's distress (a guarantee it may have to replace)."""
BUYER_WEIGHT: Final = 0.5
"""A buyer changes suppliers more easily than a seller collects from a failed buyer."""


def public_status(frames: Mapping[str, pl.LazyFrame], month: date) -> pl.DataFrame:
    """Enterprises in public distress or default at ``month``'s end: ``uscc, distressed,
    in_default``, only those with one of them.

    Distressed (the batch build's rule): at another lender 90+ days past due or any loan
    overdue in the last 3 months (bureau); listed as executed or dishonest in the last 24
    months, or a new case filed against it in the last 3 (court). In default (monitoring's
    rule): 90+ days past due that month elsewhere or on the book, a write-off, or a dishonest
    listing so far. Rows of later months are never read.
    """
    recent = add_months(month, -(RECENT_MONTHS - 1))
    listed_since = add_months(month, -(LISTING_MONTHS - 1))
    bureau = (
        frames[BUREAU]
        .filter(pl.col("month").is_between(recent, month))
        .select(
            "uscc",
            ((pl.col("max_days_past_due") >= 90) | (pl.col("overdue_loans") > 0)).alias(
                "distressed"
            ),
            (
                (pl.col("month") == month) & (pl.col("max_days_past_due") >= DEFAULT_DAYS_PAST_DUE)
            ).alias("in_default"),
        )
    )
    court = (
        frames[COURT_CASES]
        .filter((pl.col("month") <= month) & (pl.col("role") == "defendant"))
        .select(
            "uscc",
            (
                (
                    pl.col("event").is_in(["executed_listed", "dishonest_listed"])
                    & (pl.col("month") >= listed_since)
                )
                | ((pl.col("event") == "filed") & (pl.col("month") >= recent))
            ).alias("distressed"),
            (pl.col("event") == "dishonest_listed").alias("in_default"),
        )
    )
    parts = [bureau, court]
    if LOAN_HISTORY in frames:
        parts.append(
            frames[LOAN_HISTORY]
            .filter(pl.col("month") == month)
            .select(
                "uscc",
                pl.lit(False).alias("distressed"),
                (
                    (pl.col("days_past_due") >= DEFAULT_DAYS_PAST_DUE)
                    | (pl.col("status") == "written_off")
                ).alias("in_default"),
            )
        )
    return (
        pl.concat(parts)
        .group_by("uscc")
        .agg(pl.col("distressed").any(), pl.col("in_default").any())
        .filter(pl.col("distressed") | pl.col("in_default"))
        .sort("uscc")
        .collect()
    )


def exposure_edges(
    pairs: pl.DataFrame, guarantees: pl.DataFrame, sales: pl.DataFrame, *, key: str = "uscc"
) -> pl.DataFrame:
    """``u -> v`` with ``w`` (0..1): how much of ``u``'s distress ``v`` takes.

    ``pairs``: ``seller, buyer, amount`` over the sales window; ``guarantees``: ``guarantor,
    borrower, amount_fen``; ``sales``: ``<key>, sales`` (the window's sales of each seller). A
    seller takes the buyer's share of its sales, a buyer half the supplier's share of its
    purchases, a guarantor the guaranteed amount against its sales (all of it without sales),
    a borrower ``BORROWER_WEIGHT``. Enterprises are named by ``key``: USCCs, or the batch
    build's integer ids.
    """
    bought = pairs.group_by("buyer").agg(pl.col("amount").sum().alias("bought"))
    trade = pairs.join(sales.rename({key: "seller"}), on="seller").join(bought, on="buyer")
    seller_exposed = trade.select(
        pl.col("buyer").alias("u"),
        pl.col("seller").alias("v"),
        (pl.col("amount") / pl.col("sales")).alias("w"),
    )
    buyer_exposed = trade.select(
        pl.col("seller").alias("u"),
        pl.col("buyer").alias("v"),
        (BUYER_WEIGHT * pl.col("amount") / pl.col("bought")).alias("w"),
    )
    guarantor_exposed = guarantees.join(
        sales.rename({key: "guarantor"}), on="guarantor", how="left"
    ).select(
        pl.col("borrower").alias("u"),
        pl.col("guarantor").alias("v"),
        pl.when(pl.col("sales") > 0)
        .then(pl.col("amount_fen") / pl.col("sales"))
        .otherwise(1.0)
        .alias("w"),
    )
    borrower_exposed = guarantees.select(
        pl.col("guarantor").alias("u"),
        pl.col("borrower").alias("v"),
        pl.lit(BORROWER_WEIGHT).alias("w"),
    )
    return pl.concat(
        [
            frame.with_columns(pl.col("w").cast(pl.Float64).clip(0.0, 1.0))
            for frame in (seller_exposed, buyer_exposed, guarantor_exposed, borrower_exposed)
        ]
    ).filter(pl.col("w") > 0)


def contagion(edges: pl.DataFrame, distressed: pl.Series, *, key: str = "uscc") -> pl.DataFrame:
    """``<key>, contagion_score`` of every enterprise distress reaches.

    A distressed firm carries risk 1; each round a firm passes on what reached it, halved
    (``DECAY``), for ``ROUNDS`` rounds; ``score = 1 - prod(1 - w * risk)`` over what reaches it.
    """
    bad = distressed.alias(key).to_frame().with_columns(pl.lit(1.0, pl.Float64).alias("risk"))
    score = pl.DataFrame(schema={key: distressed.dtype, "score": pl.Float64})
    for _ in range(ROUNDS):
        risk = (
            bad.join(score, on=key, how="full", coalesce=True)
            .select(key, pl.coalesce("risk", DECAY * pl.col("score")).alias("risk"))
            .filter(pl.col("risk") > 0)
        )
        score = (
            edges.join(risk.rename({key: "u"}), on="u")
            .group_by(pl.col("v").alias(key))
            # Summed in sorted order, so that a run gives the same floats as the last.
            .agg(
                (1.0 - (pl.col("w") * pl.col("risk")).clip(0.0, 0.999999))
                .log()
                .sort()
                .sum()
                .alias("s")
            )
            .select(key, (1.0 - pl.col("s").exp()).clip(0.0, 1.0).alias("score"))
        )
    return score.rename({"score": "contagion_score"}).sort(key)
