"""Settlement-account features: inflow against outflow, margins, balances, related parties."""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.risk.features.tables import SETTLEMENT_MONTHLY, MarketTables
from puhui.risk.features.windows import FEN_SMOOTHING, count_in, known, log_ratio, sum_in

# Transfers to related parties above this share of the month's inflow are rare in normal trade.
HEAVY_RELATED_SHARE = 0.2


def settlement_features(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    six = pl.col("lag") <= 6
    inflow, outflow = "inflow_fen", "outflow_fen"
    return (
        known(tables[SETTLEMENT_MONTHLY], as_of)
        .filter(pl.col("lag") <= 12)
        .with_columns(
            pl.col(inflow, outflow, "balance_fen", "related_party_transfer_fen").cast(pl.Float64)
        )
        .with_columns(
            (_margin(pl.col(inflow), pl.col(outflow)) < 0.0).alias("_negative"),
            (
                pl.col("related_party_transfer_fen") / (pl.col(inflow) + FEN_SMOOTHING)
                >= HEAVY_RELATED_SHARE
            ).alias("_heavy_related"),
        )
        .group_by("uscc")
        .agg(
            log_ratio(pl.col(inflow).filter(six).sum(), pl.col(outflow).filter(six).sum()).alias(
                "settlement_inflow_outflow_6m"
            ),
            (
                pl.col("balance_fen").filter(pl.col("lag") == 1).first()
                / (pl.col(outflow).filter(six).mean() + FEN_SMOOTHING)
            ).alias("settlement_balance_cover"),
            (
                pl.col("related_party_transfer_fen").filter(six).sum()
                / (pl.col(outflow).filter(six).sum() + FEN_SMOOTHING)
            ).alias("settlement_related_share_6m"),
            # The margin (net inflow over inflow) falls as soon as a firm slides into distress.
            pl.when(count_in(1, 1) == 1)
            .then(_margin(sum_in(inflow, 1, 1), sum_in(outflow, 1, 1)))
            .alias("settlement_margin_1m"),
            pl.when(count_in(1, 3) == 3)
            .then(_margin(sum_in(inflow, 1, 3), sum_in(outflow, 1, 3)))
            .alias("settlement_margin_3m"),
            pl.when((count_in(1, 3) == 3) & (count_in(4, 12) >= 6))
            .then(
                _margin(sum_in(inflow, 4, 12), sum_in(outflow, 4, 12))
                - _margin(sum_in(inflow, 1, 3), sum_in(outflow, 1, 3))
            )
            .alias("settlement_margin_drop"),
            (pl.col("related_party_transfer_fen") > 0)
            .filter(pl.col("lag") <= 3)
            .sum()
            .cast(pl.Float64)
            .alias("settlement_related_months_3m"),
            pl.when((count_in(1, 1) == 1) & (count_in(4, 4) == 1))
            .then(log_ratio(sum_in("balance_fen", 1, 1), sum_in("balance_fen", 4, 4)))
            .alias("settlement_balance_trend_3m"),
            pl.col("_negative")
            .filter(six)
            .sum()
            .cast(pl.Float64)
            .alias("settlement_negative_months_6m"),
            # Months in a row, back from the latest, paying out more than came in: the length
            # of a decline so far.
            pl.col("_negative")
            .sort_by("lag")
            .cast(pl.Float64)
            .cum_prod()
            .sum()
            .alias("settlement_negative_run"),
            pl.col("_heavy_related")
            .filter(six)
            .sum()
            .cast(pl.Float64)
            .alias("settlement_heavy_related_months_6m"),
        )
    )


def _margin(inflow: pl.Expr, outflow: pl.Expr) -> pl.Expr:
    return (inflow - outflow) / (inflow + FEN_SMOOTHING)
