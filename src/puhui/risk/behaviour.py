"""Behavioural PD (行为评分): the 12-month PD of an existing customer, month by month.

The origination model sees an applicant once; a behavioural model scores a customer every month
and reads what changed: trends over 3, 6 and 12 months (sales, electricity, settlement inflow),
repayment behaviour on the book, and new bureau and court events. Its features are the feature
store's enterprise features (:func:`puhui.risk.features.compute_features`, the same code) plus
the behavioural ones defined here, computed from the same lazy market tables and the same
point-in-time windows.

Training is point in time on booked loans: for each observation month ``M`` of a market, the
enterprises with a loan on the book in ``M`` that is not yet 30 days past due are scored with
the data known at the end of ``M``; the label is a default observed in the loan history in the
12 months after ``M`` (90 days past due or written off). Labels come from the public loan
history only, never from ``truth/``: the trainer opens ``tables/`` and nothing else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from puhui.risk.artefact import ModelArtefact, ModelKind, load_artefact, save_artefact
from puhui.risk.dataset import prepare_training
from puhui.risk.errors import InvalidTrainingData, ModelArtefactInvalid
from puhui.risk.features import (
    BUREAU,
    COURT_CASES,
    DEFAULT_DAYS_PAST_DUE,
    LOAN_HISTORY,
    MONOTONE_RISK,
    SETTLEMENT_MONTHLY,
    TAX_MONTHLY,
    UTILITIES_MONTHLY,
    MarketTables,
    compute_features,
    month_start_plus,
)
from puhui.risk.features.windows import count_in, known, log_ratio, sum_in
from puhui.risk.gbm import GbmConfig
from puhui.risk.scorer import scorer_for
from puhui.risk.training import scoring_frame, train_model

BEHAVIOUR_FILE = "behaviour.json"
"""Beside the artefact: marks a directory as a behavioural model and records its sample."""
BEHAVIOUR_FORMAT = "puhui-behaviour-model/1"
HORIZON_MONTHS = 12
DELINQUENT_DAYS = 30
"""A loan this far past due in the observation month is in collections, not in the sample."""
FIRST_OBSERVATION_OFFSET = 15
"""Observation months start this many months after the market's first: yoy windows need 15."""
OBSERVATION_STEP = 1
"""Every month is an observation month (rows of one loan are correlated; more months, more
defaults to learn from)."""

TREND_SOURCES: tuple[tuple[str, str, str], ...] = (
    ("sales", TAX_MONTHLY, "declared_sales_fen"),
    ("kwh", UTILITIES_MONTHLY, "electricity_kwh"),
    ("inflow", SETTLEMENT_MONTHLY, "inflow_fen"),
)
# Window pairs (recent, earlier) in months back: 3 months against the 3 before, against 6 and
# 12 months earlier, and the last month against the year's average.
TREND_WINDOWS: tuple[tuple[str, tuple[int, int], tuple[int, int], float], ...] = (
    ("3m_vs_prev3m", (1, 3), (4, 6), 1.0),
    ("3m_vs_6m_ago", (1, 3), (7, 9), 1.0),
    ("3m_vs_12m_ago", (1, 3), (13, 15), 1.0),
    ("1m_vs_12m", (1, 1), (1, 12), 12.0),
)

BEHAVIOUR_MONOTONE: dict[str, int] = {
    "bhv_loan_dpd_1m": 1,
    "bhv_loan_dpd_max_6m": 1,
    "bhv_loan_overdue_months_12m": 1,
    "bhv_bureau_dpd_1m": 1,
    "bhv_bureau_overdue_1m": 1,
    "bhv_court_defendant_new_1m": 1,
    "bhv_court_defendant_new_3m": 1,
    "bhv_court_listed_3m": 1,
    "bhv_court_listed_12m": 1,
    "bhv_tax_late_1m": 1,
    "bhv_tax_grade_change": 1,
    "bhv_utility_late_1m": 1,
}


