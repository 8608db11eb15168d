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
# The lender's own application records: the application being decided and the earlier ones.
APPLICATIONS = "applications"
# The core enterprises (核心企业) of the supply chains a bank finances: one column, ``uscc``.
# A bank keeps this list; on the market it is the medium-size enterprises (the schema's own
# definition), derived from the registry by ``MarketTables.from_dir``. Online, the invoice
# pull carries the core enterprises among the applicant's counterparties.
CORE_ENTERPRISES = "core_enterprises"
CORE_SIZE_BAND = "medium"
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
        "size_band",
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
    APPLICATIONS: (
        "application_id", "uscc", "month", "application_date", "channel",
        "requested_amount_fen", "requested_term_months",
    ),
}  # fmt: skip

# 90 days past due or a write-off within the horizon is a default (Basel / NFRA definition).
DEFAULT_DAYS_PAST_DUE = 90
# Months after origination in which a default makes a loan bad (the PD's horizon).
HORIZON_MONTHS = 12
# Smoothing added to sums before a log-ratio: one yuan in fen, one kWh; keeps zeros finite.
FEN_SMOOTHING = 100.0
# The longest look-back: long-run rates of late filings, payments and overdues estimate a
# firm's usual health, the recent windows its departure from it.
HISTORY_MONTHS = 36
# Transfers to related parties above this share of the month's inflow are rare in normal trade.
HEAVY_RELATED_SHARE = 0.2
# Loans originated in a market's first months have (almost) no history to compute features on.
WARM_UP_MONTHS = 6

