"""The features' names and reason texts, and where the business expects the risk to go."""

from __future__ import annotations

from puhui.risk.reasons import FeatureLabel

ENTERPRISE_FEATURE_LABELS: dict[str, FeatureLabel] = {
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
FEATURE_NAMES: tuple[str, ...] = tuple(ENTERPRISE_FEATURE_LABELS)
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
FEATURE_LABELS: dict[str, FeatureLabel] = {
    **ENTERPRISE_FEATURE_LABELS,
    **APPLICATION_FEATURE_LABELS,
}

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
