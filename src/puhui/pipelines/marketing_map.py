"""The marketing map (营销地图): where the month's prospects are, against the bank's customers.

One table per dimension (region code, industry, park): enterprises known there, prospects,
their estimated need and indicative limits, existing customers and penetration (customers over
customers and prospects: ``domain.prospects.penetration``, the console's map too). Account
managers read it to plan visits; a branch sees where its market is and how much of it the
bank already serves.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from puhui.domain.errors import InvalidInput
from puhui.domain.prospects import NO_PARK, PROSPECT_FILE_COLUMNS, penetration
from puhui.pipelines.preapproval_inputs import current_exposure, enterprise_places
from puhui.risk.features import ENTERPRISES, LOAN_HISTORY, MarketTables

DIMENSIONS = ("region_code", "industry_group", "park")
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
    if suffix not in {".csv", ".parquet"}:
        raise InvalidInput(f"a prospect file ends in .csv or .parquet, got {path.name!r}")
    try:
        if suffix == ".csv":
            frame = pl.read_csv(
                path, schema_overrides={"uscc": pl.String, "annual_rate": pl.String}
            )
        else:
            frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise InvalidInput(
            f"{path} is not a readable {suffix[1:]} prospect file ({type(exc).__name__}): "
            "write it again with `puhui prospect run`"
        ) from None
    missing = [c for c in PROSPECT_FILE_COLUMNS if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{path} is not a prospect file: columns {missing} are missing")
    return frame


def check_month_held(tables: MarketTables, as_of: date) -> None:
    """Refuse a month the bank's loan records do not hold (customers would all read as zero)."""
    months = tables[LOAN_HISTORY].select(
        pl.col("month").min().alias("first"), pl.col("month").max().alias("last")
    )
    first, last = months.collect().row(0)
    if not isinstance(first, date) or not isinstance(last, date):
        raise InvalidInput("the market's loan_history is empty: no month to count customers at")
    if not first <= as_of <= last:
        raise InvalidInput(
            f"the market's loan_history runs from {first:%Y-%m} to {last:%Y-%m}: "
            f"no customers to count as of {as_of:%Y-%m}"
        )


def _penetration(counts: dict[str, int]) -> float | None:
    """The one definition (``domain.prospects.penetration``), as the table's number."""
    value = penetration(counts["customers"], counts["prospects"])
    return None if value is None else float(value)


def marketing_map(
    prospects: pl.DataFrame, tables: MarketTables, as_of: date
) -> dict[str, pl.DataFrame]:
    """One table per dimension, largest estimated need first (ties by the dimension's value)."""
    check_month_held(tables, as_of)
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
    # As the console counts: a listed enterprise that is already a customer (invited for the
    # need its loans do not cover) is a customer, not a prospect.
    listed = listed.join(customers, on="uscc", how="anti")
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
                pl.struct("customers", "prospects")
                .map_elements(_penetration, return_dtype=pl.Float64)
                .alias("penetration"),
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
