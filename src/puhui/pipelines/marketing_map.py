"""The marketing map (营销地图): where the month's prospects are, against the bank's customers.

One table per dimension (region code, industry, park): enterprises known there, prospects,
their estimated need and indicative limits, existing customers and penetration (customers
over enterprises). Account managers read it to plan visits; a branch sees where its market
is and how much of it the bank already serves.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from puhui.domain.errors import InvalidInput
from puhui.domain.prospects import PROSPECT_FILE_COLUMNS
from puhui.pipelines.preapproval_inputs import current_exposure, enterprise_places
from puhui.risk.features import ENTERPRISES, LOAN_HISTORY, MarketTables

DIMENSIONS = ("region_code", "industry_group", "park")
NO_PARK = "(no park)"
MAP_COLUMNS = (
    "enterprises",
    "prospects",
    "need_amount_fen",
    "limit_fen",
    "customers",
    "penetration",
    "prospect_share",
)


def read_prospects(path: Path) -> pl.DataFrame:
    """A prospect file (CSV or Parquet by its extension), refused unless it has the contract's
    columns."""
    if not path.is_file():
        raise InvalidInput(f"no prospect file at {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        frame = pl.read_csv(path, schema_overrides={"uscc": pl.String, "annual_rate": pl.String})
    elif suffix == ".parquet":
        frame = pl.read_parquet(path)
    else:
        raise InvalidInput(f"a prospect file ends in .csv or .parquet, got {path.name!r}")
    missing = [c for c in PROSPECT_FILE_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{path} is not a prospect file: columns {missing} are missing")
    return frame


def last_month(tables: MarketTables) -> date:
    """The latest month of the bank's loan records (the month customers are counted at)."""
    found = tables[LOAN_HISTORY].select(pl.col("month").max()).collect().item()
    if not isinstance(found, date):
        raise InvalidInput("the market's loan_history is empty: no month to count customers at")
    return found


def marketing_map(
    prospects: pl.DataFrame, tables: MarketTables, as_of: date
) -> dict[str, pl.DataFrame]:
    """One table per dimension, largest estimated need first (ties by the dimension's value)."""
    places = enterprise_places(tables).collect()
    customers = current_exposure(tables, as_of).select("uscc").collect()
    listed = prospects.select("uscc", "need_amount_fen", "limit_fen").join(
        places, on="uscc", how="left"
    )
    unknown = listed.filter(pl.col("region_code").is_null()).height
    if unknown:
        raise InvalidInput(
            f"{unknown} prospect(s) are not enterprises of this market's {ENTERPRISES} table"
        )
    base = places.with_columns(
        pl.col("uscc").is_in(customers.get_column("uscc").implode()).alias("is_customer")
    )
    tables_by_dimension: dict[str, pl.DataFrame] = {}
    for dimension in DIMENSIONS:
        key = pl.col(dimension).fill_null(NO_PARK) if dimension == "park" else pl.col(dimension)
        known = base.group_by(key).agg(
            pl.len().alias("enterprises"), pl.col("is_customer").sum().alias("customers")
        )
        found = listed.group_by(key).agg(
            pl.len().alias("prospects"),
            pl.col("need_amount_fen").sum(),
            pl.col("limit_fen").sum(),
        )
        tables_by_dimension[dimension] = (
            known.join(found, on=dimension, how="left")
            .with_columns(pl.col("prospects", "need_amount_fen", "limit_fen").fill_null(0))
            .with_columns(
                (pl.col("customers") / pl.col("enterprises")).alias("penetration"),
                (pl.col("prospects") / pl.col("enterprises")).alias("prospect_share"),
            )
            .select(
                dimension,
                *(pl.col(c).cast(pl.Int64) for c in MAP_COLUMNS[:5]),
                *MAP_COLUMNS[5:],
            )
            .sort(["need_amount_fen", dimension], descending=[True, False])
        )
    return tables_by_dimension


def customers_by_place(tables: MarketTables, as_of: date) -> dict[tuple[str, str, str | None], int]:
    """Existing customers at the as-of month's end by (region code, industry, park): the
    denominator of penetration the platform's marketing map shows beside a loaded run."""
    counts = (
        enterprise_places(tables)
        .join(current_exposure(tables, as_of).select("uscc"), on="uscc", how="semi")
        .group_by("region_code", "industry_group", "park")
        .agg(pl.len().alias("customers"))
        .collect()
    )
    return {
        (row["region_code"], row["industry_group"], row["park"]): row["customers"]
        for row in counts.iter_rows(named=True)
    }
