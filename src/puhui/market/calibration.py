"""Calibration measures of a generated market against the targets of market-facts.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

from puhui.market import store
from puhui.market.catalog import SPRING_FESTIVAL_MONTH
from puhui.market.params import MarketParams

LEAD_FLAG_YOY = 0.8
"""A month is a warning month when 3-month sales fall below 80% of the same months a year
earlier, or the return is late, or a loan elsewhere is past due."""


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    value: float | None
    low: float
    high: float
    unit: str
    source: str
    checked: bool = True
    """False for figures reported for information (no published range)."""

    @property
    def inside(self) -> bool:
        return self.value is not None and self.low <= self.value <= self.high


def auc(score: npt.ArrayLike, label: npt.ArrayLike) -> float:
    """Area under the ROC curve by the rank-sum (Mann-Whitney) formula; ties share ranks."""
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(label, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    ranks[order] = np.arange(1, len(s) + 1)
    uniq, inverse = np.unique(s, return_inverse=True)
    sums = np.bincount(inverse, weights=ranks, minlength=len(uniq))
    counts = np.bincount(inverse, minlength=len(uniq))
    ranks = (sums / counts)[inverse]
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _month_index(params: MarketParams) -> pl.Expr:
    base = params.start.year * 12 + params.start.month - 1
    return (pl.col("month").dt.year() * 12 + pl.col("month").dt.month() - 1 - base).alias("t")


def default_rates(market_dir: Path, params: MarketParams) -> pl.DataFrame:
    """Per full year of the window: enterprises performing at its start, and defaults in it."""
    ent = store.scan(market_dir, "enterprises_truth")
    monthly = store.scan(market_dir, "monthly_truth").with_columns(_month_index(params))
    base = params.start.year * 12 + params.start.month - 1
    dflt = ent.select(
        "uscc",
        (
            pl.col("default_month").dt.year() * 12 + pl.col("default_month").dt.month() - 1 - base
        ).alias("d"),
    )
    rows = []
    for year in range(params.months // 12):
        t0 = year * 12
        at_start = monthly.filter((pl.col("t") == t0) & ~pl.col("in_default")).select("uscc")
        joined = at_start.join(dflt, on="uscc", how="left").collect()
        d = joined.get_column("d")
        defaults = int(((d >= t0) & (d < t0 + 12)).sum())
        rows.append({"year": year + 1, "performing": joined.height, "defaults": defaults})
    return pl.DataFrame(
        rows, schema={"year": pl.Int64, "performing": pl.Int64, "defaults": pl.Int64}
    )


def seasonality(market_dir: Path, params: MarketParams) -> pl.DataFrame:
    """Declared sales of each industry group per month, as a ratio to that year's mean."""
    ent = store.scan(market_dir, "enterprises").select("uscc", "industry_group")
    shells = store.scan(market_dir, "enterprises_truth").filter(pl.col("is_shell")).select("uscc")
    tax = (
        store.scan(market_dir, "tax_monthly")
        .join(shells, on="uscc", how="anti")
        .join(ent, on="uscc")
        .group_by("industry_group", "month")
        .agg(pl.col("declared_sales_fen").sum().alias("sales"))
        .with_columns(pl.col("month").dt.year().alias("year"))
        .with_columns(
            (pl.col("sales") / pl.col("sales").mean().over("industry_group", "year")).alias(
                "index"
            ),
            pl.col("month").dt.month().alias("calendar_month"),
        )
        .sort("industry_group", "month")
        .collect()
    )
    cny = pl.DataFrame(
        {
            "year": list(SPRING_FESTIVAL_MONTH),
            "cny_month": list(SPRING_FESTIVAL_MONTH.values()),
        },
        schema={"year": pl.Int32, "cny_month": pl.Int8},
    )
    return tax.join(cny, on="year", how="left").with_columns(
        (pl.col("calendar_month") == pl.col("cny_month")).alias("is_cny")
    )