def _trend_features(tables: MarketTables, as_of: date) -> list[pl.LazyFrame]:
    parts = []
    for label, table, column in TREND_SOURCES:
        expressions = []
        for name, (a0, a1), (b0, b1), scale in TREND_WINDOWS:
            complete = (count_in(a0, a1) == a1 - a0 + 1) & (count_in(b0, b1) == b1 - b0 + 1)
            expressions.append(
                pl.when(complete)
                .then(log_ratio(scale * sum_in(column, a0, a1), sum_in(column, b0, b1)))
                .alias(f"bhv_{label}_{name}")
            )
        parts.append(
            known(tables[table], as_of)
            .filter(pl.col("lag") <= 15)
            .with_columns(pl.col(column).cast(pl.Float64))
            .group_by("uscc")
            .agg(expressions)
        )
    return parts


def _event_features(tables: MarketTables, as_of: date) -> list[pl.LazyFrame]:
    grade_rank = pl.col("tax_credit_grade").replace_strict(
        {"A": 1.0, "B": 2.0, "M": 3.0, "C": 4.0, "D": 5.0}, default=None, return_dtype=pl.Float64
    )
    tax = (
        known(tables[TAX_MONTHLY], as_of)
        .filter(pl.col("lag") <= 13)
        .group_by("uscc")
        .agg(
            pl.col("late_filing").filter(pl.col("lag") == 1).any().cast(pl.Float64)
            .alias("bhv_tax_late_1m"),
            (
                grade_rank.filter(pl.col("lag") == 1).first()
                - grade_rank.filter(pl.col("lag") == 13).first()
            ).alias("bhv_tax_grade_change"),
            (
                pl.col("arrears_fen").filter(pl.col("lag") == 1).first()
                > pl.col("arrears_fen").filter(pl.col("lag") == 4).first()
            ).cast(pl.Float64).alias("bhv_tax_arrears_rising"),
        )
    )  # fmt: skip
    utilities = (
        known(tables[UTILITIES_MONTHLY], as_of)
        .filter(pl.col("lag") == 1)
        .group_by("uscc")
        .agg(pl.col("late_payment").any().cast(pl.Float64).alias("bhv_utility_late_1m"))
    )
    settlement = (
        known(tables[SETTLEMENT_MONTHLY], as_of)
        .filter(pl.col("lag") <= 6)
        .with_columns(pl.col("balance_fen", "inflow_fen", "outflow_fen").cast(pl.Float64))
        .group_by("uscc")
        .agg(
            log_ratio(
                pl.col("balance_fen").filter(pl.col("lag") == 1).first().clip(0.0),
                pl.col("balance_fen").filter(pl.col("lag") == 4).first().clip(0.0),
            ).alias("bhv_balance_3m_change"),
            (
                (sum_in("inflow_fen", 1, 3) - sum_in("outflow_fen", 1, 3))
                / (sum_in("inflow_fen", 1, 3) + 100.0)
            ).alias("bhv_net_inflow_share_3m"),
        )
    )
    bureau = (
        known(tables[BUREAU], as_of)
        .filter(pl.col("lag") <= 12)
        .group_by("uscc")
        .agg(
            pl.col("max_days_past_due").filter(pl.col("lag") == 1).first().cast(pl.Float64)
            .alias("bhv_bureau_dpd_1m"),
            pl.col("overdue_loans").filter(pl.col("lag") == 1).first().cast(pl.Float64)
            .alias("bhv_bureau_overdue_1m"),
            (
                pl.col("hard_enquiries").filter(pl.col("lag") <= 3).sum().cast(pl.Float64)
                - pl.col("hard_enquiries").filter(pl.col("lag") >= 4).sum().cast(pl.Float64) / 3.0
            ).alias("bhv_bureau_enquiries_3m_excess"),
            (
                pl.col("other_lender_balance_fen").filter(pl.col("lag") == 1).first()
                - pl.col("other_lender_balance_fen").filter(pl.col("lag") == 4).first()
            ).cast(pl.Float64).alias("_balance_change"),
        )
        .with_columns(
            (pl.col("_balance_change").sign() * (pl.col("_balance_change").abs() / 100.0).log1p())
            .alias("bhv_bureau_balance_change_3m")
        )
        .drop("_balance_change")
    )  # fmt: skip
    events = known(tables[COURT_CASES], as_of)
    defendant_filed = (pl.col("role") == "defendant") & (pl.col("event") == "filed")
    listed = pl.col("event").is_in(["executed_listed", "dishonest_listed"])
    court = events.group_by("uscc").agg(
        pl.col("case_id").filter(defendant_filed & (pl.col("lag") == 1)).n_unique()
        .cast(pl.Float64).alias("bhv_court_defendant_new_1m"),
        pl.col("case_id").filter(defendant_filed & (pl.col("lag") <= 3)).n_unique()
        .cast(pl.Float64).alias("bhv_court_defendant_new_3m"),
        (listed & (pl.col("lag") <= 3)).any().cast(pl.Float64).alias("bhv_court_listed_3m"),
        (listed & (pl.col("lag") <= 12)).any().cast(pl.Float64).alias("bhv_court_listed_12m"),
    )  # fmt: skip
    return [tax, utilities, settlement, bureau, court]


