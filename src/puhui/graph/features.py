"""Graph features of enterprises month by month, point in time: neighbours in distress along
guarantee and supply edges, the guarantee circle under stress, and a contagion score.

Who reads them: the default model (as optional features, ``graph_features``; measured in
``bench/graph_uplift.py``) and post-loan monitoring (trigger inputs, ``month_facts``). Both
need the facts for many months — every origination month of a training window, every month
of a monitoring backtest — so they are computed here straight from the market tables with
Polars rather than by building a full snapshot per month (``puhui graph build`` also finds
rings, packaging and round trips, which neither reader needs). The definitions are the
snapshot's (``puhui.graph.snapshot.ENTERPRISE_FACTS`` and ``CIRCLES``): a guarantee circle
(互保圈) is a strongly connected part of the guarantee graph, named by its smallest member;
its exposure is the guaranteed amount between members; distress and the contagion score are
the batch build's rules (:mod:`puhui.graph.distress`).

**Point in time.** The facts of month ``M`` read only rows of months up to ``M`` (guarantees
started by then, invoices of the 12 months to ``M``, the bureau of its last 3 months, the loan
book of ``M`` and ``M - 1``, court events up to ``M``): what is known at ``M``'s end. A
model whose other features read months before its as-of date (``puhui.risk.features``) takes
the graph of the month before.

The graph does not import the market or the risk layer: it reads the tables by name from any
mapping of lazy frames with the market schema (``MarketTables.frames`` is one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Final

import numpy as np
import polars as pl

from puhui.graph.distress import contagion, exposure_edges, public_status
from puhui.graph.sources import add_months
from puhui.lazy import lazy_module

if TYPE_CHECKING:
    from scipy import sparse
    from scipy.sparse import csgraph
else:
    sparse = lazy_module("scipy.sparse")
    csgraph = lazy_module("scipy.sparse.csgraph")

GUARANTEES: Final = "guarantees"
INVOICES: Final = "invoices"
"""Tables read besides ``bureau``, ``court_cases`` and ``loan_history`` (market schema);
``guarantees`` and ``loan_history`` may be absent."""

SUPPLY_MONTHS: Final = 12
"""Trade partners and their shares are read from the invoices of the last 12 months."""
MAIN_PARTNER_SHARE: Final = 0.2
"""A buyer (supplier) taking (giving) at least this share of the firm's sales (purchases)."""

GRAPH_FEATURE_NAMES: Final[tuple[str, ...]] = (
    "graph_guarantors_distressed",
    "graph_guaranteed_distressed",
    "graph_circle_size",
    "graph_circle_distressed_share",
    "graph_circle_exposure_log",
    "graph_buyers_distressed_share",
    "graph_suppliers_distressed_share",
    "graph_main_partner_distressed",
    "graph_contagion_score",
    "graph_partners",
)
"""The model features (floats; zero for an enterprise with no graph neighbour)."""

GRAPH_MONOTONE_RISK: Final[dict[str, int]] = {
    "graph_guarantors_distressed": 1,
    "graph_guaranteed_distressed": 1,
    "graph_circle_distressed_share": 1,
    "graph_buyers_distressed_share": 1,
    "graph_suppliers_distressed_share": 1,
    "graph_main_partner_distressed": 1,
    "graph_contagion_score": 1,
}
"""Where the business expects risk to go: more distress around the firm, more risk."""

FACT_SCHEMA: Final[dict[str, pl.DataType]] = {
    "uscc": pl.String(),
    "distressed": pl.Boolean(),
    "in_default": pl.Boolean(),
    "guarantors_in_distress": pl.Int32(),
    "guarantor_in_default": pl.Boolean(),
    "guaranteed_in_distress": pl.Int32(),
    "guaranteed_in_default": pl.Boolean(),
    "guaranteed_defaulted": pl.Boolean(),
    "guarantee_circle": pl.String(),
    "circle_size": pl.Int32(),
    "circle_others_distressed": pl.Int32(),
    "circle_distressed_share": pl.Float64(),
    "circle_exposure_fen": pl.Int64(),
    "buyers_distressed_share": pl.Float64(),
    "suppliers_distressed_share": pl.Float64(),
    "main_partner_distressed": pl.Boolean(),
    "main_partner_in_default": pl.Boolean(),
    "main_partner_defaulted": pl.Boolean(),
    "contagion_score": pl.Float64(),
    "partners": pl.Int32(),
}
"""One month's facts of an enterprise with at least one guarantee or trade neighbour.
``circle_others_distressed`` and ``circle_distressed_share`` count the *other* members (the
firm's own distress is not contagion; the snapshot's ``CIRCLES.members_distressed`` counts all);
``partners`` counts guarantee and trade partners only (the snapshot's ``degree`` also counts
firms sharing an identifier); ``circle_size`` is 0 and the circle null when the firm
is in no circle. ``..._defaulted`` are events: a partner in default at the month's end that
was not at the end of the month before (a state held for a year would raise a task a month)."""