def _festival_ratio(season: pl.DataFrame, groups: list[str], params: MarketParams) -> float | None:
    # Only full calendar years count: a partial year's mean would bias the ratio.
    full_years = [
        y
        for y in range(params.start.year, params.start.year + params.months // 12 + 1)
        if date(y, 1, 1) >= params.start and params.month_date(params.months - 1) >= date(y, 12, 1)
    ]
    rows = season.filter(
        pl.col("industry_group").is_in(groups) & pl.col("is_cny") & pl.col("year").is_in(full_years)
    )
    if rows.is_empty():
        return None
    return float(rows.get_column("index").mean())  # type: ignore[arg-type]


def lead_times(market_dir: Path, params: MarketParams) -> pl.DataFrame:
    """For each defaulter with 15 months of history: consecutive warning months before default."""
    base = params.start.year * 12 + params.start.month - 1
    ent = (
        store.scan(market_dir, "enterprises_truth")
        .filter(pl.col("default_month").is_not_null() & ~pl.col("is_shell"))
        .select(
            "uscc",
            (
                pl.col("default_month").dt.year() * 12
                + pl.col("default_month").dt.month()
                - 1
                - base
            ).alias("d"),
        )
        .filter((pl.col("d") >= 15) & (pl.col("d") < params.months))
    )
    tax = store.scan(market_dir, "tax_monthly").join(ent, on="uscc", how="semi")
    bureau = store.scan(market_dir, "bureau").select("uscc", "month", "overdue_loans")
    return (
        tax.join(bureau, on=["uscc", "month"])
        .join(ent, on="uscc")
        .with_columns(_month_index(params))
        .sort("uscc", "month")
        .with_columns(
            pl.col("declared_sales_fen").rolling_sum(3).over("uscc").alias("s3"),
        )
        .with_columns(pl.col("s3").shift(12).over("uscc").alias("s3_ly"))
        .with_columns(
            (
                (pl.col("s3") < LEAD_FLAG_YOY * pl.col("s3_ly"))
                | pl.col("late_filing")
                | (pl.col("overdue_loans") > 0)
            )
            .fill_null(False)
            .alias("flag")
        )
        .filter((pl.col("t") < pl.col("d")) & (pl.col("t") >= pl.col("d") - 12))
        .sort("uscc", "t", descending=[False, True])
        .with_columns(pl.col("flag").cast(pl.Int32).cum_prod().over("uscc").alias("run"))
        .group_by("uscc")
        .agg(pl.col("run").sum().alias("lead_months"))
        .collect()
    )


def signals_around_default(market_dir: Path, params: MarketParams) -> pl.DataFrame:
    """Average observable signals of defaulters by month relative to their default month.

    Sales and electricity are ratios to the firm's own mean 13-18 months before default
    (seasonality left in); the rest are shares of firms showing the signal.
    """
    base = params.start.year * 12 + params.start.month - 1
    ent = (
        store.scan(market_dir, "enterprises_truth")
        .filter(pl.col("default_month").is_not_null() & ~pl.col("is_shell"))
        .select(
            "uscc",
            (
                pl.col("default_month").dt.year() * 12
                + pl.col("default_month").dt.month()
                - 1
                - base
            ).alias("d"),
        )
    )
    keys = ["uscc", "month"]
    frame = (
        store.scan(market_dir, "tax_monthly")
        .select(*keys, "declared_sales_fen", "late_filing")
        .join(ent, on="uscc")
        .join(store.scan(market_dir, "utilities_monthly").select(*keys, "electricity_kwh"), on=keys)
        .join(
            store.scan(market_dir, "bureau").select(*keys, "overdue_loans", "hard_enquiries"),
            on=keys,
        )
        .with_columns(_month_index(params))
        .with_columns((pl.col("t") - pl.col("d")).alias("rel"))
        .filter(pl.col("rel").is_between(-18, 2))
    )
    norm = (
        frame.filter(pl.col("rel").is_between(-18, -13))
        .group_by("uscc")
        .agg(
            pl.col("declared_sales_fen").mean().alias("sales0"),
            pl.col("electricity_kwh").mean().alias("kwh0"),
        )
        .filter((pl.col("sales0") > 0) & (pl.col("kwh0") > 0))
    )
    return (
        frame.join(norm, on="uscc")
        .filter(pl.col("rel") >= -12)
        .group_by("rel")
        .agg(
            (pl.col("declared_sales_fen") / pl.col("sales0")).mean().alias("sales_ratio"),
            (pl.col("electricity_kwh") / pl.col("kwh0")).mean().alias("electricity_ratio"),
            pl.col("late_filing").mean().alias("late_filing_share"),
            (pl.col("overdue_loans") > 0).mean().alias("overdue_share"),
            pl.col("hard_enquiries").mean().alias("enquiries"),
            pl.len().alias("firms"),
        )
        .sort("rel")
        .collect()
    )


def oracle_auc(market_dir: Path, params: MarketParams) -> tuple[float, int, int]:
    """AUC of the true 12-month PD against realised default in the next 12 months.

    Pooled over every month t with a full 12-month outcome window, performing firms only.
    """
    base = params.start.year * 12 + params.start.month - 1
    dflt = store.scan(market_dir, "enterprises_truth").select(
        "uscc",
        (
            pl.col("default_month").dt.year() * 12 + pl.col("default_month").dt.month() - 1 - base
        ).alias("d"),
    )
    last = params.months - 13
    if last < 0:
        return float("nan"), 0, 0
    frame = (
        store.scan(market_dir, "monthly_truth")
        .with_columns(_month_index(params))
        .filter((pl.col("t") <= last) & (pl.col("t") % 6 == 0) & ~pl.col("in_default"))
        .join(dflt, on="uscc", how="left")
        .with_columns(
            ((pl.col("d") > pl.col("t")) & (pl.col("d") <= pl.col("t") + 12))
            .fill_null(False)
            .alias("y")
        )
        .select("pd_12m", "y")
        .collect()
    )
    y = frame.get_column("y").to_numpy()
    return auc(frame.get_column("pd_12m").to_numpy(), y), int(y.sum()), frame.height


def measure(market_dir: Path | str) -> tuple[list[Target], dict[str, pl.DataFrame]]:
    """Every calibration target with its generated value, plus the frames behind the charts."""
    market_dir = Path(market_dir)
    params = store.read_parameters(market_dir)
    ent = (
        store.scan(market_dir, "enterprises")
        .join(
            store.scan(market_dir, "enterprises_truth").filter(pl.col("is_shell")).select("uscc"),
            on="uscc",
            how="anti",
        )
        .collect()
    )
    n = max(ent.height, 1)
    mix = (
        ent.group_by("industry_group")
        .agg(pl.len().alias("n"))
        .with_columns((pl.col("n") / n).alias("share"))
    )
    share = dict(zip(mix["industry_group"].to_list(), mix["share"].to_list(), strict=True))
    rates = default_rates(market_dir, params)
    performing = int(rates["performing"].sum())
    annual = int(rates["defaults"].sum()) / performing if performing else None
    apps = store.scan(market_dir, "applications").join(
        store.scan(market_dir, "applications_truth"), on="application_id"
    )
    app_stats = apps.select(
        pl.len().alias("n"),
        pl.col("is_fraud").mean().alias("fraud"),
        pl.col("is_packaged").mean().alias("packaged"),
        pl.col("is_fraud").filter(pl.col("channel") == "intermediary").mean().alias("fraud_int"),
    ).collect()
    season = seasonality(market_dir, params)
    leads = lead_times(market_dir, params)
    lead_median = float(leads["lead_months"].median()) if leads.height else None  # type: ignore[arg-type]
    auc_value, _, _ = oracle_auc(market_dir, params)
    micro = float((ent["size_band"] == "micro").mean())  # type: ignore[arg-type]
    company = float((ent["legal_form"] == "company").mean())  # type: ignore[arg-type]
    loans = store.scan(market_dir, "loan_history")
    loan_bad = (
        loans.group_by("loan_id")
        .agg((pl.col("days_past_due") >= 90).any().alias("bad"))
        .select(pl.col("bad").mean())
        .collect()
        .item()
    )

    def val(value: object) -> float | None:
        return None if value is None else float(value)  # type: ignore[arg-type]

    targets = [
        Target(
            "annual_default_rate",
            "Annual default rate (performing at year start)",
            annual,
            0.02,
            0.035,
            "%",
            "s7: national 普惠 about 2-3.5%",
        ),
        Target(
            "share_wholesale_retail",
            "Industry mix: wholesale + retail",
            share.get("wholesale", 0.0) + share.get("retail", 0.0),
            0.35,
            0.40,
            "%",
            "s7: 35-40%",
        ),
        Target(
            "share_manufacturing",
            "Industry mix: manufacturing",
            share.get("manufacturing", 0.0),
            0.25,
            0.45,
            "%",
            "s7: 25-45%",
        ),
        Target(
            "share_construction",
            "Industry mix: construction",
            share.get("construction", 0.0),
            0.05,
            0.10,
            "%",
            "s7: 5-10%",
        ),
        Target(
            "share_micro", "Size bands: micro share", micro, 0.70, 0.80, "%", "s7: about 70-80%"
        ),
        Target(
            "share_company",
            "Legal form: companies (vs individual businesses)",
            company,
            0.27,
            0.36,
            "%",
            "s7 / SAMR 2023: 1 : 2.2",
        ),
        Target(
            "fraud_share_applications",
            "Fraud share of applications",
            val(app_stats["fraud"][0]),
            0.01,
            0.03,
            "%",
            "s3.1 / s7: 1-3%",
        ),
        Target(
            "fraud_share_intermediary",
            "Fraud share in the intermediary channel",
            val(app_stats["fraud_int"][0]),
            0.10,
            0.40,
            "%",
            "s3.1: 10%+ in packaged channels",
        ),
        Target(
            "seasonality_industrial",
            "Spring Festival month sales, manufacturing/wholesale",
            _festival_ratio(season, ["manufacturing", "wholesale"], params),
            0.55,
            0.80,
            "x",
            "s2.4: Feb about 0.6-0.7 of normal",
        ),
        Target(
            "seasonality_consumer",
            "Spring Festival month sales, retail/catering",
            _festival_ratio(season, ["retail", "catering"], params),
            1.15,
            1.45,
            "x",
            "s2.4: festival month about 1.2-1.4",
        ),
        Target(
            "signal_lead_months",
            "Median warning lead before default",
            lead_median,
            3.0,
            6.0,
            "months",
            "s4.2: signals 3-6 months before default",
        ),
        Target(
            "oracle_auc",
            "Oracle AUC (true PD vs default in 12 months)",
            auc_value,
            0.75,
            0.97,
            "",
            "s4.2: public-data LightGBM reached 0.92; the ceiling sits above",
        ),
        Target(
            "packaged_share_applications",
            "Packaged share of applications",
            val(app_stats["packaged"][0]),
            0.0,
            1.0,
            "%",
            "information",
            checked=False,
        ),
        Target(
            "legacy_bad_rate",
            "Legacy loans ever 90+ days past due",
            val(loan_bad),
            0.0,
            1.0,
            "%",
            "information",
            checked=False,
        ),
    ]
    frames = {
        "default_rates": rates,
        "seasonality": season,
        "lead_times": leads,
        "mix": mix,
        "signals": signals_around_default(market_dir, params),
    }
    return targets, frames