def _repayment_features(tables: MarketTables, as_of: date) -> pl.LazyFrame:
    """Repayment behaviour on the book: days past due and months in arrears (none: no loan)."""
    history = known(tables[LOAN_HISTORY], as_of).filter(pl.col("lag") <= 12)
    return history.group_by("uscc").agg(
        pl.col("days_past_due").filter(pl.col("lag") == 1).max().cast(pl.Float64)
        .alias("bhv_loan_dpd_1m"),
        pl.col("days_past_due").filter(pl.col("lag") <= 6).max().cast(pl.Float64)
        .alias("bhv_loan_dpd_max_6m"),
        pl.col("month").filter(pl.col("days_past_due") > 0).n_unique().cast(pl.Float64)
        .alias("bhv_loan_overdue_months_12m"),
    )  # fmt: skip


BEHAVIOUR_ONLY_FEATURES: tuple[str, ...] = (
    *(f"bhv_{label}_{name}" for label, _, _ in TREND_SOURCES for name, *_ in TREND_WINDOWS),
    "bhv_tax_late_1m",
    "bhv_tax_grade_change",
    "bhv_tax_arrears_rising",
    "bhv_utility_late_1m",
    "bhv_balance_3m_change",
    "bhv_net_inflow_share_3m",
    "bhv_bureau_dpd_1m",
    "bhv_bureau_overdue_1m",
    "bhv_bureau_enquiries_3m_excess",
    "bhv_bureau_balance_change_3m",
    "bhv_court_defendant_new_1m",
    "bhv_court_defendant_new_3m",
    "bhv_court_listed_3m",
    "bhv_court_listed_12m",
    "bhv_loan_dpd_1m",
    "bhv_loan_dpd_max_6m",
    "bhv_loan_overdue_months_12m",
)
"""The features a behavioural model reads on top of the feature store's."""

_ZERO_IF_ABSENT = (
    "bhv_court_defendant_new_1m",
    "bhv_court_defendant_new_3m",
    "bhv_court_listed_3m",
    "bhv_court_listed_12m",
)


def behaviour_features(tables: MarketTables, as_of: date) -> pl.DataFrame:
    """Every enterprise registered before ``as_of``: ``uscc``, the feature store's features and
    the behavioural ones, from data of months before ``as_of`` only (``as_of`` = the first day
    of the month after the one being monitored). Pass ``tables.for_enterprises(chunk)`` to
    compute a chunk. Without a loan history the repayment features are missing (no loan)."""
    base = compute_features(tables, as_of)
    frame = base.lazy()
    parts = [*_trend_features(tables, as_of), *_event_features(tables, as_of)]
    if LOAN_HISTORY in tables.frames:
        parts.append(_repayment_features(tables, as_of))
    for part in parts:
        frame = frame.join(part, on="uscc", how="left")
    out = frame.collect()
    missing = [name for name in BEHAVIOUR_ONLY_FEATURES if name not in out.columns]
    out = out.with_columns(pl.lit(None, dtype=pl.Float64).alias(name) for name in missing)
    return out.with_columns(pl.col(_ZERO_IF_ABSENT).fill_null(0.0)).sort("uscc")