FEATURE_LABELS: dict[str, FeatureLabel] = {
    "sales_growth_3m": FeatureLabel("近3个月销售额增长", "sales growth, last 3 months"),
    "sales_growth_6m": FeatureLabel("近6个月销售额增长", "sales growth, last 6 months"),
    "sales_growth_yoy": FeatureLabel("销售额同比增长", "sales growth, year on year"),
    "sales_volatility_12m": FeatureLabel("销售额波动", "volatility of sales"),
    "sales_12m_log": FeatureLabel("近12个月销售规模", "sales over 12 months"),
    "tax_late_filings_12m": FeatureLabel("纳税申报逾期次数", "late tax filings"),
    "tax_arrears_ratio": FeatureLabel("欠税", "tax arrears"),
    "tax_grade": FeatureLabel("纳税信用等级", "tax credit grade"),
    "sales_growth_1m_yoy": FeatureLabel("上月销售额同比", "last month's sales, year on year"),
    "sales_yoy_3m_vs_12m": FeatureLabel("近期销售同比走弱", "recent sales weaker than the year"),
    "sales_1m_vs_6m": FeatureLabel("上月销售额相对近半年", "last month's sales against 6 months"),
    "tax_late_filings_3m": FeatureLabel("近3个月纳税申报逾期", "late tax filings, 3 months"),
    "tax_late_filing_rate": FeatureLabel("历史纳税申报逾期率", "share of late tax filings"),
    "tax_zero_filings_3m": FeatureLabel("近3个月零申报", "nil tax returns, 3 months"),
    "tax_arrears_months_12m": FeatureLabel("欠税月数", "months with tax arrears"),
    "tax_grade_previous": FeatureLabel("上年度纳税信用等级", "previous tax credit grade"),
    "invoice_customers_12m": FeatureLabel("下游客户数量", "number of customers"),
    "invoice_suppliers_12m": FeatureLabel("上游供应商数量", "number of suppliers"),
    "invoice_top_customer_share": FeatureLabel("第一大客户集中度", "top customer share"),
    "invoice_voided_ratio": FeatureLabel("发票作废比例", "voided invoice ratio"),
    "invoice_red_letter_ratio": FeatureLabel("红字发票比例", "red-letter invoice ratio"),
    "invoice_core_links_12m": FeatureLabel(
        "与核心企业的交易关系", "trading links with core enterprises"
    ),
    "invoice_core_sales_share": FeatureLabel(
        "对核心企业销售占比", "share of sales to core enterprises"
    ),
    "electricity_growth_3m": FeatureLabel("用电量变化", "electricity use trend"),
    "electricity_vs_peak": FeatureLabel("用电量相对峰值", "electricity use against peak"),
    "utility_late_payments_12m": FeatureLabel("水电费逾期", "late utility payments"),
    "electricity_growth_1m_yoy": FeatureLabel("上月用电量同比", "last month's electricity, yoy"),
    "electricity_growth_3m_yoy": FeatureLabel("近3个月用电量同比", "electricity, 3 months yoy"),
    "electricity_3m_vs_12m": FeatureLabel("近3个月用电量相对全年", "electricity, 3m against year"),
    "electricity_1m_vs_12m": FeatureLabel("上月用电量相对全年", "electricity, last month vs year"),
    "electricity_12m_vs_24m": FeatureLabel("用电量年度变化", "electricity, year on year"),
    "electricity_per_sales": FeatureLabel("单位销售额用电量", "electricity per yuan of sales"),
    "utility_late_payments_3m": FeatureLabel("近3个月水电费逾期", "late utility payments, 3m"),
    "utility_late_payment_rate": FeatureLabel("历史水电费逾期率", "share of late utility bills"),
    "settlement_inflow_outflow_6m": FeatureLabel("资金流入流出比", "inflow against outflow"),
    "settlement_balance_cover": FeatureLabel("账户余额覆盖", "balance cover"),
    "settlement_related_share_6m": FeatureLabel("关联方转账比例", "related-party transfers"),
    "settlement_margin_1m": FeatureLabel("上月资金净流入", "last month's net inflow"),
    "settlement_margin_3m": FeatureLabel("近3个月资金净流入", "net inflow, 3 months"),
    "settlement_margin_drop": FeatureLabel("资金净流入下降", "fall in net inflow"),
    "settlement_related_months_3m": FeatureLabel("近3个月关联方转账", "related transfers, 3m"),
    "settlement_balance_trend_3m": FeatureLabel("账户余额变化", "change in account balance"),
    "settlement_negative_months_6m": FeatureLabel("资金净流出月数", "months of net outflow"),
    "settlement_negative_run": FeatureLabel("连续资金净流出", "consecutive months of net outflow"),
    "settlement_heavy_related_months_6m": FeatureLabel(
        "大额关联方转账月数", "months of large related-party transfers"
    ),
    "court_defendant_cases_24m": FeatureLabel("涉诉案件（被告）", "court cases as defendant"),
    "court_executed_listed": FeatureLabel("被执行人记录", "listed as executed person"),
    "court_dishonest_listed": FeatureLabel("失信被执行人记录", "listed as dishonest debtor"),
    "court_cases_filed_6m": FeatureLabel("近6个月新增诉讼", "new court cases, 6 months"),
    "court_cases_filed_36m": FeatureLabel("历史诉讼数量", "court cases, 3 years"),
    "bureau_overdue_loans": FeatureLabel("征信逾期贷款", "overdue loans at other lenders"),
    "bureau_max_dpd_6m": FeatureLabel("征信最长逾期天数", "worst days past due elsewhere"),
    "bureau_enquiries_6m": FeatureLabel("征信查询次数", "credit enquiries"),
    "bureau_other_loans": FeatureLabel("他行贷款笔数", "loans at other lenders"),
    "bureau_enquiries_1m": FeatureLabel("上月征信查询次数", "credit enquiries last month"),
    "bureau_enquiries_3m": FeatureLabel("近3个月征信查询次数", "credit enquiries, 3 months"),
    "bureau_new_loans_12m": FeatureLabel("新增他行贷款", "new loans at other lenders"),
    "bureau_overdue_months_3m": FeatureLabel("近3个月征信逾期", "months overdue elsewhere, 3m"),
    "bureau_overdue_rate": FeatureLabel("历史征信逾期率", "share of months overdue elsewhere"),
    "bureau_balance_to_sales": FeatureLabel("他行负债与销售额之比", "debt elsewhere to sales"),
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
"""The enterprise features: what ``compute_features`` returns for every enterprise."""

# What the application itself says, known when it is decided. The need behind an application
# shows in its terms: a firm sliding into distress asks for 6-12 months of money, a seasonal
# stock-up for 3-6, an expansion for 12-36; and a loan that is repaid before a decline begins
# never defaults, so the term also bounds the exposure.
APPLICATION_FEATURE_LABELS: dict[str, FeatureLabel] = {
    "application_term": FeatureLabel("申请期限", "requested term"),
    "application_amount_to_sales": FeatureLabel(
        "申请金额相对月销售额", "requested amount against monthly sales"
    ),
    "application_channel": FeatureLabel("申请渠道", "application channel"),
    "application_previous_12m": FeatureLabel("近12个月申请次数", "applications in 12 months"),
    "application_months_since_previous": FeatureLabel(
        "距上次申请月数", "months since the previous application"
    ),
}
APPLICATION_FEATURE_NAMES: tuple[str, ...] = tuple(APPLICATION_FEATURE_LABELS)
# Reason texts for every feature a market model may use (enterprise and application).
FEATURE_LABELS.update(APPLICATION_FEATURE_LABELS)
# Days back that count as "the last 12 months" for earlier applications.
APPLICATION_LOOK_BACK_DAYS = 365

# Where the business expects the direction of risk (used as GBM monotone constraints).
MONOTONE_RISK: dict[str, int] = {
    "tax_late_filings_12m": 1,
    "tax_arrears_ratio": 1,
    "utility_late_payments_12m": 1,
    "court_defendant_cases_24m": 1,
    "bureau_overdue_loans": 1,
    "bureau_max_dpd_6m": 1,
    "bureau_enquiries_6m": 1,
    "tax_late_filings_3m": 1,
    "tax_late_filing_rate": 1,
    "tax_arrears_months_12m": 1,
    "utility_late_payments_3m": 1,
    "utility_late_payment_rate": 1,
    "settlement_related_months_3m": 1,
    "settlement_negative_months_6m": 1,
    "settlement_negative_run": 1,
    "settlement_heavy_related_months_6m": 1,
    "court_cases_filed_6m": 1,
    "bureau_enquiries_1m": 1,
    "bureau_enquiries_3m": 1,
    "bureau_overdue_months_3m": 1,
    "bureau_overdue_rate": 1,
    "enterprise_age_months": -1,
}


@dataclass(frozen=True)
class MarketTables:
    """Lazy views of the public market tables (never ``truth/``)."""

    frames: Mapping[str, pl.LazyFrame]

    @classmethod
    def from_dir(
        cls,
        market: Path,
        names: Iterable[str] = (*FEATURE_TABLES, LOAN_HISTORY),
        optional: Iterable[str] = (APPLICATIONS,),
    ) -> MarketTables:
        """The ``names`` tables (refused when absent) and the ``optional`` ones that exist."""
        frames: dict[str, pl.LazyFrame] = {}
        for name in names:
            folder = market / "tables" / name
            if not folder.is_dir():
                raise InvalidTrainingData(f"market table {name!r} not found in {market}")
            frames[name] = pl.scan_parquet(str(folder / "*.parquet"))
        for name in optional:
            folder = market / "tables" / name
            if name not in frames and folder.is_dir():
                frames[name] = pl.scan_parquet(str(folder / "*.parquet"))
        if ENTERPRISES in frames:
            frames[CORE_ENTERPRISES] = core_enterprises(frames[ENTERPRISES])
        return cls(frames)

    def __getitem__(self, name: str) -> pl.LazyFrame:
        return self.frames[name]

    def for_enterprises(self, usccs: Iterable[str]) -> MarketTables:
        """The rows that concern these enterprises only (both sides of an invoice)."""
        keys = pl.Series(list(usccs), dtype=pl.String)
        frames: dict[str, pl.LazyFrame] = {}
        for name, frame in self.frames.items():
            if name in (OWNERS, CORE_ENTERPRISES):
                frames[name] = frame  # joined through the enterprises kept; a list
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
        .filter(pl.col("lag") <= HISTORY_MONTHS)
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
            _sum_in(sales, 1, 12).alias("_sales_12m"),
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
            # Distress shows first in the latest month: against the same month a year earlier.
            pl.when((_count_in(1, 1) == 1) & (_count_in(13, 13) == 1))
            .then(_log_ratio(_sum_in(sales, 1, 1), _sum_in(sales, 13, 13)))
            .alias("sales_growth_1m_yoy"),
            # Recent year-on-year growth net of the firm's own annual trend: a decline, not a
            # slow-growing firm.
            pl.when(
                (_count_in(1, 3) == 3)
                & (_count_in(13, 15) == 3)
                & (_count_in(1, 12) == 12)
                & (_count_in(13, 24) == 12)
            )
            .then(
                _log_ratio(_sum_in(sales, 1, 3), _sum_in(sales, 13, 15))
                - _log_ratio(_sum_in(sales, 1, 12), _sum_in(sales, 13, 24))
            )
            .alias("sales_yoy_3m_vs_12m"),
            pl.when(_count_in(1, 6) == 6)
            .then(_log_ratio(6.0 * _sum_in(sales, 1, 1), _sum_in(sales, 1, 6)))
            .alias("sales_1m_vs_6m"),
            pl.col("late_filing")
            .filter(pl.col("lag") <= 3)
            .sum()
            .cast(pl.Float64)
            .alias("tax_late_filings_3m"),
            # The long-run share of late returns estimates the firm's usual health.
            pl.col("late_filing").cast(pl.Float64).mean().alias("tax_late_filing_rate"),
            (pl.col(sales) == 0)
            .filter(pl.col("lag") <= 3)
            .sum()
            .cast(pl.Float64)
            .alias("tax_zero_filings_3m"),
            (pl.col("arrears_fen") > 0)
            .filter(recent)
            .sum()
            .cast(pl.Float64)
            .alias("tax_arrears_months_12m"),
            pl.col("tax_credit_grade")
            .filter(pl.col("lag") == 13)
            .first()
            .alias("tax_grade_previous"),
        )
    )


