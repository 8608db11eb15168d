"""Evaluation only: the market's true PD (``truth/``) for the population a model was scored on.

No feature or label may come from here; it gives the ceiling ("oracle") AUC a model can approach.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import month_index_expr

TRUTH_MONTHLY = "monthly_truth"


def oracle_pd(market: Path, population: pl.DataFrame) -> pl.DataFrame:
    """``population`` (uscc, origination_month) with ``oracle_pd``: the true 12-month PD in the
    month before origination, the same information date as the features."""
    folder = market / "truth" / TRUTH_MONTHLY
    if not folder.is_dir():
        raise InvalidTrainingData(f"the market in {market} has no truth/{TRUTH_MONTHLY}")
    truth = (
        pl.scan_parquet(str(folder / "*.parquet"))
        .select("uscc", month_index_expr(pl.col("month")).alias("truth_month"), "pd_12m")
        .collect()
    )
    keyed = population.with_columns(
        (month_index_expr(pl.col("origination_month")) - 1).alias("truth_month")
    )
    joined = keyed.join(truth, on=["uscc", "truth_month"], how="left")
    # An enterprise registered in its origination month has no earlier state: take that month.
    fallback = keyed.with_columns(pl.col("truth_month") + 1).join(
        truth, on=["uscc", "truth_month"], how="left"
    )
    return population.with_columns(
        joined.get_column("pd_12m").fill_null(fallback.get_column("pd_12m")).alias("oracle_pd")
    )
