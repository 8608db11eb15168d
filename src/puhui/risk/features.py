"""Point-in-time enterprise features from the market tables: one definition, batch and online."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from puhui.risk.errors import InvalidTrainingData
from puhui.risk.reasons import FeatureLabel

# Table and column names of the market contract (puhui.market.schema, version 1.x). The risk
# layer may not import the market, so it names them itself; a test reads both and compares.
ENTERPRISES = "enterprises"
OWNERS = "owners"
TAX_MONTHLY = "tax_monthly"
INVOICES = "invoices"
UTILITIES_MONTHLY = "utilities_monthly"
SETTLEMENT_MONTHLY = "settlement_monthly"
COURT_CASES = "court_cases"
BUREAU = "bureau"
LOAN_HISTORY = "loan_history"
FEATURE_TABLES = (
    ENTERPRISES,
    OWNERS,
    TAX_MONTHLY,
    INVOICES,
    UTILITIES_MONTHLY,
    SETTLEMENT_MONTHLY,
    COURT_CASES,
    BUREAU,
)
# Columns each table must offer (checked against the market schema by a test).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    ENTERPRISES: (
        "uscc", "legal_form", "industry_group", "region_code", "registration_date",
        "registered_capital_fen", "taxpayer_type", "employees", "legal_rep_id_number",
    ),
    OWNERS: ("id_number", "birth_date", "education", "years_in_trade", "enterprises_represented"),
    TAX_MONTHLY: (
        "uscc", "month", "declared_sales_fen", "late_filing", "arrears_fen", "tax_credit_grade",
    ),
    INVOICES: (
        "seller_uscc", "buyer_uscc", "month", "amount_fen", "invoice_count", "voided_count",
        "red_letter_count",
    ),
    UTILITIES_MONTHLY: ("uscc", "month", "electricity_kwh", "late_payment"),
    SETTLEMENT_MONTHLY: (
        "uscc", "month", "inflow_fen", "outflow_fen", "balance_fen", "counterparties",
        "related_party_transfer_fen",
    ),
    COURT_CASES: ("case_id", "uscc", "month", "event", "role"),
    BUREAU: (
        "uscc", "month", "other_lender_loans", "other_lender_balance_fen", "overdue_loans",
        "max_days_past_due", "hard_enquiries",
    ),
    LOAN_HISTORY: ("uscc", "month", "days_past_due", "status"),
}  # fmt: skip

# 90 days past due or a write-off within the horizon is a default (Basel / NFRA definition).
DEFAULT_DAYS_PAST_DUE = 90
# Smoothing added to sums before a log-ratio: one yuan in fen, one kWh; keeps zeros finite.
FEN_SMOOTHING = 100.0

FEATURE_LABELS: dict[str, FeatureLabel] = {
    "sales_growth_3m": FeatureLabel("近3个月销售额增长", "sales growth, last 3 months"),
    "sales_growth_6m": FeatureLabel("近6个月销售额增长", "sales growth, last 6 months"),
    "sales_growth_yoy": FeatureLabel("销售额同比增长", "sales growth, year on year"),
    "sales_volatility_12m": FeatureLabel("销售额波动", "volatility of sales"),
    "sales_12m_log": FeatureLabel("近12个月销售规模", "sales over 12 months"),
    "tax_late_filings_12m": FeatureLabel("纳税申报逾期次数", "late tax filings"),
    "tax_arrears_ratio": FeatureLabel("欠税", "tax arrears"),
    "tax_grade": FeatureLabel("纳税信用等级", "tax credit grade"),
    "invoice_customers_12m": FeatureLabel("下游客户数量", "number of customers"),
    "invoice_suppliers_12m": FeatureLabel("上游供应商数量", "number of suppliers"),
    "invoice_top_customer_share": FeatureLabel("第一大客户集中度", "top customer share"),
    "invoice_voided_ratio": FeatureLabel("发票作废比例", "voided invoice ratio"),
    "invoice_red_letter_ratio": FeatureLabel("红字发票比例", "red-letter invoice ratio"),
    "electricity_growth_3m": FeatureLabel("用电量变化", "electricity use trend"),
    "electricity_vs_peak": FeatureLabel("用电量相对峰值", "electricity use against peak"),
    "utility_late_payments_12m": FeatureLabel("水电费逾期", "late utility payments"),
    "settlement_inflow_outflow_6m": FeatureLabel("资金流入流出比", "inflow against outflow"),
    "settlement_balance_cover": FeatureLabel("账户余额覆盖", "balance cover"),
    "settlement_related_share_6m": FeatureLabel("关联方转账比例", "related-party transfers"),
    "court_defendant_cases_24m": FeatureLabel("涉诉案件（被告）", "court cases as defendant"),
    "court_executed_listed": FeatureLabel("被执行人记录", "listed as executed person"),
    "court_dishonest_listed": FeatureLabel("失信被执行人记录", "listed as dishonest debtor"),
    "bureau_overdue_loans": FeatureLabel("征信逾期贷款", "overdue loans at other lenders"),
    "bureau_max_dpd_6m": FeatureLabel("征信最长逾期天数", "worst days past due elsewhere"),
    "bureau_enquiries_6m": FeatureLabel("征信查询次数", "credit enquiries"),
    "bureau_other_loans": FeatureLabel("他行贷款笔数", "loans at other lenders"),
    "owner_age_years": FeatureLabel("实际控制人年龄", "owner's age"),
    "owner_years_in_trade": FeatureLabel("实际控制人从业年限", "owner's experience"),
    "owner_education": FeatureLabel("实际控制人学历", "owner's education"),
    "owner_other_enterprises": FeatureLabel("实际控制人关联企业数", "owner's other enterprises"),
    "enterprise_age_months": FeatureLabel("企业经营年限", "age of the enterprise"),
    "employees": FeatureLabel("员工人数", "employees"),
    "industry_group": FeatureLabel("行业", "industry"),
    "province": FeatureLabel("地区", "region"),
    "legal_form": FeatureLabel("企业类型", "legal form"),
    "taxpayer_type": FeatureLabel("纳税人类型", "taxpayer type"),
}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURE_LABELS)

# Where the business expects the direction of risk (used as GBM monotone constraints).
MONOTONE_RISK: dict[str, int] = {
    "tax_late_filings_12m": 1,
    "tax_arrears_ratio": 1,
    "utility_late_payments_12m": 1,
    "court_defendant_cases_24m": 1,
    "bureau_overdue_loans": 1,
    "bureau_max_dpd_6m": 1,
    "bureau_enquiries_6m": 1,
    "enterprise_age_months": -1,
}


@dataclass(frozen=True)
class MarketTables:
    """Lazy views of the public market tables (never ``truth/``)."""

    frames: Mapping[str, pl.LazyFrame]

    @classmethod
    def from_dir(
        cls, market: Path, names: Iterable[str] = (*FEATURE_TABLES, LOAN_HISTORY)
    ) -> MarketTables:
        frames: dict[str, pl.LazyFrame] = {}
        for name in names:
            folder = market / "tables" / name
            if not folder.is_dir():
                raise InvalidTrainingData(f"market table {name!r} not found in {market}")
            frames[name] = pl.scan_parquet(str(folder / "*.parquet"))
        return cls(frames)

    def __getitem__(self, name: str) -> pl.LazyFrame:
        return self.frames[name]

    def for_enterprises(self, usccs: Iterable[str]) -> MarketTables:
        """The rows that concern these enterprises only (both sides of an invoice)."""
        keys = pl.Series(list(usccs), dtype=pl.String)
        frames: dict[str, pl.LazyFrame] = {}
        for name, frame in self.frames.items():
            if name == OWNERS:
                frames[name] = frame  # joined through the enterprises kept
            elif name == INVOICES:
                frames[name] = frame.filter(
                    pl.col("seller_uscc").is_in(keys) | pl.col("buyer_uscc").is_in(keys)
                )
            else:
                frames[name] = frame.filter(pl.col("uscc").is_in(keys))
        return replace(self, frames=frames)


def month_index(as_of: date) -> int:
    return as_of.year * 12 + as_of.month - 1


def _lag(as_of: date) -> pl.Expr:
    """Months between the as-of month and the row's month (1 = the month just before)."""
    return pl.lit(month_index(as_of)) - (
        pl.col("month").dt.year().cast(pl.Int32) * 12
        + pl.col("month").dt.month().cast(pl.Int32)
        - 1
    )