def core_enterprises(enterprises: pl.LazyFrame) -> pl.LazyFrame:
    """The market's core enterprises: its medium-size firms (the schema's definition)."""
    return enterprises.filter(pl.col("size_band") == CORE_SIZE_BAND).select("uscc")


def _invoices(tables: MarketTables, as_of: date) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    recent = _known(tables[INVOICES], as_of).filter(pl.col("lag").is_between(1, 12))
    core_frame = tables.frames.get(CORE_ENTERPRISES)
    core = (
        pl.Series("uscc", [], dtype=pl.String)
        if core_frame is None
        else core_frame.select("uscc").collect().get_column("uscc")
    )
    recent = recent.with_columns(
        pl.col("buyer_uscc").is_in(core).alias("_buyer_core"),
        pl.col("seller_uscc").is_in(core).alias("_seller_core"),
    )
    per_customer = recent.group_by("seller_uscc", "buyer_uscc").agg(
        pl.col("_buyer_core").first().alias("buyer_core"),
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
            (
                pl.col("amount").filter(pl.col("buyer_core")).sum()
                / (pl.col("amount").sum() + FEN_SMOOTHING)
            ).alias("invoice_core_sales_share"),
            pl.col("buyer_core").sum().cast(pl.Float64).alias("_core_buyers"),
        )
        .rename({"seller_uscc": "uscc"})
    )
    buying = (
        recent.group_by("buyer_uscc")
        .agg(
            pl.col("seller_uscc").n_unique().cast(pl.Float64).alias("invoice_suppliers_12m"),
            pl.col("seller_uscc")
            .filter(pl.col("_seller_core"))
            .n_unique()
            .cast(pl.Float64)
            .alias("_core_suppliers"),
        )
        .rename({"buyer_uscc": "uscc"})
    )
    return selling, buying


