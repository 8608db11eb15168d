"""What the indices read from a generated market: the indicator panel, the cells, the truth."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from puhui.market import store


def indicator_panel(market_dir: Path) -> pl.LazyFrame:
    """``uscc, month, component, value`` (Int64) of every observed indicator.

    Employment (social insurance, payroll) is not among the market's tables, so it is no
    component; bureau delinquency is the worst days past due at other lenders."""

    def one(name: str, frame: pl.LazyFrame, uscc: str, value: pl.Expr) -> pl.LazyFrame:
        return frame.select(
            pl.col(uscc).alias("uscc"),
            "month",
            pl.lit(name).alias("component"),
            value.cast(pl.Int64).alias("value"),
        )

    invoices = (
        store.scan(market_dir, "invoices")
        .group_by("seller_uscc", "month")
        .agg(pl.col("amount_fen").sum())
    )
    return pl.concat(
        [
            one(
                "sales", store.scan(market_dir, "tax_monthly"), "uscc", pl.col("declared_sales_fen")
            ),
            one("invoices", invoices, "seller_uscc", pl.col("amount_fen")),
            one(
                "electricity",
                store.scan(market_dir, "utilities_monthly"),
                "uscc",
                pl.col("electricity_kwh"),
            ),
            one(
                "receipts",
                store.scan(market_dir, "settlement_monthly"),
                "uscc",
                pl.col("inflow_fen"),
            ),
            one(
                "delinquency", store.scan(market_dir, "bureau"), "uscc", pl.col("max_days_past_due")
            ),
        ]
    )


def enterprise_cells(market_dir: Path) -> pl.LazyFrame:
    """``uscc, industry, region``: the industry group (GB/T 4754) and region (GB/T 2260)."""
    return store.scan(market_dir, "enterprises").select(
        "uscc", pl.col("industry_group").alias("industry"), pl.col("region_code").alias("region")
    )


def common_factors(market_dir: Path) -> pl.LazyFrame:
    """Truth: ``month, macro`` with ``factor_kind`` ('industry' | 'region'), ``cell`` and
    ``value`` rows of the hidden factors that drive every enterprise's health."""
    return store.scan(market_dir, "macro").select(
        "month",
        pl.col("factor").str.split(":").list.get(0).alias("factor_kind"),
        pl.col("factor").str.split(":").list.get(1, null_on_oob=True).alias("cell"),
        "value",
    )
