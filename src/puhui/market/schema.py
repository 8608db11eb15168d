"""The stable contract of a generated market: tables, columns, Polars dtypes, keys, truth split."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

SCHEMA_VERSION = "1.3"
"""Bumped on any incompatible change; additions of columns or tables keep the major number
(1.1 added ``draw_outflows`` and ``truth/draw_use_truth``; 1.2 added
``enterprises_truth.guarantee_circle_id`` and ``round_trip_id`` and
``truth/contagion_events``, and round-trip invoices in ``invoices``; 1.3 added
``environmental_penalties`` and ``truth/environment_truth``)."""

# Conventions every table follows (documented once here, relied on by risk features):
# - ``uscc`` is the enterprise key: an 18-character unified social credit code (GB 32100),
#   valid check character; it is the only enterprise identifier outside ``truth/``.
# - ``month`` is a ``pl.Date`` holding the FIRST day of the calendar month (2023-01-01 for
#   January 2023). Monthly tables have exactly one row per (key, month) while the enterprise
#   is registered and not yet closed: no rows before ``registration_date``'s month, none after
#   the enterprise has closed (closing follows a default by a few months).
# - Money is integer fen (``*_fen``, Int64), never float. Rates are integer basis points.
# - Event tables carry the event's own ``month`` (first day) as well as its exact date, so
#   that generating one month more only appends rows.
# - A table lives in ``<out>/tables/<name>/part-*.parquet``; truth tables in
#   ``<out>/truth/<name>/part-*.parquet``. Read a table with
#   ``pl.scan_parquet(f"{out}/tables/{name}/*.parquet")``. Parts follow enterprise order.


@dataclass(frozen=True)
class Column:
    name: str
    dtype: pl.DataType
    meaning: str
    nullable: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    truth: bool
    meaning: str

    @property
    def folder(self) -> str:
        return f"truth/{self.name}" if self.truth else f"tables/{self.name}"

    def polars_schema(self) -> dict[str, pl.DataType]:
        return {c.name: c.dtype for c in self.columns}

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


STRING = pl.String()
INT32 = pl.Int32()
INT64 = pl.Int64()
FLOAT64 = pl.Float64()
BOOLEAN = pl.Boolean()
DATE = pl.Date()

ENTERPRISES = Table(
    "enterprises",
    (
        Column("uscc", STRING, "unified social credit code, GB 32100, valid check character"),
        Column("name", STRING, "registered name (zh-CN)"),
        Column("legal_form", STRING, "'company' (企业) or 'individual_business' (个体工商户)"),
        Column(
            "industry_code", STRING, "GB/T 4754-2017 division, section letter + 2 digits ('C33')"
        ),
        Column("industry_section", STRING, "GB/T 4754-2017 section letter ('C')"),
        Column(
            "industry_group",
            STRING,
            "manufacturing | wholesale | retail | catering | accommodation | construction | "
            "transport | business_services | it_services | agriculture",
        ),
        Column("region_code", STRING, "GB/T 2260 six-digit administrative division code"),
        Column("registration_date", DATE, "date of business registration"),
        Column("registered_capital_fen", INT64, "registered capital in fen"),
        Column(
            "taxpayer_type", STRING, "VAT status: 'small_scale' (小规模) or 'general' (一般纳税人)"
        ),
        Column("employees", INT32, "declared head count at the start month"),
        Column(
            "size_band",
            STRING,
            "'micro' | 'small' | 'medium' by the SME thresholds (medium: core enterprises)",
        ),
        Column("park", STRING, "industrial park or commercial district name", nullable=True),
        Column("phone", STRING, "registered contact mobile (11 digits); rings share them"),
        Column("address", STRING, "registered address (zh-CN); rings share them"),
        Column("settlement_account", STRING, "main settlement account number"),
        Column("legal_rep_id_number", STRING, "ID number of the legal representative (owners key)"),
    ),
    key=("uscc",),
    truth=False,
    meaning="one row per enterprise in the market (static registry data)",
)

OWNERS = Table(
    "owners",
    (
        Column("id_number", STRING, "resident ID number, GB 11643, valid check character"),
        Column("name", STRING, "person's name (zh-CN)"),
        Column("gender", STRING, "'M' or 'F', consistent with the ID number's 17th digit"),
        Column("birth_date", DATE, "birth date, consistent with the ID number"),
        Column("age_years", INT32, "age in whole years on the first day of the start month"),
        Column(
            "education",
            STRING,
            "primary | junior_high | senior_high | college | bachelor | postgraduate",
        ),
        Column("years_in_trade", INT32, "years of experience in the enterprise's trade"),
        Column("phone", STRING, "personal mobile (11 digits)"),
        Column("enterprises_represented", INT32, "enterprises in this market with this legal rep"),
    ),
    key=("id_number",),
    truth=False,
    meaning="legal representatives (法人代表); one row per distinct person",
)

TAX_MONTHLY = Table(
    "tax_monthly",
    (
        Column("uscc", STRING, "enterprise"),
        Column("month", DATE, "first day of the month"),
        Column("declared_sales_fen", INT64, "VAT-declared sales of the month, tax exclusive"),
        Column("vat_payable_fen", INT64, "VAT due for the month"),
        Column("vat_exempt", BOOLEAN, "small-scale taxpayer under the RMB 100k monthly exemption"),
        Column("late_filing", BOOLEAN, "the return for this month was filed late or not at all"),
        Column("arrears_fen", INT64, "unpaid tax outstanding at month end"),
        Column("tax_credit_grade", STRING, "A | B | M | C | D: latest annual grade (M = new firm)"),
    ),
    key=("uscc", "month"),
    truth=False,
    meaning=(
        "monthly VAT filings; small-scale taxpayers: exempt at <= RMB 100,000 monthly sales, "
        "else 1% (MOF/STA 2023 No. 19); general taxpayers: 13% on value added"
    ),
)

INVOICES = Table(
    "invoices",
    (
        Column("seller_uscc", STRING, "issuing enterprise"),
        Column("buyer_uscc", STRING, "receiving enterprise"),
        Column("month", DATE, "first day of the month"),
        Column("amount_fen", INT64, "total tax-exclusive amount of valid invoices"),
        Column("invoice_count", INT32, "number of invoices issued"),
        Column("voided_count", INT32, "invoices voided (作废)"),
        Column("red_letter_count", INT32, "red-letter (红字) credit notes"),
    ),
    key=("seller_uscc", "buyer_uscc", "month"),
    truth=False,
    meaning="monthly seller->buyer VAT invoice aggregates (the supply-chain graph)",
)

UTILITIES_MONTHLY = Table(
    "utilities_monthly",
    (
        Column("uscc", STRING, "enterprise"),
        Column("month", DATE, "first day of the month"),
        Column("electricity_kwh", INT64, "electricity used in the month, kWh"),
        Column("water_tonnes", INT64, "water used in the month, tonnes"),
        Column("late_payment", BOOLEAN, "the utility bill of the month was paid late"),
    ),
    key=("uscc", "month"),
    truth=False,
    meaning="monthly electricity and water use",
)

SETTLEMENT_MONTHLY = Table(
    "settlement_monthly",
    (
        Column("uscc", STRING, "enterprise"),
        Column("month", DATE, "first day of the month"),
        Column("inflow_fen", INT64, "credits to the settlement account in the month"),
        Column("outflow_fen", INT64, "debits from the settlement account in the month"),
        Column("balance_fen", INT64, "month-end balance (never negative)"),
        Column("counterparties", INT32, "distinct counterparties in the month"),
        Column("related_party_transfer_fen", INT64, "outflows to related parties in the month"),
    ),
    key=("uscc", "month"),
    truth=False,
    meaning="monthly settlement-account flows",
)

COURT_CASES = Table(
    "court_cases",
    (
        Column("case_id", STRING, "case number, stable across events of the case"),
        Column("uscc", STRING, "enterprise party to the case"),
        Column("event_date", DATE, "date of this event"),
        Column("month", DATE, "first day of the event's month"),
        Column(
            "event",
            STRING,
            "'filed' | 'closed' | 'executed_listed' (被执行人) | 'dishonest_listed' (失信)",
        ),
        Column("role", STRING, "'defendant' or 'plaintiff'"),
        Column(
            "case_type", STRING, "contract_dispute | loan_dispute | labour_dispute | sales_dispute"
        ),
        Column("amount_fen", INT64, "amount in dispute"),
    ),
    key=("case_id", "event"),
    truth=False,
    meaning="court events, one row per event of a case (filing, listings, closing)",
)

BUREAU = Table(
    "bureau",
    (
        Column("uscc", STRING, "enterprise"),
        Column("month", DATE, "first day of the month"),
        Column("other_lender_loans", INT32, "loans outstanding at other lenders, month end"),
        Column("other_lender_balance_fen", INT64, "balance outstanding at other lenders"),
        Column("overdue_loans", INT32, "of those, loans past due at month end"),
        Column("max_days_past_due", INT32, "worst days past due at other lenders, month end"),
        Column("hard_enquiries", INT32, "credit enquiries by lenders during the month"),
    ),
    key=("uscc", "month"),
    truth=False,
    meaning="monthly credit-bureau summary of the enterprise's borrowing elsewhere",
)

GUARANTEES = Table(
    "guarantees",
    (
        Column("guarantor_uscc", STRING, "enterprise giving the guarantee"),
        Column("borrower_uscc", STRING, "enterprise whose borrowing is guaranteed"),
        Column("start_month", DATE, "first month the guarantee is in force"),
        Column("amount_fen", INT64, "guaranteed amount"),
    ),
    key=("guarantor_uscc", "borrower_uscc"),
    truth=False,
    meaning="guarantee links, including mutual-guarantee circles (互保圈)",
)

APPLICATIONS = Table(
    "applications",
    (
        Column("application_id", STRING, "application number"),
        Column("uscc", STRING, "applying enterprise"),
        Column("month", DATE, "first day of the application month"),
        Column("application_date", DATE, "date of the application"),
        Column("legal_rep_id_number", STRING, "ID number of the applying legal representative"),
        Column("phone", STRING, "mobile given on the application"),
        Column("device_id", STRING, "device fingerprint of the applying phone"),
        Column("ip_address", STRING, "IPv4 address of the session"),
        Column("channel", STRING, "'qr' | 'branch' | 'partner' | 'intermediary'"),
        Column("requested_amount_fen", INT64, "amount requested"),
        Column("requested_term_months", INT32, "term requested, months"),
    ),
    key=("application_id",),
    truth=False,
    meaning="credit applications the market sends a bank, driven by true funding need",
)

LOAN_HISTORY = Table(
    "loan_history",
    (
        Column("loan_id", STRING, "legacy lender's loan number"),
        Column("uscc", STRING, "borrower"),
        Column("month", DATE, "first day of the reporting month"),
        Column("application_id", STRING, "the application it came from"),
        Column("origination_month", DATE, "first day of the month of disbursement"),
        Column("principal_fen", INT64, "amount disbursed"),
        Column("term_months", INT32, "contractual term"),
        Column("annual_rate_bp", INT32, "annual interest rate, basis points"),
        Column("balance_fen", INT64, "principal outstanding at month end"),
        Column("days_past_due", INT32, "days past due at month end"),
        Column("status", STRING, "'current' | 'overdue' | 'repaid' | 'written_off'"),
    ),
    key=("loan_id", "month"),
    truth=False,
    meaning=(
        "loans at a legacy lender with monthly repayment status (observed outcomes); "
        "a loan has rows from its origination month until repaid or written off"
    ),
)

COUNTERPARTY_TYPES: tuple[str, ...] = (
    "suppliers",
    "wages_tax",
    "related_owner",
    "securities_real_estate",
    "other_lenders",
)
"""Counterparty types of settlement-account debits in ``draw_outflows`` (in this order)."""

DRAW_OUTFLOWS = Table(
    "draw_outflows",
    (
        Column("application_id", STRING, "the application whose money was drawn"),
        Column(
            "loan_id",
            STRING,
            "the legacy lender's loan when it granted the application (loan_history)",
            nullable=True,
        ),
        Column("uscc", STRING, "drawing enterprise"),
        Column("draw_date", DATE, "date the proceeds reached the settlement account"),
        Column(
            "draw_amount_fen",
            INT64,
            "amount drawn: the legacy loan's principal, else the amount requested",
        ),
        Column(
            "month",
            DATE,
            "first day of the month the row is known: the month of the period's last day, "
            "or the draw's month for periods before the draw",
        ),
        Column(
            "days_from_draw",
            INT32,
            "first day of the 10-day period relative to the draw day: -30, -20, ..., 50",
        ),
        Column("counterparty_type", STRING, " | ".join(COUNTERPARTY_TYPES)),
        Column(
            "amount_fen",
            INT64,
            "debits of the settlement account to that counterparty type in the period: "
            "the business's usual payments plus what it spent of the drawn money",
        ),
    ),
    key=("application_id", "days_from_draw", "counterparty_type"),
    truth=False,
    meaning=(
        "settlement-account debits by counterparty type in 10-day periods from 30 days "
        "before to 60 days after each draw (资金流向); periods outside the observed "
        "window are absent"
    ),
)

# ---- truth: only evaluation may read these ------------------------------------------------

TRUTH_ENTERPRISES = Table(
    "enterprises_truth",
    (
        Column("uscc", STRING, "enterprise"),
        Column("enterprise_index", INT64, "position in the generator's index space"),
        Column("default_month", DATE, "month of the credit default (first day)", nullable=True),
        Column("distress_onset_month", DATE, "month the pre-default decline began", nullable=True),
        Column("lead_months", INT32, "default_month - distress_onset_month", nullable=True),
        Column("close_month", DATE, "month after which no rows exist", nullable=True),
        Column("fraud_ring_id", STRING, "fraud ring the enterprise belongs to", nullable=True),
        Column("is_shell", BOOLEAN, "registered as a shell for a fraud ring"),
        Column("packaging_month", DATE, "month of a packaged application", nullable=True),
        Column("base_health", FLOAT64, "long-run mean of latent health"),
        Column(
            "guarantee_circle_id",
            STRING,
            "mutual-guarantee circle of three the enterprise belongs to (互保圈)",
            nullable=True,
        ),
        Column(
            "round_trip_id",
            STRING,
            "invoice round-trip cycle (循环开票) the enterprise takes part in, if the cycle "
            "starts by the last month of the market",
            nullable=True,
        ),
    ),
    key=("uscc",),
    truth=True,
    meaning="hidden per-enterprise facts (default, fraud, packaging, circles, round trips)",
)

TRUTH_CONTAGION = Table(
    "contagion_events",
    (
        Column("uscc", STRING, "enterprise whose default the contagion shock caused or hastened"),
        Column("month", DATE, "its default month (first day)"),
        Column("source_uscc", STRING, "the partner whose earlier default shocked it"),
        Column(
            "channel",
            STRING,
            "'circle' (a member of its guarantee circle) or 'guarantee' (the borrower of a "
            "one-off guarantee it gave)",
        ),
    ),
    key=("uscc",),
    truth=True,
    meaning=(
        "defaults in the window that come earlier than they would have, or at all, because a "
        "guarantee partner defaulted before them (one row per enterprise at most)"
    ),
)

TRUTH_MONTHLY = Table(
    "monthly_truth",
    (
        Column("uscc", STRING, "enterprise"),
        Column("month", DATE, "first day of the month"),
        Column("latent_health", FLOAT64, "latent health (higher is healthier)"),
        Column("pd_12m", FLOAT64, "true probability of default within the next 12 months"),
        Column("in_distress", BOOLEAN, "in the pre-default decline"),
        Column("in_default", BOOLEAN, "defaulted in this month or earlier"),
        Column("cash_available_fen", INT64, "cash the enterprise can put to new debt service"),
    ),
    key=("uscc", "month"),
    truth=True,
    meaning="hidden monthly state; same rows as the monthly public tables",
)

TRUTH_NEED_EVENTS = Table(
    "need_events",
    (
        Column("need_id", STRING, "funding need"),
        Column("uscc", STRING, "enterprise"),
        Column("month", DATE, "month the need arises"),
        Column("amount_fen", INT64, "cash needed"),
        Column("duration_months", INT32, "how long the money is needed"),
        Column("reason", STRING, "'seasonal_stock' | 'expansion' | 'receivable_gap' | 'distress'"),
    ),
    key=("need_id",),
    truth=True,
    meaning="true funding-need events",
)

TRUTH_APPLICATIONS = Table(
    "applications_truth",
    (
        Column("application_id", STRING, "application"),
        Column("is_fraud", BOOLEAN, "fraudulent application (ring shell)"),
        Column("fraud_ring_id", STRING, "ring behind it", nullable=True),
        Column("is_packaged", BOOLEAN, "packaged by an intermediary (中介包装)"),
        Column("need_id", STRING, "true need behind it, if any", nullable=True),
    ),
    key=("application_id",),
    truth=True,
    meaning="hidden labels of applications",
)

TRUTH_MACRO = Table(
    "macro",
    (
        Column("month", DATE, "first day of the month"),
        Column("factor", STRING, "'macro', 'industry:<group>' or 'region:<code>'"),
        Column("value", FLOAT64, "factor level (0 = neutral, negative = downturn)"),
    ),
    key=("month", "factor"),
    truth=True,
    meaning="common factors driving latent health",
)

TRUTH_DRAW_USE = Table(
    "draw_use_truth",
    (
        Column("application_id", STRING, "the draw (one per application)"),
        Column("uscc", STRING, "enterprise"),
        Column("month", DATE, "first day of the draw's month"),
        Column("draw_date", DATE, "date of the draw"),
        Column("is_misuse", BOOLEAN, "the proceeds were diverted from the business (挪用)"),
        Column(
            "misuse_type",
            STRING,
            "related_owner | securities_real_estate | other_lenders",
            nullable=True,
        ),
        Column(
            "diverted_fen",
            INT64,
            "proceeds paid to related parties and the owner, securities and real estate "
            "or other lenders within 30 days of the draw (clean draws pay some too)",
        ),
        Column("diverted_share", FLOAT64, "diverted_fen over the amount drawn"),
    ),
    key=("application_id",),
    truth=True,
    meaning="hidden use of every draw's proceeds",
)

ENVIRONMENTAL_PENALTIES = Table(
    "environmental_penalties",
    (
        Column(
            "penalty_id",
            STRING,
            "decision number (环罚〔year〕n号) or court case number (民初环n号)",
        ),
        Column("uscc", STRING, "enterprise penalised or sued"),
        Column("decision_date", DATE, "date of the decision or judgment"),
        Column("month", DATE, "first day of the decision's month"),
        Column(
            "source",
            STRING,
            "'administrative' (环保行政处罚 by the ecology and environment bureau) or 'court' "
            "(环境污染责任纠纷 judgment)",
        ),
        Column(
            "violation",
            STRING,
            "air_emission | wastewater | solid_waste | noise | eia_violation (环评违法)",
        ),
        Column("severity", STRING, "'minor' or 'serious' (suspension, large fine)"),
        Column("amount_fen", INT64, "fine or damages in fen"),
    ),
    key=("penalty_id", "uscc"),
    truth=False,
    meaning="environmental penalties and pollution-liability judgments (one row per decision)",
)

TRUTH_ENVIRONMENT = Table(
    "environment_truth",
    (
        Column("uscc", STRING, "enterprise"),
        Column("green_activity", BOOLEAN, "its main business is truly a green one"),
        Column("env_risk", FLOAT64, "hidden environmental-risk latent (higher pollutes more)"),
        Column("is_polluter", BOOLEAN, "env_risk above the polluter threshold"),
        Column("is_green", BOOLEAN, "green_activity and not a polluter: the true green label"),
    ),
    key=("uscc",),
    truth=True,
    meaning="hidden environmental conduct of every registered enterprise",
)

PUBLIC_TABLES: tuple[Table, ...] = (
    ENTERPRISES,
    OWNERS,
    TAX_MONTHLY,
    INVOICES,
    UTILITIES_MONTHLY,
    SETTLEMENT_MONTHLY,
    COURT_CASES,
    BUREAU,
    GUARANTEES,
    APPLICATIONS,
    LOAN_HISTORY,
    DRAW_OUTFLOWS,
    ENVIRONMENTAL_PENALTIES,
)
TRUTH_TABLES: tuple[Table, ...] = (
    TRUTH_ENTERPRISES,
    TRUTH_MONTHLY,
    TRUTH_NEED_EVENTS,
    TRUTH_APPLICATIONS,
    TRUTH_MACRO,
    TRUTH_DRAW_USE,
    TRUTH_CONTAGION,
    TRUTH_ENVIRONMENT,
)
ALL_TABLES: tuple[Table, ...] = PUBLIC_TABLES + TRUTH_TABLES
TABLES: dict[str, Table] = {t.name: t for t in ALL_TABLES}

TRUTH_ONLY_COLUMNS: frozenset[str] = frozenset(
    c.name for t in TRUTH_TABLES for c in t.columns
) - frozenset(c.name for t in PUBLIC_TABLES for c in t.columns)
"""Column names that must never appear in a public table (checked by the tests)."""
