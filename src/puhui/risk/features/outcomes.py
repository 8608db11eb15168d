"""Observed outcomes (the bad-loan label) and the labelled dataset a model is trained on."""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features.applications import APPLICATION_SCHEMA, application_features
from puhui.risk.features.assembly import compute_features
from puhui.risk.features.tables import APPLICATIONS, LOAN_HISTORY, TAX_MONTHLY, MarketTables
from puhui.risk.features.windows import month_index_expr, month_start_plus

# 90 days past due or a write-off within the horizon is a default (Basel / NFRA definition).
DEFAULT_DAYS_PAST_DUE = 90
# Months after origination in which a default makes a loan bad (the PD's horizon).
HORIZON_MONTHS = 12
# Loans originated in a market's first months have (almost) no history to compute features on.
WARM_UP_MONTHS = 6


def observed_outcomes(
    tables: MarketTables,
    as_of: date,
    *,
    horizon_months: int = HORIZON_MONTHS,
    window_months: int = 24,
) -> pl.DataFrame:
    """Loans whose outcome was known by ``as_of``, with the origination month and the outcome.

    Cohorts: loans originated in the ``window_months`` whose ``horizon_months`` performance
    window closed before ``as_of``. Bad (1): the loan reached 90 days past due or was written
    off within the horizon. Only loan-history rows before ``as_of`` are read. One row per
    enterprise and origination month (several loans that month: bad if any is bad).
    """
    last_cohort = month_start_plus(as_of, -horizon_months)
    first_cohort = month_start_plus(last_cohort, -(window_months - 1))
    history = tables[LOAN_HISTORY].filter(pl.col("month") < as_of)
    is_default = (pl.col("days_past_due") >= DEFAULT_DAYS_PAST_DUE) | (
        pl.col("status") == "written_off"
    )
    in_horizon = month_index_expr(pl.col("month")) - month_index_expr(
        pl.col("origination_month")
    ) < pl.lit(horizon_months)
    outcomes = (
        history.filter(pl.col("origination_month").is_between(first_cohort, last_cohort))
        .group_by("uscc", "origination_month")
        .agg((is_default & in_horizon).any().cast(pl.Int8).alias("bad"))
        .sort("origination_month", "uscc")
        .collect()
    )
    if outcomes.height == 0:
        raise InvalidTrainingData(
            f"no loans originated {first_cohort:%Y-%m}..{last_cohort:%Y-%m} in the market: "
            f"choose a later --as-of (outcomes need {horizon_months} months)"
        )
    return outcomes


def labelled_dataset(
    tables: MarketTables,
    as_of: date,
    *,
    horizon_months: int = HORIZON_MONTHS,
    window_months: int = 24,
    warm_up_months: int = WARM_UP_MONTHS,
    with_applications: bool = False,
) -> pl.DataFrame:
    """Each loan's features as of its origination month, with its observed outcome.

    Loans originated in the first ``warm_up_months`` of the market's data are left out: their
    look-back windows are empty or partial, so they say nothing about the features.
    ``with_applications`` adds the features of the application each loan was granted on
    (``APPLICATION_FEATURE_NAMES``); a model trained on them needs them online too.
    """
    outcomes = observed_outcomes(
        tables, as_of, horizon_months=horizon_months, window_months=window_months
    )
    if warm_up_months > 0:
        first_month = tables[TAX_MONTHLY].select(pl.col("month").min()).collect().item()
        if isinstance(first_month, date):
            outcomes = outcomes.filter(
                pl.col("origination_month") >= month_start_plus(first_month, warm_up_months)
            )
        if outcomes.height == 0:
            raise InvalidTrainingData(
                f"no loans originated after the market's first {warm_up_months} months "
                "(look-back warm-up): choose a later --as-of"
            )
    granted = _granted_applications(tables, outcomes) if with_applications else None
    parts: list[pl.DataFrame] = []
    for (cohort,), loans in outcomes.group_by("origination_month", maintain_order=True):
        cohort_date = cohort if isinstance(cohort, date) else as_of
        # Only the cohort's enterprises: the same definitions on fewer rows (values identical).
        cohort_tables = tables.for_enterprises(loans.get_column("uscc").to_list())
        features = compute_features(cohort_tables, cohort_date)
        part = loans.join(features, on="uscc", how="inner")
        if granted is not None:
            applications = granted.filter(pl.col("origination_month") == cohort)
            part = part.join(
                applications.select("uscc", "application_id")
                .join(
                    application_features(applications, cohort_tables[APPLICATIONS], features),
                    on="application_id",
                    how="inner",
                )
                .drop("application_id"),
                on="uscc",
                how="left",
            )
        parts.append(part)
    return pl.concat(parts).sort("origination_month", "uscc")


def _granted_applications(tables: MarketTables, outcomes: pl.DataFrame) -> pl.DataFrame:
    """The application each sampled loan was granted on (the first of the month if several)."""
    absent = [name for name in (LOAN_HISTORY, APPLICATIONS) if name not in tables.frames]
    if absent:
        raise InvalidTrainingData(f"application features need the tables {', '.join(absent)}")
    links = (
        tables[LOAN_HISTORY]
        .select("uscc", "origination_month", "application_id")
        .unique()
        .join(
            tables[APPLICATIONS].select(
                [pl.col(name).cast(dtype) for name, dtype in APPLICATION_SCHEMA.items()]
            ),
            on=["application_id", "uscc"],
            how="inner",
        )
        .sort("application_date", "application_id")
        .group_by("uscc", "origination_month", maintain_order=True)
        .first()
        .collect()
    )
    return links.join(
        outcomes.select("uscc", "origination_month"), on=["uscc", "origination_month"]
    )