def _guarantee_edges(frames: Mapping[str, pl.LazyFrame], month: date) -> pl.DataFrame:
    schema = {"guarantor_uscc": pl.String, "borrower_uscc": pl.String, "amount_fen": pl.Int64}
    if GUARANTEES not in frames:
        return pl.DataFrame(schema=schema)
    return (
        frames[GUARANTEES]
        .filter(
            (pl.col("start_month") <= month) & (pl.col("guarantor_uscc") != pl.col("borrower_uscc"))
        )
        .select("guarantor_uscc", "borrower_uscc", pl.col("amount_fen").cast(pl.Int64))
        .unique(["guarantor_uscc", "borrower_uscc"], keep="first", maintain_order=True)
        .sort("guarantor_uscc", "borrower_uscc")
        .collect()
    )


def guarantee_circles(edges: pl.DataFrame) -> pl.DataFrame:
    """Each member of a guarantee circle (a strongly connected part of two or more firms) with
    the circle's id (its smallest USCC), size and exposure (guarantees between members)."""
    schema = {
        "uscc": pl.String,
        "guarantee_circle": pl.String,
        "circle_size": pl.Int32,
        "circle_exposure_fen": pl.Int64,
    }
    if edges.height == 0:
        return pl.DataFrame(schema=schema)
    nodes = pl.concat([edges.get_column("guarantor_uscc"), edges.get_column("borrower_uscc")])
    names = nodes.unique().sort()
    index = {name: i for i, name in enumerate(names.to_list())}
    src = np.fromiter((index[u] for u in edges.get_column("guarantor_uscc")), np.int64)
    dst = np.fromiter((index[u] for u in edges.get_column("borrower_uscc")), np.int64)
    matrix = sparse.coo_matrix((np.ones(len(src)), (src, dst)), shape=(len(names), len(names)))
    _, labels = csgraph.connected_components(matrix.tocsr(), directed=True, connection="strong")
    parts = pl.DataFrame({"uscc": names, "_part": labels.astype(np.int64)})
    members = parts.with_columns(
        pl.col("uscc").min().over("_part").alias("guarantee_circle"),
        pl.len().over("_part").cast(pl.Int32).alias("circle_size"),
    ).filter(pl.col("circle_size") >= 2)
    inside = (
        edges.join(
            members.select(pl.col("uscc").alias("guarantor_uscc"), "guarantee_circle"),
            on="guarantor_uscc",
        )
        .join(
            members.select(pl.col("uscc").alias("borrower_uscc"), pl.col("guarantee_circle")),
            on=["borrower_uscc", "guarantee_circle"],
        )
        .group_by("guarantee_circle")
        .agg(pl.col("amount_fen").sum().cast(pl.Int64).alias("circle_exposure_fen"))
    )
    return members.join(inside, on="guarantee_circle", how="left").select(list(schema)).sort("uscc")


def _trade_pairs(frames: Mapping[str, pl.LazyFrame], month: date) -> pl.DataFrame:
    """``seller, buyer, amount``: invoiced in the 12 months to ``month``, self-invoices left
    out. A pair's repeated row of one month counts twice here, where the batch build drops it
    as an anomaly: the market writes one row per pair and month, and finding repeats among
    the string keys costs five times the rest of this query on a large market."""
    since = add_months(month, -(SUPPLY_MONTHS - 1))
    return (
        frames[INVOICES]
        .filter(
            pl.col("month").is_between(since, month)
            & (pl.col("seller_uscc") != pl.col("buyer_uscc"))
        )
        .group_by(pl.col("seller_uscc").alias("seller"), pl.col("buyer_uscc").alias("buyer"))
        .agg(pl.col("amount_fen").sum().cast(pl.Float64).alias("amount"))
        .collect(engine="streaming")
    )


def _trade_shares(pairs: pl.DataFrame) -> pl.DataFrame:
    """``uscc, partner, side, share``: each trade partner's share of the firm's sales (side
    ``buyer``) or purchases (``supplier``)."""
    sales = pairs.select(
        pl.col("seller").alias("uscc"),
        pl.col("buyer").alias("partner"),
        pl.lit("buyer").alias("side"),
        (pl.col("amount") / pl.col("amount").sum().over("seller")).alias("share"),
    )
    purchases = pairs.select(
        pl.col("buyer").alias("uscc"),
        pl.col("seller").alias("partner"),
        pl.lit("supplier").alias("side"),
        (pl.col("amount") / pl.col("amount").sum().over("buyer")).alias("share"),
    )
    return pl.concat([sales, purchases])


