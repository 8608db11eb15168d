"""Profile features: the enterprise and its owner (age, experience, size, industry, region)."""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.risk.features.tables import ENTERPRISES, OWNERS, MarketTables
from puhui.risk.features.windows import month_index, month_index_expr


def profile_features(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    owners = tables[OWNERS].select(
        pl.col("id_number").alias("legal_rep_id_number"),
        "birth_date",
        "education",
        "years_in_trade",
        "enterprises_represented",
    )
    registration = pl.col("registration_date")
    return (
        tables[ENTERPRISES]
        .filter(registration < as_of)
        .join(owners, on="legal_rep_id_number", how="left")
        .select(
            "uscc",
            ((month_index(as_of) - month_index_expr(pl.col("birth_date"))) // 12)
            .cast(pl.Float64)
            .alias("owner_age_years"),
            pl.col("years_in_trade").cast(pl.Float64).alias("owner_years_in_trade"),
            pl.col("education").alias("owner_education"),
            (pl.col("enterprises_represented") - 1)
            .cast(pl.Float64)
            .alias("owner_other_enterprises"),
            (month_index(as_of) - month_index_expr(registration))
            .cast(pl.Float64)
            .alias("enterprise_age_months"),
            pl.col("employees").cast(pl.Float64),
            "industry_group",
            pl.col("region_code").str.slice(0, 2).alias("province"),
            "legal_form",
            "taxpayer_type",
        )
    )