def _utilities(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    kwh = "electricity_kwh"
    return (
        _known(tables[UTILITIES_MONTHLY], as_of)
        .filter(pl.col("lag") <= HISTORY_MONTHS)
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
            pl.when((_count_in(1, 1) == 1) & (_count_in(13, 13) == 1))
            .then(_log_ratio(_sum_in(kwh, 1, 1), _sum_in(kwh, 13, 13)))
            .alias("electricity_growth_1m_yoy"),
            pl.when((_count_in(1, 3) == 3) & (_count_in(13, 15) == 3))
            .then(_log_ratio(_sum_in(kwh, 1, 3), _sum_in(kwh, 13, 15)))
            .alias("electricity_growth_3m_yoy"),
            pl.col("late_payment")
            .filter(pl.col("lag") <= 3)
            .sum()
            .cast(pl.Float64)
            .alias("utility_late_payments_3m"),
            pl.col("late_payment").cast(pl.Float64).mean().alias("utility_late_payment_rate"),
            # Electricity follows activity more tightly than declared sales (less noise, no
            # under-reporting): the last quarter against the firm's own year.
            pl.when(_count_in(1, 12) == 12)
            .then(_log_ratio(4.0 * _sum_in(kwh, 1, 3), _sum_in(kwh, 1, 12)))
            .alias("electricity_3m_vs_12m"),
            pl.when(_count_in(1, 12) == 12)
            .then(_log_ratio(12.0 * _sum_in(kwh, 1, 1), _sum_in(kwh, 1, 12)))
            .alias("electricity_1m_vs_12m"),
            pl.when(_count_in(1, 24) == 24)
            .then(_log_ratio(2.0 * _sum_in(kwh, 1, 12), _sum_in(kwh, 1, 24)))
            .alias("electricity_12m_vs_24m"),
            _sum_in(kwh, 1, 12).alias("_kwh_12m"),
        )
    )