def _known(frame: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Only complete months before the as-of date: what a lender could know on that day."""
    return frame.filter(pl.col("month") < as_of).with_columns(_lag(as_of).alias("lag"))


def _sum_in(column: str, first: int, last: int) -> pl.Expr:
    return (
        pl.when(pl.col("lag").is_between(first, last)).then(pl.col(column)).otherwise(None)
    ).sum()


def _count_in(first: int, last: int) -> pl.Expr:
    return pl.col("lag").is_between(first, last).sum()


def _log_ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return ((numerator + FEN_SMOOTHING) / (denominator + FEN_SMOOTHING)).log()


def _tax(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    sales = "declared_sales_fen"
    recent = pl.col("lag").is_between(1, 12)
    return (
        _known(tables[TAX_MONTHLY], as_of)
        .filter(pl.col("lag") <= 15)
        .with_columns(pl.col(sales).cast(pl.Float64))
        .group_by("uscc")
        .agg(
            pl.when(_count_in(1, 6) == 6)
            .then(_log_ratio(_sum_in(sales, 1, 3), _sum_in(sales, 4, 6)))
            .alias("sales_growth_3m"),
            pl.when(_count_in(1, 12) == 12)
            .then(_log_ratio(_sum_in(sales, 1, 6), _sum_in(sales, 7, 12)))
            .alias("sales_growth_6m"),
            # Same three months a year earlier: growth net of the season.
            pl.when((_count_in(1, 3) == 3) & (_count_in(13, 15) == 3))
            .then(_log_ratio(_sum_in(sales, 1, 3), _sum_in(sales, 13, 15)))
            .alias("sales_growth_yoy"),
            pl.when(_count_in(1, 12) >= 6)
            .then(
                pl.col(sales).filter(recent).std()
                / (pl.col(sales).filter(recent).mean() + FEN_SMOOTHING)
            )
            .alias("sales_volatility_12m"),
            (_sum_in(sales, 1, 12).fill_null(0.0) / 100.0).log1p().alias("sales_12m_log"),
            pl.col("late_filing")
            .filter(recent)
            .sum()
            .cast(pl.Float64)
            .alias("tax_late_filings_12m"),
            (
                pl.col("arrears_fen").filter(pl.col("lag") == 1).first().cast(pl.Float64)
                / (_sum_in(sales, 1, 12).fill_null(0.0) / 12.0 + FEN_SMOOTHING)
            ).alias("tax_arrears_ratio"),
            pl.col("tax_credit_grade").filter(pl.col("lag") == 1).first().alias("tax_grade"),
        )
    )


def _invoices(tables: MarketTables, as_of: date) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    recent = _known(tables[INVOICES], as_of).filter(pl.col("lag").is_between(1, 12))
    per_customer = recent.group_by("seller_uscc", "buyer_uscc").agg(
        pl.col("amount_fen").sum().cast(pl.Float64).alias("amount"),
        pl.col("invoice_count").sum().alias("issued"),
        pl.col("voided_count").sum().alias("voided"),
        pl.col("red_letter_count").sum().alias("red"),
    )
    selling = (
        per_customer.group_by("seller_uscc")
        .agg(
            pl.len().cast(pl.Float64).alias("invoice_customers_12m"),
            (pl.col("amount").max() / (pl.col("amount").sum() + FEN_SMOOTHING)).alias(
                "invoice_top_customer_share"
            ),
            (pl.col("voided").sum() / (pl.col("issued").sum() + pl.col("voided").sum()))
            .cast(pl.Float64)
            .alias("invoice_voided_ratio"),
            (pl.col("red").sum() / (pl.col("issued").sum() + pl.col("red").sum()))
            .cast(pl.Float64)
            .alias("invoice_red_letter_ratio"),
        )
        .rename({"seller_uscc": "uscc"})
    )
    buying = (
        recent.group_by("buyer_uscc")
        .agg(pl.col("seller_uscc").n_unique().cast(pl.Float64).alias("invoice_suppliers_12m"))
        .rename({"buyer_uscc": "uscc"})
    )
    return selling, buying


def _utilities(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    kwh = "electricity_kwh"
    return (
        _known(tables[UTILITIES_MONTHLY], as_of)
        .filter(pl.col("lag") <= 13)
        .with_columns(pl.col(kwh).cast(pl.Float64))
        .group_by("uscc")
        .agg(
            pl.when(_count_in(1, 6) == 6)
            .then(_log_ratio(_sum_in(kwh, 1, 3), _sum_in(kwh, 4, 6)))
            .alias("electricity_growth_3m"),
            # Use last month against the peak of the twelve months before it.
            pl.when(_count_in(2, 13) >= 6)
            .then(
                pl.col(kwh).filter(pl.col("lag") == 1).first()
                / (pl.col(kwh).filter(pl.col("lag").is_between(2, 13)).max() + 1.0)
            )
            .alias("electricity_vs_peak"),
            pl.col("late_payment")
            .filter(pl.col("lag") <= 12)
            .sum()
            .cast(pl.Float64)
            .alias("utility_late_payments_12m"),
        )
    )


def _settlement(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    return (
        _known(tables[SETTLEMENT_MONTHLY], as_of)
        .filter(pl.col("lag") <= 6)
        .group_by("uscc")
        .agg(
            _log_ratio(
                pl.col("inflow_fen").sum().cast(pl.Float64),
                pl.col("outflow_fen").sum().cast(pl.Float64),
            ).alias("settlement_inflow_outflow_6m"),
            (
                pl.col("balance_fen").filter(pl.col("lag") == 1).first().cast(pl.Float64)
                / (pl.col("outflow_fen").mean() + FEN_SMOOTHING)
            ).alias("settlement_balance_cover"),
            (
                pl.col("related_party_transfer_fen").sum().cast(pl.Float64)
                / (pl.col("outflow_fen").sum().cast(pl.Float64) + FEN_SMOOTHING)
            ).alias("settlement_related_share_6m"),
        )
    )


def _court(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    events = _known(tables[COURT_CASES], as_of)
    return events.group_by("uscc").agg(
        pl.col("case_id")
        .filter(
            (pl.col("role") == "defendant") & (pl.col("event") == "filed") & (pl.col("lag") <= 24)
        )
        .n_unique()
        .cast(pl.Float64)
        .alias("court_defendant_cases_24m"),
        (pl.col("event") == "executed_listed")
        .any()
        .cast(pl.Float64)
        .alias("court_executed_listed"),
        (pl.col("event") == "dishonest_listed")
        .any()
        .cast(pl.Float64)
        .alias("court_dishonest_listed"),
    )


def _bureau(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    last = pl.col("lag") == 1
    return (
        _known(tables[BUREAU], as_of)
        .filter(pl.col("lag") <= 6)
        .group_by("uscc")
        .agg(
            pl.col("overdue_loans")
            .filter(last)
            .first()
            .cast(pl.Float64)
            .alias("bureau_overdue_loans"),
            pl.col("max_days_past_due").max().cast(pl.Float64).alias("bureau_max_dpd_6m"),
            pl.col("hard_enquiries").sum().cast(pl.Float64).alias("bureau_enquiries_6m"),
            pl.col("other_lender_loans")
            .filter(last)
            .first()
            .cast(pl.Float64)
            .alias("bureau_other_loans"),
        )
    )


def _profile(tables: MarketTables, as_of: date) -> pl.LazyFrame:
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


def month_index_expr(column: pl.Expr) -> pl.Expr:
    return column.dt.year().cast(pl.Int32) * 12 + column.dt.month().cast(pl.Int32) - 1


def compute_features(tables: MarketTables, as_of: date) -> pl.DataFrame:
    """Every feature of every enterprise registered before ``as_of``, from data before it.

    The one definition: online scoring calls it on ``tables.for_enterprises([uscc])``.
    """
    if as_of.day != 1:
        raise InvalidTrainingData("as_of must be the first day of a month")
    selling, buying = _invoices(tables, as_of)
    frame = _profile(tables, as_of)
    for part in (
        _tax(tables, as_of),
        selling,
        buying,
        _utilities(tables, as_of),
        _settlement(tables, as_of),
        _court(tables, as_of),
        _bureau(tables, as_of),
    ):
        frame = frame.join(part, on="uscc", how="left")
    # No invoice, court or utility row means none happened (zero), not "unknown".
    zero_if_absent = [
        "invoice_customers_12m",
        "invoice_suppliers_12m",
        "court_defendant_cases_24m",
        "court_executed_listed",
        "court_dishonest_listed",
    ]
    frame = frame.with_columns(pl.col(zero_if_absent).fill_null(0.0))
    return frame.select("uscc", *FEATURE_NAMES).sort("uscc").collect()


def enterprise_features(tables: MarketTables, uscc: str, as_of: date) -> dict[str, Any]:
    """The features of one enterprise (online): the same definitions on its rows only."""
    frame = compute_features(tables.for_enterprises([uscc]), as_of)
    if frame.height == 0:
        raise InvalidTrainingData(f"enterprise {uscc} is not registered before {as_of}")
    row = frame.row(0, named=True)
    row.pop("uscc")
    return row


def add_months(day: date, months: int) -> date:
    index = month_index(day) + months
    return date(index // 12, index % 12 + 1, 1)


def observed_outcomes(
    tables: MarketTables, as_of: date, *, horizon_months: int = 12, window_months: int = 24
) -> pl.DataFrame:
    """Loans whose outcome was known by ``as_of``, with the origination month and the outcome.

    Cohorts: loans originated in the ``window_months`` whose ``horizon_months`` performance
    window closed before ``as_of``. Bad (1): the loan reached 90 days past due or was written
    off within the horizon. Only loan-history rows before ``as_of`` are read. One row per
    enterprise and origination month (several loans that month: bad if any is bad).
    """
    last_cohort = add_months(as_of, -horizon_months)
    first_cohort = add_months(last_cohort, -(window_months - 1))
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
    tables: MarketTables, as_of: date, *, horizon_months: int = 12, window_months: int = 24
) -> pl.DataFrame:
    """Each loan's features as of its origination month, with its observed outcome."""
    outcomes = observed_outcomes(
        tables, as_of, horizon_months=horizon_months, window_months=window_months
    )
    parts: list[pl.DataFrame] = []
    for (cohort,), loans in outcomes.group_by("origination_month", maintain_order=True):
        cohort_date = cohort if isinstance(cohort, date) else as_of
        # Only the cohort's enterprises: the same definitions on fewer rows (values identical).
        cohort_tables = tables.for_enterprises(loans.get_column("uscc").to_list())
        features = compute_features(cohort_tables, cohort_date)
        parts.append(loans.join(features, on="uscc", how="inner"))
    return pl.concat(parts).sort("origination_month", "uscc")