def month_facts(frames: Mapping[str, pl.LazyFrame], month: date) -> pl.DataFrame:
    """The graph facts of ``month`` (its first day) from the data known at its end.

    One row per enterprise with a guarantee (started by the month) or a trade partner (in the
    invoices of the last 12 months), typed as :data:`FACT_SCHEMA`, sorted by ``uscc``.
    """
    if month.day != 1:
        raise ValueError("a graph month is given by its first day")
    status = public_status(frames, month)
    before = public_status(frames, add_months(month, -1)).filter(pl.col("in_default"))
    edges = _guarantee_edges(frames, month)
    pairs = _trade_pairs(frames, month)
    trade = _trade_shares(pairs)
    spread = contagion(
        exposure_edges(
            pairs,
            edges.rename({"guarantor_uscc": "guarantor", "borrower_uscc": "borrower"}),
            pairs.group_by(pl.col("seller").alias("uscc")).agg(
                pl.col("amount").sum().alias("sales")
            ),
        ),
        status.filter(pl.col("distressed")).get_column("uscc"),
    )

    flags = status.join(
        before.select("uscc", pl.lit(True).alias("_before")), on="uscc", how="left"
    ).select(
        "uscc",
        "distressed",
        "in_default",
        (pl.col("in_default") & pl.col("_before").is_null()).alias("defaulted"),
    )
    guarantee = pl.concat(
        [
            # Guarantors of the firm in distress: the support behind its borrowing is weak.
            edges.select(
                pl.col("borrower_uscc").alias("uscc"),
                pl.col("guarantor_uscc").alias("partner"),
                pl.lit("guarantor").alias("side"),
            ),
            # Firms it guarantees in distress: the guarantee may be called.
            edges.select(
                pl.col("guarantor_uscc").alias("uscc"),
                pl.col("borrower_uscc").alias("partner"),
                pl.lit("guaranteed").alias("side"),
            ),
        ]
    ).join(flags.rename({"uscc": "partner"}), on="partner", how="left")
    by_guarantee = guarantee.group_by("uscc").agg(
        _count(pl.col("side") == "guarantor", "distressed").alias("guarantors_in_distress"),
        _any(pl.col("side") == "guarantor", "in_default").alias("guarantor_in_default"),
        _count(pl.col("side") == "guaranteed", "distressed").alias("guaranteed_in_distress"),
        _any(pl.col("side") == "guaranteed", "in_default").alias("guaranteed_in_default"),
        _any(pl.col("side") == "guaranteed", "defaulted").alias("guaranteed_defaulted"),
    )
    main = pl.col("share") >= MAIN_PARTNER_SHARE
    by_trade = (
        trade.join(flags.rename({"uscc": "partner"}), on="partner", how="left")
        .with_columns(pl.col("distressed", "in_default", "defaulted").fill_null(False))
        .group_by("uscc")
        .agg(
            _share("buyer").alias("buyers_distressed_share"),
            _share("supplier").alias("suppliers_distressed_share"),
            (main & pl.col("distressed")).any().alias("main_partner_distressed"),
            (main & pl.col("in_default")).any().alias("main_partner_in_default"),
            (main & pl.col("defaulted")).any().alias("main_partner_defaulted"),
        )
    )
    circles = guarantee_circles(edges)
    circle_load = (
        circles.join(flags.select("uscc", "distressed"), on="uscc", how="left")
        .group_by("guarantee_circle")
        .agg(pl.col("distressed").fill_null(False).sum().cast(pl.Int32).alias("_distressed"))
    )
    neighbours = pl.concat(
        [
            guarantee.select("uscc", "partner"),
            trade.select("uscc", "partner"),
        ]
    ).unique()
    degree = neighbours.group_by("uscc").agg(pl.len().cast(pl.Int32).alias("partners"))

    facts = (
        degree.join(by_guarantee, on="uscc", how="left")
        .join(by_trade, on="uscc", how="left")
        .join(circles, on="uscc", how="left")
        .join(circle_load, on="guarantee_circle", how="left")
        .join(flags.drop("defaulted"), on="uscc", how="left")
        .join(spread, on="uscc", how="left")
        .with_columns(
            pl.col("distressed", "in_default").fill_null(False),
            pl.col("guarantors_in_distress", "guaranteed_in_distress", "circle_size")
            .fill_null(0)
            .cast(pl.Int32),
            pl.col(
                "guarantor_in_default", "guaranteed_in_default", "guaranteed_defaulted"
            ).fill_null(False),
            pl.col("buyers_distressed_share", "suppliers_distressed_share").fill_null(0.0),
            pl.col(
                "main_partner_distressed", "main_partner_in_default", "main_partner_defaulted"
            ).fill_null(False),
        )
        .with_columns(
            (pl.col("_distressed").fill_null(0) - pl.col("distressed").cast(pl.Int32))
            .clip(lower_bound=0)
            .cast(pl.Int32)
            .alias("circle_others_distressed"),
        )
        .with_columns(
            pl.when(pl.col("circle_size") >= 2)
            .then(pl.col("circle_others_distressed") / (pl.col("circle_size") - 1))
            .otherwise(0.0)
            .alias("circle_distressed_share"),
        )
        .with_columns(pl.col("contagion_score").fill_null(0.0))
    )
    return facts.select([pl.col(c).cast(t) for c, t in FACT_SCHEMA.items()]).sort("uscc")


