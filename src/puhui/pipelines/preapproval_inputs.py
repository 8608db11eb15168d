"""What the pre-approval run may read: the market restricted to data before consent.

Before an enterprise applies it has authorised nothing: the bank may read the public registry
and courts, its own settlement and loan records and what the local public-data platform
shares, not tax filings, invoices or the credit bureau. The run enforces this twice: the
tables it may not read are replaced by empty ones (with their schema, so the feature code
runs unchanged), and every strategy input computed from a table it may not read is set
missing (an empty table is not "no evidence" for every input: no tax filing would read as a
filing gap).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date

import polars as pl

from puhui.market import schema as market_schema
from puhui.risk.enterprise_inputs import STRATEGY_INPUT_NAMES, enterprise_inputs
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import (
    BUREAU,
    CORE_ENTERPRISES,
    COURT_CASES,
    ENTERPRISES,
    FEATURE_TABLES,
    LOAN_HISTORY,
    OWNERS,
    SETTLEMENT_MONTHLY,
    TAX_MONTHLY,
    MarketTables,
    compute_features,
    core_enterprises,
    month_start_plus,
)
from puhui.risk.need import PRE_CONSENT_SOURCES

SETTLEMENT_INFLOW = "settlement_monthly_inflow_fen"
"""The pre-approval strategy input read from the bank's own settlement records."""
INFLOW_MONTHS = 12

INPUT_SOURCES: dict[str, frozenset[str]] = {
    "verified_monthly_sales_fen": frozenset({TAX_MONTHLY}),
    "verified_monthly_tax_fen": frozenset({TAX_MONTHLY}),
    "tax_filing_gap_months": frozenset({TAX_MONTHLY}),
    "sales_growth_12m": frozenset({TAX_MONTHLY}),
    "tax_grade": frozenset({TAX_MONTHLY}),
    "overdue_count_24m": frozenset({BUREAU}),
    "current_overdue_count": frozenset({BUREAU}),
    "court_cases_open": frozenset({COURT_CASES}),
    "enterprise_age_months": frozenset({ENTERPRISES}),
    "owner_age_years": frozenset({ENTERPRISES, OWNERS}),
    SETTLEMENT_INFLOW: frozenset({SETTLEMENT_MONTHLY}),
}
"""The market tables each enterprise-level strategy input is computed from."""
KNOWN_TABLES = PRE_CONSENT_SOURCES
"""The tables a pre-approval run can be allowed to read: the one list, ``PRE_CONSENT_SOURCES``."""


def check_sources(sources: Iterable[str]) -> frozenset[str]:
    """The strategy's ``sources_before_consent``, refused when one may not be read before the
    enterprise consents (a strategy copy listing tax or bureau data, or a table that does not
    exist)."""
    allowed = frozenset(sources)
    refused = sorted(allowed - KNOWN_TABLES)
    if refused:
        raise InvalidTrainingData(
            "sources_before_consent names tables that may not be read before consent: "
            f"{', '.join(refused)} (allowed: {', '.join(sorted(KNOWN_TABLES))})"
        )
    return allowed


def restricted_tables(tables: MarketTables, sources: frozenset[str]) -> MarketTables:
    """``tables`` with every feature table outside ``sources`` empty (same columns)."""
    frames: dict[str, pl.LazyFrame] = {}
    for name in (*FEATURE_TABLES, LOAN_HISTORY):
        if name in sources and name in tables.frames:
            frames[name] = tables[name]
        else:
            frames[name] = pl.LazyFrame(schema=market_schema.TABLES[name].polars_schema())
    core = tables.frames.get(CORE_ENTERPRISES)
    frames[CORE_ENTERPRISES] = core if core is not None else core_enterprises(frames[ENTERPRISES])
    return replace(tables, frames=frames)


def decision_month(as_of: date) -> date:
    """The first day after the as-of month: the features read every month up to ``as_of``."""
    return month_start_plus(as_of, 1)


def settlement_inflow(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    """Average monthly settlement inflow of the twelve months to ``as_of`` (integer fen, floor)."""
    first = month_start_plus(as_of, 1 - INFLOW_MONTHS)
    return (
        tables[SETTLEMENT_MONTHLY]
        .filter(pl.col("month").is_between(first, as_of))
        .group_by("uscc")
        .agg((pl.col("inflow_fen").sum() // INFLOW_MONTHS).cast(pl.Int64).alias(SETTLEMENT_INFLOW))
    )


def preapproval_inputs(
    tables: MarketTables, as_of: date, sources: frozenset[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(risk features, strategy inputs) of every enterprise, from ``sources`` only.

    ``tables`` is already restricted (:func:`restricted_tables`); inputs computed from a table
    outside ``sources`` are missing whatever the code would make of an empty table.
    """
    month = decision_month(as_of)
    features = compute_features(tables, month)
    inputs = enterprise_inputs(tables, features, month).join(
        settlement_inflow(tables, as_of).collect(), on="uscc", how="left"
    )
    hidden = [
        name
        for name in (*STRATEGY_INPUT_NAMES, SETTLEMENT_INFLOW)
        if not INPUT_SOURCES[name] <= sources
    ]
    inputs = inputs.with_columns(pl.lit(None, dtype=inputs.schema[n]).alias(n) for n in hidden)
    return features, inputs


def current_exposure(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    """Enterprises with a loan outstanding at the as-of month's end: ``uscc, exposure_fen``."""
    return (
        tables[LOAN_HISTORY]
        .filter(
            (pl.col("month") == as_of)
            & pl.col("status").is_in(["current", "overdue"])
            & (pl.col("balance_fen") > 0)
        )
        .group_by("uscc")
        .agg(pl.col("balance_fen").sum().cast(pl.Int64).alias("exposure_fen"))
    )


def enterprise_places(tables: MarketTables) -> pl.LazyFrame:
    """Where each enterprise is, for the marketing map: region, industry, park."""
    return tables[ENTERPRISES].select("uscc", "region_code", "industry_group", "park")
