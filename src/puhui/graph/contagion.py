"""Contagion (风险传染): public distress propagated along guarantee and supply edges.

Distress is public: a bureau record 90+ days past due or an overdue loan in the last three
months, a listing as executed or dishonest (被执行人, 失信) in the last two years, or a new
case as defendant in the last three months. It reaches a neighbour in proportion to what the
neighbour has at stake: a guarantor pays for a distressed borrower (the guarantee against its
own sales); a seller loses what a distressed buyer owes (the buyer's share of its sales); a
borrower loses a distressed guarantor's backing and a buyer a distressed supplier (weaker).
Each round a neighbour passes on what it received, halved (``DECAY``), for ``ROUNDS`` rounds:
``contagion_score = 1 - prod(1 - weight * risk)`` over what reaches the enterprise, 0..1.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.graph.sources import Sources, add_months

ROUNDS = 3
DECAY = 0.5
BORROWER_WEIGHT = 0.3
"""What a borrower loses when its guarantor is in distress (a guarantee it may have to
replace), against the guarantor's loss of the guaranteed amount."""
BUYER_WEIGHT = 0.5
"""A buyer can change suppliers more easily than a seller can collect from a failed buyer."""
RECENT_MONTHS = 3
LISTING_MONTHS = 24


def distressed(sources: Sources, index: pl.DataFrame) -> pl.DataFrame:
    """``eid`` of enterprises in public distress at the as-of month."""
    as_of = sources.as_of
    recent = add_months(as_of, -(RECENT_MONTHS - 1))
    bureau = (
        sources.bureau()
        .filter(pl.col("month") >= recent)
        .filter((pl.col("max_days_past_due") >= 90) | (pl.col("overdue_loans") > 0))
        .select("uscc")
    )
    court = (
        sources.court_cases()
        .filter(pl.col("role") == "defendant")
        .filter(
            (
                pl.col("event").is_in(["executed_listed", "dishonest_listed"])
                & (pl.col("month") >= add_months(as_of, -(LISTING_MONTHS - 1)))
            )
            | ((pl.col("event") == "filed") & (pl.col("month") >= recent))
        )
        .select("uscc")
    )
    usccs = pl.concat([bureau, court]).unique().collect(engine="streaming")
    return index.join(usccs, on="uscc", how="semi").select("eid")


def exposure_edges(
    invoices: pl.DataFrame, guarantees: pl.DataFrame, sales_since: date
) -> pl.DataFrame:
    """``u`` -> ``v`` with ``w``: how much of ``u``'s distress ``v`` takes (0..1)."""
    window = invoices.filter(pl.col("month") >= sales_since)
    pair = window.group_by("src", "dst").agg(pl.col("amount_fen").sum().alias("amount"))
    sales = pair.group_by("src").agg(pl.col("amount").sum().alias("sales"))
    bought = pair.group_by("dst").agg(pl.col("amount").sum().alias("bought"))
    pair = pair.join(sales, on="src").join(bought, on="dst")
    seller_exposed = pair.select(
        pl.col("dst").alias("u"),
        pl.col("src").alias("v"),
        (pl.col("amount") / pl.col("sales")).alias("w"),
    )
    buyer_exposed = pair.select(
        pl.col("src").alias("u"),
        pl.col("dst").alias("v"),
        (BUYER_WEIGHT * pl.col("amount") / pl.col("bought")).alias("w"),
    )
    guarantor_exposed = guarantees.join(
        sales.rename({"src": "g"}), left_on="src", right_on="g", how="left"
    ).select(
        pl.col("dst").alias("u"),
        pl.col("src").alias("v"),
        pl.when(pl.col("sales") > 0)
        .then(pl.col("amount_fen") / pl.col("sales"))
        .otherwise(1.0)
        .alias("w"),
    )
    borrower_exposed = guarantees.select(
        pl.col("src").alias("u"),
        pl.col("dst").alias("v"),
        pl.lit(BORROWER_WEIGHT).alias("w"),
    )
    return pl.concat(
        [
            frame.with_columns(pl.col("w").cast(pl.Float64).clip(0.0, 1.0))
            for frame in (seller_exposed, buyer_exposed, guarantor_exposed, borrower_exposed)
        ]
    ).filter(pl.col("w") > 0)


def contagion(
    edges: pl.DataFrame, distress: pl.DataFrame, guarantees: pl.DataFrame
) -> pl.DataFrame:
    """eid, distressed, contagion_score, guarantors_in_distress for every enterprise reached."""
    bad = distress.select("eid", pl.lit(1.0).alias("risk"))
    score = pl.DataFrame(schema={"eid": pl.UInt32, "score": pl.Float64})
    for _ in range(ROUNDS):
        risk = (
            bad.join(score, on="eid", how="full", coalesce=True)
            .select("eid", pl.coalesce("risk", DECAY * pl.col("score")).alias("risk"))
            .filter(pl.col("risk") > 0)
        )
        score = (
            edges.join(risk.rename({"eid": "u"}), on="u")
            .group_by(pl.col("v").alias("eid"))
            .agg((1.0 - (pl.col("w") * pl.col("risk")).clip(0.0, 0.999999)).log().sum().alias("s"))
            .select("eid", (1.0 - pl.col("s").exp()).clip(0.0, 1.0).alias("score"))
        )
    guarantors = (
        guarantees.join(distress.rename({"eid": "src"}), on="src", how="semi")
        .group_by(pl.col("dst").alias("eid"))
        .agg(pl.col("src").n_unique().cast(pl.Int32).alias("guarantors_in_distress"))
    )
    return (
        score.rename({"score": "contagion_score"})
        .join(guarantors, on="eid", how="full", coalesce=True)
        .join(
            bad.select("eid", pl.lit(True).alias("distressed")), on="eid", how="full", coalesce=True
        )
    )
