"""Packaging (中介包装): an intermediary's footprint on an enterprise's applications.

An agent who packages clients applies for them from its own phone and network: the same
device, IP address or phone turns up on applications of enterprises that share nothing else
(not in one identifier community, see rings) within ``FOOTPRINT_DAYS``. Packaged data is also
freshly inflated: money cycled through the settlement account in the months before the
application (养流水), credit enquiries piling up, a recent registration. Each signal is a
0..1 part; the application's score is ``1 - prod(1 - weight * part)`` and the enterprise's
``packaging_score`` the highest of its applications in the last twelve months.

A firm that never applied before gets nothing from that score, so ``inflation_scores`` asks
the same question of every enterprise at the as-of month, as if it applied the month after:
is its settlement inflow freshly pumped, has the pumped money gone out to related parties, are
other lenders' enquiries piling up? A seasonal upswing moves the inflow only; pumping moves all
three, hence a noisy-or of the parts that one part alone does not push past the policy.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.graph.sources import Sources, add_months

FOOTPRINT_DAYS = 30
FOOTPRINT_KINDS = ("device_id", "ip_address", "phone")
WEIGHTS: dict[str, float] = {
    "footprint": 0.7,
    "inflated": 0.5,
    "enquiries": 0.3,
    "intermediary": 0.3,
    "fresh": 0.2,
}
FRESH_DAYS = 180
INFLATION_WEIGHTS: dict[str, float] = {"inflated": 0.5, "related": 0.5, "enquiries": 0.4}
"""Weights of the enterprise-level ``inflation_score``; any one part alone stays at or below
0.5."""
RECENT_MONTHS = 4
"""The as-of month and the 3 before: the months pumped before an application the month after."""
BASELINE_MONTHS = 6
"""The months before those, the firm's ordinary turnover."""
ENQUIRY_MONTHS = 2


def footprints(applications: pl.DataFrame, communities: pl.DataFrame) -> pl.DataFrame:
    """Per application: unrelated enterprises on the same device, IP or phone within the days."""
    apps = applications.join(communities, on="eid", how="left").with_columns(
        pl.coalesce("community", -pl.col("eid").cast(pl.Int64) - 1).alias("community")
    )
    found = []
    for column in FOOTPRINT_KINDS:
        side = apps.select(
            pl.col(column),
            pl.col("eid").alias("other"),
            pl.col("community").alias("other_community"),
            pl.col("application_date").alias("other_date"),
        )
        found.append(
            apps.select("application_id", "eid", "community", "application_date", column)
            .join(side, on=column)
            .filter(
                (pl.col("other_community") != pl.col("community"))
                & (
                    (pl.col("other_date") - pl.col("application_date")).dt.total_days().abs()
                    <= FOOTPRINT_DAYS
                )
            )
            .select("application_id", "other")
        )
    return (
        pl.concat(found)
        .group_by("application_id")
        .agg(pl.col("other").n_unique().alias("unrelated"))
    )


def inflation(sources: Sources, applications: pl.DataFrame) -> pl.DataFrame:
    """Per application: settlement inflow of the 4 months before over the 6 before those, and
    hard credit enquiries in the application month and the two before."""
    since = add_months(sources.as_of, -(12 + 10))
    keys = applications.select(
        "application_id", "uscc", pl.col("application_date").dt.truncate("1mo").alias("am")
    )
    usccs = keys.select("uscc").unique()
    settle = (
        sources.settlement(since)
        .join(usccs.lazy(), on="uscc", how="semi")
        .collect(engine="streaming")
    )
    bureau = (
        sources.bureau()
        .filter(pl.col("month") >= since)
        .join(usccs.lazy(), on="uscc", how="semi")
        .select("uscc", "month", "hard_enquiries")
        .collect(engine="streaming")
    )
    months = pl.col("month").dt.year() * 12 + pl.col("month").dt.month()
    app_m = pl.col("am").dt.year() * 12 + pl.col("am").dt.month()
    lag = (app_m - months).alias("lag")
    flows = (
        keys.join(settle, on="uscc")
        .with_columns(lag)
        .group_by("application_id")
        .agg(
            pl.col("inflow_fen").filter(pl.col("lag").is_between(1, 4)).mean().alias("recent"),
            pl.col("inflow_fen").filter(pl.col("lag").is_between(5, 10)).mean().alias("before"),
        )
    )
    enquiries = (
        keys.join(bureau, on="uscc")
        .with_columns(lag)
        .filter(pl.col("lag").is_between(0, 2))
        .group_by("application_id")
        .agg(pl.col("hard_enquiries").sum().alias("enquiries"))
    )
    return flows.join(enquiries, on="application_id", how="full", coalesce=True)