def behaviour_sample(
    tables: MarketTables,
    *,
    first_month: date,
    last_month: date,
    horizon_months: int = HORIZON_MONTHS,
    step_months: int = OBSERVATION_STEP,
) -> pl.DataFrame:
    """The labelled sample: one row per enterprise with a performing loan per observation month.

    Observation months run from ``first_month`` to ``last_month`` (first days). A row is an
    enterprise with a loan on the book in ``M`` (current, or overdue by fewer than 30 days); its
    features are known at the end of ``M``; ``bad`` is 1 when any of its loans reaches 90 days
    past due or is written off in the ``horizon_months`` after ``M``. The caller makes sure
    those months are in the loan history (:func:`train_behaviour_model` does).
    """
    if LOAN_HISTORY not in tables.frames:
        raise InvalidTrainingData("a behavioural model is trained on the loan history")
    history = tables[LOAN_HISTORY].select("uscc", "month", "days_past_due", "status")
    is_default = (pl.col("days_past_due") >= DEFAULT_DAYS_PAST_DUE) | (
        pl.col("status") == "written_off"
    )
    parts: list[pl.DataFrame] = []
    month = first_month
    while month <= last_month:
        end = month_start_plus(month, horizon_months)
        on_book = (
            history.filter(
                (pl.col("month") == month)
                & pl.col("status").is_in(["current", "overdue"])
                & (pl.col("days_past_due") < DELINQUENT_DAYS)
            )
            .select("uscc")
            .unique()
        )
        # Already defaulted on another loan: in recovery, not a customer to score.
        defaulted = history.filter((pl.col("month") <= month) & is_default).select("uscc").unique()
        later = (
            history.filter((pl.col("month") > month) & (pl.col("month") <= end))
            .group_by("uscc")
            .agg(is_default.any().cast(pl.Int8).alias("bad"))
        )
        labels = (
            on_book.join(defaulted, on="uscc", how="anti")
            .join(later, on="uscc", how="left")
            .with_columns(pl.col("bad").fill_null(0).cast(pl.Int8))
            .collect()
        )
        if labels.height:
            as_of = month_start_plus(month, 1)
            chunk = tables.for_enterprises(labels.get_column("uscc").to_list())
            features = behaviour_features(chunk, as_of)
            parts.append(
                labels.join(features, on="uscc", how="inner").with_columns(
                    pl.lit(month).alias("observation_month")
                )
            )
        month = month_start_plus(month, step_months)
    if not parts:
        raise InvalidTrainingData("no performing loans in the observation months")
    return pl.concat(parts, how="vertical_relaxed")


@dataclass(frozen=True)
class BehaviouralModel:
    """A trained behavioural model: the artefact and how it was sampled."""

    artefact: ModelArtefact
    info: dict[str, str]

    def predict_pd(self, frame: pl.DataFrame) -> pl.Series:
        """The 12-month PD of each row of ``frame`` (columns of :func:`behaviour_features`)."""
        scorer = scorer_for(self.artefact.model)
        typed = scoring_frame(self.artefact, frame)
        pd = scorer.predict_pd(scorer.matrix(typed)) if frame.height else np.zeros(0)
        return pl.Series("behavioural_pd", np.asarray(pd, dtype=np.float64))

    def save(self, directory: Path) -> None:
        save_artefact(self.artefact, directory)
        document = {"format": BEHAVIOUR_FORMAT, **self.info}
        (directory / BEHAVIOUR_FILE).write_text(
            json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8"
        )


