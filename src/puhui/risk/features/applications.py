"""Application features: what the application itself says, known when it is decided."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features.windows import log_ratio, month_index_expr

# Days back that count as "the last 12 months" for earlier applications.
APPLICATION_LOOK_BACK_DAYS = 365

# The application columns the features read, typed as in the market's applications table.
APPLICATION_SCHEMA: dict[str, pl.DataType] = {
    "application_id": pl.String(),
    "uscc": pl.String(),
    "month": pl.Date(),
    "application_date": pl.Date(),
    "channel": pl.String(),
    "requested_amount_fen": pl.Int64(),
    "requested_term_months": pl.Int32(),
}


def application_features(
    applications: pl.DataFrame | pl.LazyFrame,
    earlier: pl.DataFrame | pl.LazyFrame,
    enterprises: pl.DataFrame | pl.LazyFrame,
) -> pl.DataFrame:
    """Features of the applications being decided, one row per ``application_id``.

    ``applications``: the applications (``APPLICATION_SCHEMA`` columns). ``earlier``: the
    lender's application records; only those of the same enterprise dated before an
    application are read, so records of the same day or later change nothing. ``enterprises``:
    the enterprise features (``uscc``, ``sales_12m_log``) as of the applications' month.
    The one definition: online scoring calls it through ``one_application_features``.
    """
    current = applications.lazy().select(
        [pl.col(name).cast(dtype) for name, dtype in APPLICATION_SCHEMA.items()]
    )
    history = earlier.lazy().select(
        "uscc",
        pl.col("application_date").alias("_earlier_date"),
        pl.col("month").alias("_earlier_month"),
    )
    previous = (
        current.select("application_id", "uscc", "month", "application_date")
        .join(history, on="uscc", how="inner")
        .filter(pl.col("_earlier_date") < pl.col("application_date"))
        .group_by("application_id")
        .agg(
            (
                (pl.col("application_date") - pl.col("_earlier_date")).dt.total_days()
                <= APPLICATION_LOOK_BACK_DAYS
            )
            .sum()
            .cast(pl.Float64)
            .alias("application_previous_12m"),
            (month_index_expr(pl.col("month")) - month_index_expr(pl.col("_earlier_month")))
            .min()
            .cast(pl.Float64)
            .alias("application_months_since_previous"),
        )
    )
    # Back from the feature's log1p of yuan to fen a month. A multiplication by one constant:
    # dividing by a literal gave last-bit differences between a one-row frame and a larger
    # one in Polars, and online must equal batch.
    monthly_sales_fen = (pl.col("sales_12m_log").exp() - 1.0) * (100.0 / 12.0)
    return (
        current.join(enterprises.lazy().select("uscc", "sales_12m_log"), on="uscc", how="left")
        .join(previous, on="application_id", how="left")
        .select(
            "application_id",
            # The term is a product choice (3, 6, 12, 24 or 36 months) whose risk is not
            # monotone in the months: kept as a category, each term gets its own evidence.
            pl.col("requested_term_months").cast(pl.String).alias("application_term"),
            log_ratio(pl.col("requested_amount_fen").cast(pl.Float64), monthly_sales_fen).alias(
                "application_amount_to_sales"
            ),
            pl.col("channel").alias("application_channel"),
            pl.col("application_previous_12m").fill_null(0.0),
            "application_months_since_previous",
        )
        .sort("application_id")
        .collect()
    )


def one_application_features(
    application: Mapping[str, Any],
    earlier: pl.DataFrame,
    enterprise: Mapping[str, Any],
) -> dict[str, Any]:
    """The application features of one application (online): the same definition on one row.

    ``application`` holds the ``APPLICATION_SCHEMA`` fields, ``earlier`` the enterprise's
    earlier application records (may be empty), ``enterprise`` its features as of the
    application's month (``enterprise_features``).
    """
    missing = sorted(set(APPLICATION_SCHEMA) - set(application))
    if missing:
        raise InvalidTrainingData(f"application lacks {', '.join(missing)}")
    row = pl.DataFrame(
        [{name: application[name] for name in APPLICATION_SCHEMA}], schema=APPLICATION_SCHEMA
    )
    sales = pl.DataFrame(
        {"uscc": [application["uscc"]], "sales_12m_log": [enterprise.get("sales_12m_log")]},
        schema={"uscc": pl.String(), "sales_12m_log": pl.Float64()},
    )
    features = application_features(row, earlier, sales).row(0, named=True)
    features.pop("application_id")
    return features