def _count(side: pl.Expr, flag: str) -> pl.Expr:
    return (side & pl.col(flag).fill_null(False)).sum()


def _any(side: pl.Expr, flag: str) -> pl.Expr:
    return (side & pl.col(flag).fill_null(False)).any()


def _share(side: str) -> pl.Expr:
    # Summed in sorted order: a float sum in the group's arrival order varies from run to run.
    return pl.col("share").filter((pl.col("side") == side) & pl.col("distressed")).sort().sum()


def features_of_facts(facts: pl.DataFrame) -> pl.DataFrame:
    """The model features (``uscc`` then :data:`GRAPH_FEATURE_NAMES`) of one month's facts."""
    return facts.select(
        "uscc",
        pl.col("guarantors_in_distress").cast(pl.Float64).alias("graph_guarantors_distressed"),
        pl.col("guaranteed_in_distress").cast(pl.Float64).alias("graph_guaranteed_distressed"),
        pl.col("circle_size").cast(pl.Float64).alias("graph_circle_size"),
        pl.col("circle_distressed_share").alias("graph_circle_distressed_share"),
        # Yuan, log: the size of what the circle has guaranteed between its members.
        (pl.col("circle_exposure_fen").fill_null(0).cast(pl.Float64) / 100.0)
        .log1p()
        .alias("graph_circle_exposure_log"),
        pl.col("buyers_distressed_share").alias("graph_buyers_distressed_share"),
        pl.col("suppliers_distressed_share").alias("graph_suppliers_distressed_share"),
        pl.col("main_partner_distressed").cast(pl.Float64).alias("graph_main_partner_distressed"),
        pl.col("contagion_score").alias("graph_contagion_score"),
        pl.col("partners").cast(pl.Float64).alias("graph_partners"),
    )


def graph_features(frames: Mapping[str, pl.LazyFrame], months: Iterable[date]) -> pl.DataFrame:
    """``uscc, month`` and :data:`GRAPH_FEATURE_NAMES` for each of ``months``, each month from
    the data known at its end. Enterprises without a graph neighbour that month have no row
    (their features are zero: :func:`with_graph_features` fills them)."""
    parts = [
        features_of_facts(month_facts(frames, month)).with_columns(pl.lit(month).alias("month"))
        for month in sorted(set(months))
    ]
    schema = {"uscc": pl.String, "month": pl.Date, **dict.fromkeys(GRAPH_FEATURE_NAMES, pl.Float64)}
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts).select(list(schema))


def with_graph_features(
    frames: Mapping[str, pl.LazyFrame],
    sample: pl.DataFrame,
    *,
    month_column: str = "origination_month",
    lag_months: int = 1,
) -> pl.DataFrame:
    """``sample`` (a ``uscc`` and a month column) with the graph features of ``lag_months``
    before each row's month added (zero where the firm had no neighbour).

    The lag of one month matches ``puhui.risk.features``: a loan originated in month ``M`` is
    scored on data of the months before ``M``, and the graph of month ``M - 1`` is exactly that.
    """
    months: Sequence[date] = sample.get_column(month_column).unique().to_list()
    lagged = {add_months(m, -lag_months): m for m in months}
    features = (
        graph_features(frames, lagged)
        .with_columns(
            pl.col("month").replace_strict(lagged, return_dtype=pl.Date).alias(month_column)
        )
        .drop("month")
    )
    return sample.join(features, on=["uscc", month_column], how="left").with_columns(
        pl.col(GRAPH_FEATURE_NAMES).fill_null(0.0)
    )


__all__ = [
    "FACT_SCHEMA",
    "GRAPH_FEATURE_NAMES",
    "GRAPH_MONOTONE_RISK",
    "MAIN_PARTNER_SHARE",
    "features_of_facts",
    "graph_features",
    "guarantee_circles",
    "month_facts",
    "with_graph_features",
]