def _settlement(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    six = pl.col("lag") <= 6
    inflow, outflow = "inflow_fen", "outflow_fen"
    return (
        _known(tables[SETTLEMENT_MONTHLY], as_of)
        .filter(pl.col("lag") <= 12)
        .with_columns(
            pl.col(inflow, outflow, "balance_fen", "related_party_transfer_fen").cast(pl.Float64)
        )
        .with_columns(
            (_margin(pl.col(inflow), pl.col(outflow)) < 0.0).alias("_negative"),
            (
                pl.col("related_party_transfer_fen") / (pl.col(inflow) + FEN_SMOOTHING)
                >= HEAVY_RELATED_SHARE
            ).alias("_heavy_related"),
        )
        .group_by("uscc")
        .agg(
            _log_ratio(pl.col(inflow).filter(six).sum(), pl.col(outflow).filter(six).sum()).alias(
                "settlement_inflow_outflow_6m"
            ),
            (
                pl.col("balance_fen").filter(pl.col("lag") == 1).first()
                / (pl.col(outflow).filter(six).mean() + FEN_SMOOTHING)
            ).alias("settlement_balance_cover"),
            (
                pl.col("related_party_transfer_fen").filter(six).sum()
                / (pl.col(outflow).filter(six).sum() + FEN_SMOOTHING)
            ).alias("settlement_related_share_6m"),
            # The margin (net inflow over inflow) falls as soon as a firm slides into distress.
            pl.when(_count_in(1, 1) == 1)
            .then(_margin(_sum_in(inflow, 1, 1), _sum_in(outflow, 1, 1)))
            .alias("settlement_margin_1m"),
            pl.when(_count_in(1, 3) == 3)
            .then(_margin(_sum_in(inflow, 1, 3), _sum_in(outflow, 1, 3)))
            .alias("settlement_margin_3m"),
            pl.when((_count_in(1, 3) == 3) & (_count_in(4, 12) >= 6))
            .then(
                _margin(_sum_in(inflow, 4, 12), _sum_in(outflow, 4, 12))
                - _margin(_sum_in(inflow, 1, 3), _sum_in(outflow, 1, 3))
            )
            .alias("settlement_margin_drop"),
            (pl.col("related_party_transfer_fen") > 0)
            .filter(pl.col("lag") <= 3)
            .sum()
            .cast(pl.Float64)
            .alias("settlement_related_months_3m"),
            pl.when((_count_in(1, 1) == 1) & (_count_in(4, 4) == 1))
            .then(_log_ratio(_sum_in("balance_fen", 1, 1), _sum_in("balance_fen", 4, 4)))
            .alias("settlement_balance_trend_3m"),
            pl.col("_negative")
            .filter(six)
            .sum()
            .cast(pl.Float64)
            .alias("settlement_negative_months_6m"),
            # Months in a row, back from the latest, paying out more than came in: the length
            # of a decline so far.
            pl.col("_negative")
            .sort_by("lag")
            .cast(pl.Float64)
            .cum_prod()
            .sum()
            .alias("settlement_negative_run"),
            pl.col("_heavy_related")
            .filter(six)
            .sum()
            .cast(pl.Float64)
            .alias("settlement_heavy_related_months_6m"),
        )
    )


def _margin(inflow: pl.Expr, outflow: pl.Expr) -> pl.Expr:
    return (inflow - outflow) / (inflow + FEN_SMOOTHING)


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
        pl.col("case_id")
        .filter((pl.col("event") == "filed") & (pl.col("lag") <= 6))
        .n_unique()
        .cast(pl.Float64)
        .alias("court_cases_filed_6m"),
        pl.col("case_id")
        .filter((pl.col("event") == "filed") & (pl.col("lag") <= HISTORY_MONTHS))
        .n_unique()
        .cast(pl.Float64)
        .alias("court_cases_filed_36m"),
    )