def _noisy_or(weights: dict[str, float]) -> pl.Expr:
    keep = pl.lit(1.0)
    for name, weight in weights.items():
        keep = keep * (1.0 - weight * pl.col(name))
    return 1.0 - keep


def inflation_scores(sources: Sources, index: pl.DataFrame) -> pl.DataFrame:
    """eid, inflation_score (0..1) for every enterprise of ``index`` (uscc, eid) with
    settlement or bureau data in the last ``RECENT_MONTHS + BASELINE_MONTHS`` months.

    Parts: recent inflow over the baseline (1.3x is ordinary noise, 2.5x and more is full);
    the related-party share of the recent inflow (a tenth is ordinary, 40 % full); hard
    enquiries in the as-of month and the one before (5 is full). Reads only months up to the
    as-of month, aggregated by the streaming engine so a million firms stay small."""
    as_of = sources.as_of
    since = add_months(as_of, -(RECENT_MONTHS + BASELINE_MONTHS - 1))
    lag = (
        as_of.year * 12
        + as_of.month
        - (pl.col("month").dt.year() * 12 + pl.col("month").dt.month())
    ).alias("lag")
    recent = pl.col("lag") < RECENT_MONTHS
    flows = (
        sources.settlement(since)
        .with_columns(lag)
        .group_by("uscc")
        .agg(
            pl.col("inflow_fen").filter(recent).mean().alias("recent"),
            pl.col("inflow_fen").filter(~recent).mean().alias("before"),
            pl.col("related_party_transfer_fen").filter(recent).sum().alias("related_fen"),
            pl.col("inflow_fen").filter(recent).sum().alias("recent_fen"),
        )
    )
    enquiries = (
        sources.bureau()
        .filter(pl.col("month") >= add_months(as_of, -(ENQUIRY_MONTHS - 1)))
        .group_by("uscc")
        .agg(pl.col("hard_enquiries").sum().alias("enquiries"))
    )
    parts = (
        flows.join(enquiries, on="uscc", how="full", coalesce=True)
        .join(index.select("uscc", "eid").lazy(), on="uscc")
        .select(
            "eid",
            ((pl.col("recent") / pl.col("before") - 1.3) / 1.2)
            .fill_nan(0.0)
            .fill_null(0.0)
            .clip(0.0, 1.0)
            .alias("inflated"),
            ((pl.col("related_fen") / pl.col("recent_fen") - 0.1) / 0.3)
            .fill_nan(0.0)
            .fill_null(0.0)
            .clip(0.0, 1.0)
            .alias("related"),
            (pl.col("enquiries").fill_null(0) / 5.0).clip(0.0, 1.0).alias("enquiries"),
        )
    )
    return parts.select("eid", _noisy_or(INFLATION_WEIGHTS).alias("inflation_score")).collect(
        engine="streaming"
    )


def packaging_scores(
    sources: Sources,
    applications: pl.DataFrame,
    communities: pl.DataFrame,
    registered: pl.DataFrame,
) -> pl.DataFrame:
    """eid, packaging_score (0..1) for enterprises with applications in the last 12 months.

    ``applications``: application_id, eid, uscc, application_date, channel, device_id,
    ip_address, phone; ``registered``: eid, registration_date.
    """
    since: date = add_months(sources.as_of, -11)
    recent = applications.filter(pl.col("application_date") >= since)
    if recent.is_empty():
        return pl.DataFrame(schema={"eid": pl.UInt32, "packaging_score": pl.Float64})
    parts = (
        recent.select("application_id", "eid", "application_date", "channel")
        .join(footprints(applications, communities), on="application_id", how="left")
        .join(inflation(sources, recent), on="application_id", how="left")
        .join(registered, on="eid", how="left")
        .select(
            "eid",
            (1.0 - 0.5 ** pl.col("unrelated").fill_null(0).cast(pl.Float64)).alias("footprint"),
            ((pl.col("recent") / pl.col("before") - 1.3) / 1.2)
            .fill_nan(0.0)
            .fill_null(0.0)
            .clip(0.0, 1.0)
            .alias("inflated"),
            (pl.col("enquiries").fill_null(0) / 6.0).clip(0.0, 1.0).alias("enquiries"),
            (pl.col("channel") == "intermediary").cast(pl.Float64).alias("intermediary"),
            (
                (pl.col("application_date") - pl.col("registration_date")).dt.total_days()
                <= FRESH_DAYS
            )
            .fill_null(False)
            .cast(pl.Float64)
            .alias("fresh"),
        )
    )
    return parts.group_by("eid").agg(_noisy_or(WEIGHTS).max().alias("packaging_score"))
