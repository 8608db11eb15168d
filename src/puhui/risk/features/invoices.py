"""Invoice features: customers, suppliers, concentration, voided and red-letter invoices,
links with core enterprises."""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.risk.features.tables import CORE_ENTERPRISES, INVOICES, MarketTables
from puhui.risk.features.windows import FEN_SMOOTHING, known


def invoice_features(tables: MarketTables, as_of: date) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    recent = known(tables[INVOICES], as_of).filter(pl.col("lag").is_between(1, 12))
    core_frame = tables.frames.get(CORE_ENTERPRISES)
    core = (
        pl.Series("uscc", [], dtype=pl.String)
        if core_frame is None
        else core_frame.select("uscc").collect().get_column("uscc")
    )
    recent = recent.with_columns(
        pl.col("buyer_uscc").is_in(core.implode()).alias("_buyer_core"),
        pl.col("seller_uscc").is_in(core.implode()).alias("_seller_core"),
    )
    per_customer = recent.group_by("seller_uscc", "buyer_uscc").agg(
        pl.col("_buyer_core").first().alias("buyer_core"),
        pl.col("amount_fen").sum().cast(pl.Float64).alias("amount"),
        pl.col("invoice_count").sum().alias("issued"),
        pl.col("voided_count").sum().alias("voided"),
        pl.col("red_letter_count").sum().alias("red"),
    )
    selling = (
        per_customer.group_by("seller_uscc")
        .agg(
            pl.len().cast(pl.Float64).alias("invoice_customers_12m"),
            (pl.col("amount").max() / (pl.col("amount").sum() + FEN_SMOOTHING)).alias(
                "invoice_top_customer_share"
            ),
            (pl.col("voided").sum() / (pl.col("issued").sum() + pl.col("voided").sum()))
            .cast(pl.Float64)
            .alias("invoice_voided_ratio"),
            (pl.col("red").sum() / (pl.col("issued").sum() + pl.col("red").sum()))
            .cast(pl.Float64)
            .alias("invoice_red_letter_ratio"),
            (
                pl.col("amount").filter(pl.col("buyer_core")).sum()
                / (pl.col("amount").sum() + FEN_SMOOTHING)
            ).alias("invoice_core_sales_share"),
            pl.col("buyer_core").sum().cast(pl.Float64).alias("_core_buyers"),
        )
        .rename({"seller_uscc": "uscc"})
    )
    buying = (
        recent.group_by("buyer_uscc")
        .agg(
            pl.col("seller_uscc").n_unique().cast(pl.Float64).alias("invoice_suppliers_12m"),
            pl.col("seller_uscc")
            .filter(pl.col("_seller_core"))
            .n_unique()
            .cast(pl.Float64)
            .alias("_core_suppliers"),
        )
        .rename({"buyer_uscc": "uscc"})
    )
    return selling, buying
