"""The enterprise features: every source builder joined into one row per enterprise."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features.bureau import bureau_features
from puhui.risk.features.court import court_features
from puhui.risk.features.invoices import invoice_features
from puhui.risk.features.labels import FEATURE_NAMES
from puhui.risk.features.profile import profile_features
from puhui.risk.features.settlement import settlement_features
from puhui.risk.features.tables import MarketTables
from puhui.risk.features.tax import tax_features
from puhui.risk.features.utilities import utility_features
from puhui.risk.features.windows import FEN_SMOOTHING, log_ratio


def compute_features(tables: MarketTables, as_of: date) -> pl.DataFrame:
    """Every feature of every enterprise registered before ``as_of``, from data before it.

    The one definition: online scoring calls it on ``tables.for_enterprises([uscc])``.
    """
    if as_of.day != 1:
        raise InvalidTrainingData("as_of must be the first day of a month")
    selling, buying = invoice_features(tables, as_of)
    frame = profile_features(tables, as_of)
    for part in (
        tax_features(tables, as_of),
        selling,
        buying,
        utility_features(tables, as_of),
        settlement_features(tables, as_of),
        court_features(tables, as_of),
        bureau_features(tables, as_of),
    ):
        frame = frame.join(part, on="uscc", how="left")
    # No invoice, court or utility row means none happened (zero), not "unknown".
    zero_if_absent = [
        "invoice_customers_12m",
        "invoice_suppliers_12m",
        "court_defendant_cases_24m",
        "court_executed_listed",
        "court_dishonest_listed",
        "court_cases_filed_6m",
        "court_cases_filed_36m",
    ]
    frame = frame.with_columns(pl.col(zero_if_absent).fill_null(0.0)).with_columns(
        # Counterparties on either side that are core enterprises (none: zero, not unknown).
        (pl.col("_core_buyers").fill_null(0.0) + pl.col("_core_suppliers").fill_null(0.0)).alias(
            "invoice_core_links_12m"
        ),
        (pl.col("_bureau_balance") / (pl.col("_sales_12m") + FEN_SMOOTHING)).alias(
            "bureau_balance_to_sales"
        ),
        # kWh per yuan of declared sales: a trading shell declares sales but uses no power.
        log_ratio(100.0 * pl.col("_kwh_12m"), pl.col("_sales_12m")).alias("electricity_per_sales"),
    )
    return frame.select("uscc", *FEATURE_NAMES).sort("uscc").collect()


def enterprise_features(tables: MarketTables, uscc: str, as_of: date) -> dict[str, Any]:
    """The features of one enterprise (online): the same definitions on its rows only."""
    frame = compute_features(tables.for_enterprises([uscc]), as_of)
    if frame.height == 0:
        raise InvalidTrainingData(f"enterprise {uscc} is not registered before {as_of}")
    row = frame.row(0, named=True)
    row.pop("uscc")
    return row
