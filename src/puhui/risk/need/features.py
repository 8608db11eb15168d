"""Point-in-time features of an enterprise's coming funding need, from pre-consent data only.

A bank picks whom to approach before the enterprise has authorised anything, so these
features read only what it may already use (``PRE_CONSENT_SOURCES``): the public registry and
court records, its own settlement accounts and loans, and the utilities the local public-data
platform shares. Tax, invoices and the credit bureau need the enterprise's consent and are
never read here.

Every feature of a row comes from that enterprise's own rows (plus the global owners list),
so any partition of the enterprises gives the same rows: the batch engines rely on it.
Windows count back from the as-of month itself (lag 1 = the as-of month: it is complete when
the monthly run starts).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import (
    COURT_CASES,
    ENTERPRISES,
    LOAN_HISTORY,
    OWNERS,
    SETTLEMENT_MONTHLY,
    UTILITIES_MONTHLY,
    MarketTables,
    month_index,
    month_index_expr,
    month_start_plus,
)
from puhui.risk.features.windows import FEN_SMOOTHING, count_in, known, log_ratio, sum_in
from puhui.risk.need.calendar import (
    CONSUMER_INDUSTRY_GROUPS,
    INDUSTRY_GROUPS,
    months_to_season,
    season_months_ahead,
)

PRE_CONSENT_SOURCES: frozenset[str] = frozenset(
    {ENTERPRISES, OWNERS, COURT_CASES, SETTLEMENT_MONTHLY, LOAN_HISTORY, UTILITIES_MONTHLY}
)
"""Market tables a bank may use before the enterprise consents (not tax, invoices, bureau)."""

SIZE_CODES = {"micro": 0, "small": 1, "medium": 2}

PROFILE_FEATURES = (
    "enterprise_age_months",
    "employees",
    "registered_capital_log",
    "industry_code",
    "consumer_calendar",
    "size_code",
    "is_company",
    "owner_years_in_trade",
    "months_to_season",
    "season_months_ahead",
)
UTILITY_FEATURES = (
    "kwh_12m_log",
    "kwh_months_12m",
    "kwh_3m_vs_12m",
    "kwh_growth_3m_yoy",
    "kwh_12m_vs_prev_12m",
    "utility_late_3m",
    "utility_late_12m",
)
SETTLEMENT_FEATURES = (
    "inflow_12m_log",
    "inflow_months_36m",
    "inflow_3m_vs_12m",
    "inflow_growth_3m",
    "inflow_growth_3m_yoy",
    "inflow_12m_vs_prev_12m",
    "margin_3m",
    "margin_12m",
    "balance_cover",
    "balance_trend_3m",
    "related_share_6m",
    "negative_months_6m",
)
COURT_FEATURES = ("court_filed_6m", "court_defendant_24m", "court_listed")
LOAN_FEATURES = (
    "loans_open",
    "loan_balance_log",
    "months_since_last_loan",
    "last_loan_principal_log",
    "loan_max_dpd_12m",
)
DERIVED_FEATURES = ("kwh_to_inflow_log", "need_base_log", "need_base_kind")
NEED_FEATURE_NAMES: tuple[str, ...] = (
    *PROFILE_FEATURES,
    *UTILITY_FEATURES,
    *SETTLEMENT_FEATURES,
    *COURT_FEATURES,
    *LOAN_FEATURES,
    *DERIVED_FEATURES,
)
"""The columns ``need_features`` returns after ``uscc``, in this order (all Float64)."""

# Which revenue proxy the amount is scaled from: electricity follows sales tightly within an
# industry; the settlement inflow carries only the share of sales paid through this bank; a
# firm with neither (just registered) is scaled from its registered capital.
BASE_ELECTRICITY, BASE_INFLOW, BASE_NONE = 0.0, 1.0, 2.0

SALES_GROWTH_BASELINE = "inflow_growth_3m_yoy"
"""The feature the "recent sales growth" baseline ranks by (inflows, 3 months, year on year)."""


def need_features(
    tables: MarketTables, as_of: date, *, sources: frozenset[str] = PRE_CONSENT_SOURCES
) -> pl.DataFrame:
    """One row per enterprise registered by the end of the as-of month: ``uscc`` + features.

    Only rows of ``month <= as_of`` are read, and only the tables named in ``sources``
    (a table outside them leaves its features missing); a source named but absent from
    ``tables`` is refused by name.
    """
    if as_of.day != 1:
        raise InvalidTrainingData("as_of must be the first day of a month")
    if ENTERPRISES not in sources:
        raise InvalidTrainingData("need features need the enterprises registry as a source")
    missing = sorted(name for name in sources if name not in tables.frames)
    if missing:
        raise InvalidTrainingData(f"market table(s) missing for need features: {missing}")
    # ``known`` keeps months before its date: the day after the as-of month keeps the month.
    until = month_start_plus(as_of, 1)
    frame = _profile(tables, as_of, until, sources)
    parts: list[pl.LazyFrame] = []
    if UTILITIES_MONTHLY in sources:
        parts.append(_utilities(tables, until))
    if SETTLEMENT_MONTHLY in sources:
        parts.append(_settlement(tables, until))
    if COURT_CASES in sources:
        parts.append(_court(tables, until))
    if LOAN_HISTORY in sources:
        parts.append(_loans(tables, until))
    for part in parts:
        frame = frame.join(part, on="uscc", how="left")
    absent = [pl.lit(None, dtype=pl.Float64).alias(n) for n in _absent(sources)]
    if absent:
        frame = frame.with_columns(absent)
    if COURT_CASES in sources:
        frame = frame.with_columns(pl.col(COURT_FEATURES).fill_null(0.0))  # none filed: zero
    if LOAN_HISTORY in sources:
        frame = frame.with_columns(pl.col("loans_open", "loan_max_dpd_12m").fill_null(0.0))
    kwh, inflow = pl.col("kwh_12m_log"), pl.col("inflow_12m_log")
    frame = frame.with_columns(
        (kwh - inflow).alias("kwh_to_inflow_log"),
        pl.coalesce(kwh, inflow, pl.col("registered_capital_log")).alias("need_base_log"),
        pl.when(kwh.is_not_null())
        .then(BASE_ELECTRICITY)
        .when(inflow.is_not_null())
        .then(BASE_INFLOW)
        .otherwise(BASE_NONE)
        .alias("need_base_kind"),
    )
    return (
        frame.select("uscc", *(pl.col(n).cast(pl.Float64) for n in NEED_FEATURE_NAMES))
        .sort("uscc")
        .collect()
    )


def _absent(sources: frozenset[str]) -> list[str]:
    by_source = {
        UTILITIES_MONTHLY: UTILITY_FEATURES,
        SETTLEMENT_MONTHLY: SETTLEMENT_FEATURES,
        COURT_CASES: COURT_FEATURES,
        LOAN_HISTORY: LOAN_FEATURES,
    }
    return [n for source, names in by_source.items() if source not in sources for n in names]


def _profile(
    tables: MarketTables, as_of: date, until: date, sources: frozenset[str]
) -> pl.LazyFrame:
    enterprises = tables[ENTERPRISES].filter(pl.col("registration_date") < until)
    if OWNERS in sources:
        owners = tables[OWNERS].select(
            pl.col("id_number").alias("legal_rep_id_number"),
            pl.col("years_in_trade").cast(pl.Float64).alias("owner_years_in_trade"),
        )
        enterprises = enterprises.join(owners, on="legal_rep_id_number", how="left")
    else:
        enterprises = enterprises.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("owner_years_in_trade")
        )
    group = pl.col("industry_group")
    consumer = group.is_in(sorted(CONSUMER_INDUSTRY_GROUPS))
    codes = {name: float(i) for i, name in enumerate(INDUSTRY_GROUPS)}
    return enterprises.select(
        "uscc",
        (month_index(as_of) - month_index_expr(pl.col("registration_date")))
        .cast(pl.Float64)
        .alias("enterprise_age_months"),
        pl.col("employees").cast(pl.Float64),
        (pl.col("registered_capital_fen").cast(pl.Float64) + FEN_SMOOTHING)
        .log()
        .alias("registered_capital_log"),
        group.replace_strict(codes, default=None, return_dtype=pl.Float64).alias("industry_code"),
        consumer.cast(pl.Float64).alias("consumer_calendar"),
        pl.col("size_band")
        .replace_strict(SIZE_CODES, default=None, return_dtype=pl.Float64)
        .alias("size_code"),
        (pl.col("legal_form") == "company").cast(pl.Float64).alias("is_company"),
        "owner_years_in_trade",
        pl.when(consumer)
        .then(float(months_to_season(True, as_of)))
        .otherwise(float(months_to_season(False, as_of)))
        .alias("months_to_season"),
        pl.when(consumer)
        .then(float(season_months_ahead(True, as_of)))
        .otherwise(float(season_months_ahead(False, as_of)))
        .alias("season_months_ahead"),
    )


def _mean_log(column: str, first: int, last: int) -> pl.Expr:
    """Log of the mean over the months present in the window (missing when none is)."""
    return (
        pl.when(count_in(first, last) > 0)
        .then(((sum_in(column, first, last) / count_in(first, last)) + FEN_SMOOTHING).log())
        .otherwise(None)
    )


def _utilities(tables: MarketTables, until: date) -> pl.LazyFrame:
    kwh = "electricity_kwh"
    return (
        known(tables[UTILITIES_MONTHLY], until)
        .filter(pl.col("lag") <= 24)
        .with_columns(pl.col(kwh).cast(pl.Float64))
        .group_by("uscc")
        .agg(
            _mean_log(kwh, 1, 12).alias("kwh_12m_log"),
            count_in(1, 12).cast(pl.Float64).alias("kwh_months_12m"),
            pl.when(count_in(1, 12) == 12)
            .then(log_ratio(4.0 * sum_in(kwh, 1, 3), sum_in(kwh, 1, 12)))
            .alias("kwh_3m_vs_12m"),
            pl.when((count_in(1, 3) == 3) & (count_in(13, 15) == 3))
            .then(log_ratio(sum_in(kwh, 1, 3), sum_in(kwh, 13, 15)))
            .alias("kwh_growth_3m_yoy"),
            pl.when(count_in(1, 24) == 24)
            .then(log_ratio(sum_in(kwh, 1, 12), sum_in(kwh, 13, 24)))
            .alias("kwh_12m_vs_prev_12m"),
            pl.col("late_payment")
            .filter(pl.col("lag") <= 3)
            .sum()
            .cast(pl.Float64)
            .alias("utility_late_3m"),
            pl.col("late_payment")
            .filter(pl.col("lag") <= 12)
            .sum()
            .cast(pl.Float64)
            .alias("utility_late_12m"),
        )
    )


def _margin(first: int, last: int) -> pl.Expr:
    inflow, outflow = sum_in("inflow_fen", first, last), sum_in("outflow_fen", first, last)
    return pl.when(count_in(first, last) > 0).then((inflow - outflow) / (inflow + FEN_SMOOTHING))


def _settlement(tables: MarketTables, until: date) -> pl.LazyFrame:
    inflow = "inflow_fen"
    return (
        known(tables[SETTLEMENT_MONTHLY], until)
        .filter(pl.col("lag") <= 36)
        .with_columns(
            pl.col(inflow, "outflow_fen", "balance_fen", "related_party_transfer_fen").cast(
                pl.Float64
            )
        )
        .group_by("uscc")
        .agg(
            _mean_log(inflow, 1, 12).alias("inflow_12m_log"),
            count_in(1, 36).cast(pl.Float64).alias("inflow_months_36m"),
            pl.when(count_in(1, 12) == 12)
            .then(log_ratio(4.0 * sum_in(inflow, 1, 3), sum_in(inflow, 1, 12)))
            .alias("inflow_3m_vs_12m"),
            pl.when(count_in(1, 6) == 6)
            .then(log_ratio(sum_in(inflow, 1, 3), sum_in(inflow, 4, 6)))
            .alias("inflow_growth_3m"),
            pl.when((count_in(1, 3) == 3) & (count_in(13, 15) == 3))
            .then(log_ratio(sum_in(inflow, 1, 3), sum_in(inflow, 13, 15)))
            .alias("inflow_growth_3m_yoy"),
            pl.when(count_in(1, 24) == 24)
            .then(log_ratio(sum_in(inflow, 1, 12), sum_in(inflow, 13, 24)))
            .alias("inflow_12m_vs_prev_12m"),
            _margin(1, 3).alias("margin_3m"),
            _margin(1, 12).alias("margin_12m"),
            (
                pl.col("balance_fen").filter(pl.col("lag") == 1).first()
                / (pl.col("outflow_fen").filter(pl.col("lag") <= 3).mean() + FEN_SMOOTHING)
            ).alias("balance_cover"),
            pl.when((count_in(1, 1) == 1) & (count_in(4, 4) == 1))
            .then(log_ratio(sum_in("balance_fen", 1, 1), sum_in("balance_fen", 4, 4)))
            .alias("balance_trend_3m"),
            (
                pl.col("related_party_transfer_fen").filter(pl.col("lag") <= 6).sum()
                / (pl.col(inflow).filter(pl.col("lag") <= 6).sum() + FEN_SMOOTHING)
            ).alias("related_share_6m"),
            (pl.col(inflow) < pl.col("outflow_fen"))
            .filter(pl.col("lag") <= 6)
            .sum()
            .cast(pl.Float64)
            .alias("negative_months_6m"),
        )
    )


def _court(tables: MarketTables, until: date) -> pl.LazyFrame:
    event, filed = pl.col("event"), pl.col("event") == "filed"
    return (
        known(tables[COURT_CASES], until)
        .group_by("uscc")
        .agg(
            pl.col("case_id")
            .filter(filed & (pl.col("lag") <= 6))
            .n_unique()
            .cast(pl.Float64)
            .alias("court_filed_6m"),
            pl.col("case_id")
            .filter(filed & (pl.col("role") == "defendant") & (pl.col("lag") <= 24))
            .n_unique()
            .cast(pl.Float64)
            .alias("court_defendant_24m"),
            event.is_in(["executed_listed", "dishonest_listed"])
            .any()
            .cast(pl.Float64)
            .alias("court_listed"),
        )
    )


def _loans(tables: MarketTables, until: date) -> pl.LazyFrame:
    """The bank's own loans to the enterprise: the size and age of the last one."""
    last = pl.col("lag") == pl.col("lag").min()
    return (
        known(tables[LOAN_HISTORY], until)
        .group_by("uscc")
        .agg(
            (last & (pl.col("balance_fen") > 0)).sum().cast(pl.Float64).alias("loans_open"),
            (pl.col("balance_fen").filter(last).sum().cast(pl.Float64) + FEN_SMOOTHING)
            .log()
            .alias("loan_balance_log"),
            (pl.lit(month_index(until) - 1) - month_index_expr(pl.col("origination_month")).max())
            .cast(pl.Float64)
            .alias("months_since_last_loan"),
            (
                pl.col("principal_fen")
                .sort_by("origination_month", "loan_id")
                .last()
                .cast(pl.Float64)
                + FEN_SMOOTHING
            )
            .log()
            .alias("last_loan_principal_log"),
            pl.col("days_past_due")
            .filter(pl.col("lag") <= 12)
            .max()
            .cast(pl.Float64)
            .alias("loan_max_dpd_12m"),
        )
    )