def _bureau(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    last = pl.col("lag") == 1
    six = pl.col("lag") <= 6
    return (
        _known(tables[BUREAU], as_of)
        .filter(pl.col("lag") <= HISTORY_MONTHS)
        .with_columns(pl.col("other_lender_balance_fen").cast(pl.Float64))
        .group_by("uscc")
        .agg(
            pl.col("overdue_loans")
            .filter(last)
            .first()
            .cast(pl.Float64)
            .alias("bureau_overdue_loans"),
            pl.col("max_days_past_due")
            .filter(six)
            .max()
            .cast(pl.Float64)
            .alias("bureau_max_dpd_6m"),
            pl.col("hard_enquiries")
            .filter(six)
            .sum()
            .cast(pl.Float64)
            .alias("bureau_enquiries_6m"),
            pl.col("hard_enquiries")
            .filter(last)
            .sum()
            .cast(pl.Float64)
            .alias("bureau_enquiries_1m"),
            pl.col("hard_enquiries")
            .filter(pl.col("lag") <= 3)
            .sum()
            .cast(pl.Float64)
            .alias("bureau_enquiries_3m"),
            # Loans taken on recently: last month's count above the year's lowest.
            (
                pl.col("other_lender_loans").filter(last).first()
                - pl.col("other_lender_loans").filter(pl.col("lag") <= 12).min()
            )
            .cast(pl.Float64)
            .alias("bureau_new_loans_12m"),
            (pl.col("overdue_loans") > 0)
            .filter(pl.col("lag") <= 3)
            .sum()
            .cast(pl.Float64)
            .alias("bureau_overdue_months_3m"),
            (pl.col("overdue_loans") > 0).cast(pl.Float64).mean().alias("bureau_overdue_rate"),
            pl.col("other_lender_balance_fen").filter(last).first().alias("_bureau_balance"),
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
        _log_ratio(100.0 * pl.col("_kwh_12m"), pl.col("_sales_12m")).alias("electricity_per_sales"),
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
            _log_ratio(pl.col("requested_amount_fen").cast(pl.Float64), monthly_sales_fen).alias(
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


def add_months(day: date, months: int) -> date:
    index = month_index(day) + months
    return date(index // 12, index % 12 + 1, 1)


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
                pl.col("origination_month") >= add_months(first_month, warm_up_months)
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