def load_behaviour_model(directory: Path) -> BehaviouralModel:
    """A behavioural model saved by :meth:`BehaviouralModel.save` (refused otherwise)."""
    marker = directory / BEHAVIOUR_FILE
    if not marker.is_file():
        raise ModelArtefactInvalid(
            f"no behavioural model in {directory} (missing {BEHAVIOUR_FILE}); "
            "train one with 'puhui monitor train-model'"
        )
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelArtefactInvalid(f"cannot read {marker}: {exc}") from None
    if not isinstance(info, dict) or info.get("format") != BEHAVIOUR_FORMAT:
        raise ModelArtefactInvalid(f"{marker} is not a behavioural model description")
    artefact = load_artefact(directory)
    return BehaviouralModel(artefact, {k: str(v) for k, v in info.items() if k != "format"})


def _market_months(tables: MarketTables) -> tuple[date, date]:
    span = tables[TAX_MONTHLY].select(
        pl.col("month").min().alias("a"), pl.col("month").max().alias("b")
    )
    first, last = span.collect().row(0)
    if not isinstance(first, date) or not isinstance(last, date):
        raise InvalidTrainingData("the market has no tax filings: no months to learn from")
    return first, last


def market_content_hash(market: Path) -> str:
    """The content hash of a generated market's manifest ("" when there is none)."""
    path = market / "manifest.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return ""
    value = document.get("content_hash") if isinstance(document, dict) else None
    return str(value) if value else ""


def train_behaviour_model(
    market: Path,
    *,
    trained_at: datetime,
    horizon_months: int = HORIZON_MONTHS,
    step_months: int = OBSERVATION_STEP,
    builder: str | None = None,
    out: Path | None = None,
) -> BehaviouralModel:
    """Train a behavioural model on the booked loans of a market folder (``tables/`` only).

    Observation months run from :data:`FIRST_OBSERVATION_OFFSET` months after the market's
    first month to the last month whose ``horizon_months`` outcome the loan history holds.
    Monotone constraints: the feature store's standing ones and :data:`BEHAVIOUR_MONOTONE`.
    """
    tables = MarketTables.from_dir(market)
    first, last = _market_months(tables)
    first_obs = month_start_plus(first, FIRST_OBSERVATION_OFFSET)
    last_obs = month_start_plus(last, -horizon_months)
    if last_obs < first_obs:
        raise InvalidTrainingData(
            f"the market's months {first:%Y-%m}..{last:%Y-%m} are too few: a behavioural model "
            f"needs {FIRST_OBSERVATION_OFFSET} months of history and {horizon_months} of outcomes"
        )
    sample = behaviour_sample(
        tables,
        first_month=first_obs,
        last_month=last_obs,
        horizon_months=horizon_months,
        step_months=step_months,
    )
    prepared = prepare_training(sample, target="bad", id_col="uscc", exclude=["observation_month"])
    kept = {spec.name for spec in prepared.specs}
    monotone = {k: v for k, v in {**MONOTONE_RISK, **BEHAVIOUR_MONOTONE}.items() if k in kept}
    window = {
        "first_observation": f"{first_obs:%Y-%m}",
        "last_observation": f"{last_obs:%Y-%m}",
        "horizon_months": str(horizon_months),
        "step_months": str(step_months),
    }
    artefact = train_model(
        prepared,
        ModelKind.GBM,
        trained_at=trained_at,
        target="bad",
        id_col="uscc",
        gbm_config=GbmConfig(monotone=monotone),
        training_window=window,
        builder=builder,
    )
    model = BehaviouralModel(
        artefact,
        {
            **window,
            "market": str(market),
            "market_content_hash": market_content_hash(market),
            "rows": str(sample.height),
            "bad": str(int(prepared.target.sum())),
            "label": "90+ days past due or written off in the loan history within the horizon",
        },
    )
    if out is not None:
        model.save(out)
    return model


__all__ = [
    "BEHAVIOUR_ONLY_FEATURES",
    "HORIZON_MONTHS",
    "BehaviouralModel",
    "behaviour_features",
    "behaviour_sample",
    "load_behaviour_model",
    "market_content_hash",
    "train_behaviour_model",
]
