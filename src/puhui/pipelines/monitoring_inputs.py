"""Monitoring inputs (贷后监控输入): one month's trigger inputs and behavioural PD per customer.

The monitoring run's measured core. For a month ``M`` it computes, for every customer, each
input of :data:`puhui.decision.triggers.MONITORING_INPUTS` from the data known at ``M``'s end,
with the feature store's kernels (:func:`puhui.risk.features.compute_features`, through
:func:`puhui.risk.behaviour.behaviour_features` — the same code, not a copy), a chunk of
enterprises at a time, so memory holds one chunk. Then :func:`evaluate_alerts` runs the trigger
document over the inputs and forms one alert per customer (severity = the highest signal).

A database monitoring run calls :func:`monitoring_inputs` with its customers (``uscc`` plus the
platform's own facts, e.g. ``days_past_due`` and ``origination_pd`` from servicing) and a
loaded behavioural model, and :func:`evaluate_alerts` on the result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import polars as pl

from puhui.decision.triggers import MONITORING_INPUTS, CompiledTriggers
from puhui.domain.monitoring.alerts import Severity
from puhui.graph.distress import public_status
from puhui.graph.features import month_facts
from puhui.pipelines.engines import DEFAULT_CHUNK_SIZE, Engine, LocalEngine
from puhui.risk.behaviour import BehaviouralModel, behaviour_features
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import (
    APPLICATIONS,
    CORE_ENTERPRISES,
    ENTERPRISES,
    FEATURE_TABLES,
    LOAN_HISTORY,
    OWNERS,
    TAX_MONTHLY,
    MarketTables,
    month_start_plus,
)
from puhui.risk.features.windows import known

logger = logging.getLogger(__name__)

GUARANTEES = "guarantees"
"""The market's guarantee relations (guarantor -> borrower), optional."""
ACTIVE_MONTHS = 3
"""A market enterprise is a customer while it filed tax in one of these last months."""

INPUT_SCHEMA: dict[str, pl.DataType] = {
    "declared_sales_yoy_change": pl.Float64(),
    "tax_grade": pl.String(),
    "tax_grade_previous": pl.String(),
    "tax_late_filings_12m": pl.Int64(),
    "tax_arrears_fen": pl.Int64(),
    "court_cases_new_as_defendant": pl.Int64(),
    "enforcement_listed": pl.Boolean(),
    "overdue_accounts_other_lenders": pl.Int64(),
    "credit_enquiries_other_lenders_90d": pl.Int64(),
    "electricity_yoy_change": pl.Float64(),
    "settlement_inflow_change_3m": pl.Float64(),
    "guarantor_in_default": pl.Boolean(),
    "guarantee_circle_members_in_default": pl.Int64(),
    "guaranteed_party_defaulted": pl.Boolean(),
    "main_trade_partner_defaulted": pl.Boolean(),
    "guarantee_circle_distressed_share": pl.Float64(),
    "guarantee_circle_exposure_fen": pl.Int64(),
    "contagion_score": pl.Float64(),
    "behavioural_pd": pl.Float64(),
    "origination_pd": pl.Float64(),
    "days_past_due": pl.Int64(),
    "fund_use_diverted_share": pl.Float64(),
    "industry_prosperity_index": pl.Float64(),
    "industry_prosperity_index_previous": pl.Float64(),
    "industry_prosperity_change_3m": pl.Float64(),
    "region_prosperity_index": pl.Float64(),
    "region_prosperity_index_previous": pl.Float64(),
    "region_prosperity_change_3m": pl.Float64(),
}
"""Every monitoring input, in the order of ``MONITORING_INPUTS``, with the type the trigger
document declares for it (a test compares them)."""

ALERT_SCHEMA: dict[str, pl.DataType] = {
    "customer_id": pl.String(),
    "severity": pl.String(),
    "codes": pl.String(),
    "behavioural_pd": pl.Float64(),
}


def open_market(market: Path) -> MarketTables:
    """The public tables a monitoring run reads (plus ``guarantees`` when present)."""
    return MarketTables.from_dir(
        market,
        names=(*FEATURE_TABLES, LOAN_HISTORY),
        optional=(APPLICATIONS, GUARANTEES),
    )


def month_of(text: str) -> date:
    """``YYYY-MM`` as the first day of that month."""
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise InvalidTrainingData(f"{text!r} is not a month (YYYY-MM)") from None


def active_enterprises(tables: MarketTables, month: date) -> list[str]:
    """The market's customers in ``month``: registered and filing in its last 3 months."""
    as_of = month_start_plus(month, 1)
    first = month_start_plus(month, -(ACTIVE_MONTHS - 1))
    filing = (
        tables[TAX_MONTHLY].filter(pl.col("month").is_between(first, month)).select("uscc").unique()
    )
    registered = tables[ENTERPRISES].filter(pl.col("registration_date") < as_of).select("uscc")
    return sorted(
        registered.join(filing, on="uscc", how="semi").collect().get_column("uscc").to_list()
    )


def _find(parent: dict[str, str], node: str) -> str:
    root = node
    while parent[root] != root:
        root = parent[root]
    while parent[node] != root:
        parent[node], node = root, parent[node]
    return root


def guarantee_circles(tables: MarketTables, month: date) -> pl.DataFrame:
    """Each enterprise in a guarantee relation started by ``month`` and its guarantee circle
    (互保圈: the connected part of the guarantee graph), named by its smallest USCC so that the
    name is stable from month to month while the circle keeps its members (``uscc,
    guarantee_circle``). Empty without a ``guarantees`` table."""
    schema = {"uscc": pl.String, "guarantee_circle": pl.String}
    if GUARANTEES not in tables.frames:
        return pl.DataFrame(schema=schema)
    edges = (
        tables[GUARANTEES]
        .filter(pl.col("start_month") < month_start_plus(month, 1))
        .select("guarantor_uscc", "borrower_uscc")
        .unique()
        .collect()
    )
    parent: dict[str, str] = {}
    for guarantor, borrower in edges.iter_rows():
        parent.setdefault(guarantor, guarantor)
        parent.setdefault(borrower, borrower)
        a, b = _find(parent, guarantor), _find(parent, borrower)
        if a != b:
            parent[a] = b
    smallest: dict[str, str] = {}
    for node in parent:
        root = _find(parent, node)
        smallest[root] = min(smallest.get(root, node), node)
    nodes = sorted(parent)
    return pl.DataFrame(
        {"uscc": nodes, "guarantee_circle": [smallest[_find(parent, n)] for n in nodes]},
        schema=schema,
    )


def guarantee_exposure(tables: MarketTables, month: date) -> pl.DataFrame:
    """Per enterprise in a guarantee relation started by ``month``: ``guarantor_in_default``
    (one of its guarantors is seen in default) and ``guarantee_circle_members_in_default``
    (other members of its guarantee circle — the connected part of the guarantee graph — seen
    in default). Empty without a ``guarantees`` table."""
    schema = {
        "uscc": pl.String,
        "guarantor_in_default": pl.Boolean,
        "guarantee_circle_members_in_default": pl.Int64,
    }
    if GUARANTEES not in tables.frames:
        return pl.DataFrame(schema=schema)
    as_of = month_start_plus(month, 1)
    edges = (
        tables[GUARANTEES]
        .filter(pl.col("start_month") < as_of)
        .select("guarantor_uscc", "borrower_uscc")
        .unique()
        .collect()
    )
    if edges.height == 0:
        return pl.DataFrame(schema=schema)
    status = public_status(tables.frames, month)
    defaulted = set(status.filter(pl.col("in_default")).get_column("uscc").to_list())
    parent: dict[str, str] = {}
    for guarantor, borrower in edges.iter_rows():
        parent.setdefault(guarantor, guarantor)
        parent.setdefault(borrower, borrower)
        a, b = _find(parent, guarantor), _find(parent, borrower)
        if a != b:
            parent[a] = b
    circle_defaults: dict[str, int] = {}
    for node in parent:
        if node in defaulted:
            root = _find(parent, node)
            circle_defaults[root] = circle_defaults.get(root, 0) + 1
    guarantor_default = {
        borrower for guarantor, borrower in edges.iter_rows() if guarantor in defaulted
    }
    nodes = sorted(parent)
    return pl.DataFrame(
        {
            "uscc": nodes,
            "guarantor_in_default": [node in guarantor_default for node in nodes],
            "guarantee_circle_members_in_default": [
                circle_defaults.get(_find(parent, node), 0) - (1 if node in defaulted else 0)
                for node in nodes
            ],
        },
        schema=schema,
    )


def graph_inputs(tables: MarketTables, month: date) -> pl.DataFrame:
    """The relationship graph's inputs of every enterprise with a guarantee or trade neighbour
    (``puhui.graph.features.month_facts``, point in time): a firm it guarantees, or a main buyer
    or supplier (20 % or more of 12 months' trade), gone into default in the month; its
    guarantee circle's distressed share of the other members and exposure (null outside a
    circle), and the contagion score."""
    facts = month_facts(tables.frames, month)
    in_circle = pl.col("circle_size") >= 2
    return facts.select(
        pl.col("uscc").alias("customer_id"),
        pl.col("guaranteed_defaulted").alias("guaranteed_party_defaulted"),
        pl.col("main_partner_defaulted").alias("main_trade_partner_defaulted"),
        pl.when(in_circle)
        .then(pl.col("circle_distressed_share"))
        .alias("guarantee_circle_distressed_share"),
        pl.when(in_circle)
        .then(pl.col("circle_exposure_fen"))
        .alias("guarantee_circle_exposure_fen"),
        "contagion_score",
    )


def _expm1(column: str) -> pl.Expr:
    """A log ratio of the feature store back to a relative change (ratio minus one)."""
    return pl.col(column).exp() - 1.0


def _materialised(chunk: MarketTables) -> MarketTables:
    """The chunk's rows read once: the feature store's kernels and the behavioural ones scan
    the same tables, and a scan of a large market costs more than the chunk's rows in memory.
    The owners and core-enterprise lists stay lazy (joined through the chunk's enterprises)."""
    lazy = (OWNERS, CORE_ENTERPRISES)
    frames = {
        name: frame if name in lazy else frame.collect().lazy()
        for name, frame in chunk.frames.items()
    }
    return MarketTables(frames)


@dataclass(frozen=True)
class MonitoringTask:
    """The per-customer part of a month's run, as a batch engine's task: the inputs of the
    enterprises of ``tables`` (a partition) that depend on their own rows only. The graph and
    guarantee inputs span enterprises: they stay with the run (:func:`monitoring_inputs`)."""

    month: date
    model: BehaviouralModel | None
    scores: Mapping[str, Callable[[pl.DataFrame], pl.Series]]

    def __call__(self, tables: MarketTables) -> pl.DataFrame:
        return _partition_inputs(tables, self.month, self.model, self.scores)


def _partition_inputs(
    tables: MarketTables,
    month: date,
    model: BehaviouralModel | None,
    scores: Mapping[str, Callable[[pl.DataFrame], pl.Series]],
) -> pl.DataFrame:
    chunk = _materialised(tables)
    as_of = month_start_plus(month, 1)
    features = behaviour_features(chunk, as_of)
    # Arrears in fen as filed last month; the grade at the previous (monthly) run, so that a
    # grade change is an event of the month it appears in, not a state held for a year.
    tax = (
        known(chunk[TAX_MONTHLY], as_of)
        .filter(pl.col("lag") <= 2)
        .group_by("uscc")
        .agg(
            pl.col("arrears_fen").filter(pl.col("lag") == 1).first().cast(pl.Int64)
            .alias("tax_arrears_fen"),
            pl.col("tax_credit_grade").filter(pl.col("lag") == 2).first().cast(pl.String)
            .alias("tax_grade_previous"),
        )
        .collect()
    )  # fmt: skip
    pd = (
        model.predict_pd(features)
        if model is not None
        else pl.Series("behavioural_pd", [None] * features.height, dtype=pl.Float64)
    )
    inputs = features.select(
        pl.col("uscc").alias("customer_id"),
        _expm1("sales_growth_yoy").alias("declared_sales_yoy_change"),
        pl.col("tax_grade").cast(pl.String),
        pl.col("tax_late_filings_12m").round().cast(pl.Int64),
        pl.col("bhv_court_defendant_new_1m")
        .round()
        .cast(pl.Int64)
        .alias("court_cases_new_as_defendant"),
        (pl.col("bhv_court_listed_3m") > 0).alias("enforcement_listed"),
        pl.col("bureau_overdue_loans")
        .round()
        .cast(pl.Int64)
        .alias("overdue_accounts_other_lenders"),
        pl.col("bureau_enquiries_3m")
        .round()
        .cast(pl.Int64)
        .alias("credit_enquiries_other_lenders_90d"),
        _expm1("electricity_growth_3m_yoy").alias("electricity_yoy_change"),
        _expm1("bhv_inflow_3m_vs_prev3m").alias("settlement_inflow_change_3m"),
        pl.col("bhv_loan_dpd_1m").round().cast(pl.Int64).alias("days_past_due"),
    ).with_columns(
        pd.alias("behavioural_pd"), *(score(features).alias(name) for name, score in scores.items())
    )
    return inputs.join(tax.rename({"uscc": "customer_id"}), on="customer_id", how="left")


def monitoring_inputs(
    tables: MarketTables,
    month: date,
    *,
    customers: pl.DataFrame | None = None,
    model: BehaviouralModel | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    scores: Mapping[str, Callable[[pl.DataFrame], pl.Series]] | None = None,
    engine: Engine | None = None,
    market: Path | None = None,
) -> pl.DataFrame:
    """The monitoring inputs of every customer for ``month`` (its first day).

    Contract:

    - **Rows**: one per customer, sorted by ``customer_id`` (= the enterprise's USCC). The
      customers are ``customers["uscc"]`` when given (an enterprise not registered by the
      month's end has no data: every market input is missing, platform facts still apply),
      else every market enterprise registered by the month's end that filed tax in one of its
      last three months (:func:`active_enterprises`).
    - **Columns**: ``customer_id`` then every name of :data:`MONITORING_INPUTS`, typed as the
      trigger document declares them (:data:`INPUT_SCHEMA`); a missing value is null and never
      raises a signal by itself.
    - **Point in time**: only rows of months up to ``month`` are read (the data known at its
      end); loan-history, bureau and court facts of later months never leak in.
    - **Platform facts**: any other column of ``customers`` named like an input (e.g.
      ``days_past_due``, ``origination_pd`` from servicing) replaces the market-derived value
      where it is not null. Without ``origination_pd`` it is missing.
    - **Behavioural PD**: ``model.predict_pd`` on :func:`puhui.risk.behaviour.behaviour_features`
      of the same chunk; null without a model.
    - **Memory**: enterprises are processed ``chunk_size`` at a time, like the feature store.
    - **Engine**: with ``engine`` (and ``market``, the folder ``tables`` views), the
      per-customer inputs run on it (local or Spark, :class:`MonitoringTask`) and the market
      must hold every month up to ``month``; the same result either way.
    - **Other scores**: each of ``scores`` (name -> function of the chunk's behaviour features,
      one value per row) adds a column after the inputs, e.g. a re-scored origination model.
    """
    if month.day != 1:
        raise InvalidTrainingData("the month to monitor must be given by its first day")
    if (engine is None) != (market is None):
        raise InvalidTrainingData("an engine runs over a market folder: give both or neither")
    if customers is not None:
        if "uscc" not in customers.columns:
            raise InvalidTrainingData("the customers frame needs a 'uscc' column")
        usccs = sorted(set(customers.get_column("uscc").drop_nulls().to_list()))
    else:
        usccs = active_enterprises(tables, month)
    without_guarantees = replace(
        tables, frames={k: v for k, v in tables.frames.items() if k != GUARANTEES}
    )
    guarantees = guarantee_exposure(tables, month)
    graph = graph_inputs(tables, month)
    task = MonitoringTask(month, model, dict(scores or {}))
    if engine is None or market is None:
        frames = LocalEngine(chunk_size=chunk_size).map_tables(without_guarantees, task, usccs)
    else:
        frames = engine.map_enterprises(
            market,
            task,
            tables=(*FEATURE_TABLES, LOAN_HISTORY),
            optional=(APPLICATIONS,),
            through=month,
            enterprises=usccs,
        )
    logger.info("monitoring inputs %s: %d customers", month, len(usccs))
    computed = pl.concat(list(frames), how="vertical_relaxed")
    frame = (
        pl.DataFrame({"customer_id": usccs}, schema={"customer_id": pl.String})
        .join(computed, on="customer_id", how="left")
        .join(guarantees.rename({"uscc": "customer_id"}), on="customer_id", how="left")
        .join(graph, on="customer_id", how="left")
    )
    frame = frame.with_columns(
        (
            pl.col(name).cast(dtype)
            if name in frame.columns
            else pl.lit(None, dtype=dtype).alias(name)
        )
        for name, dtype in INPUT_SCHEMA.items()
    )
    if customers is not None:
        facts = [c for c in customers.columns if c in INPUT_SCHEMA]
        if facts:
            platform = customers.select(
                pl.col("uscc").alias("customer_id"),
                *(pl.col(c).cast(INPUT_SCHEMA[c]).alias(f"_platform_{c}") for c in facts),
            ).unique("customer_id", keep="last")
            frame = frame.join(platform, on="customer_id", how="left").with_columns(
                pl.coalesce(pl.col(f"_platform_{c}"), pl.col(c)).alias(c) for c in facts
            )
    extra = [name for name in (scores or {}) if name in frame.columns]
    return frame.select("customer_id", *INPUT_SCHEMA, *extra).sort("customer_id")


_RANK = {s.value: s.rank for s in Severity}


def evaluate_alerts(inputs: pl.DataFrame, triggers: CompiledTriggers) -> pl.DataFrame:
    """The trigger document over the inputs -> one alert per customer with a hit.

    Columns (:data:`ALERT_SCHEMA`): ``customer_id``, ``severity`` (the highest of its
    signals), ``codes`` (its distinct signal codes in document order, joined by ``;``) and
    ``behavioural_pd``. A signal repeated counts once (the alert rule of
    :func:`puhui.domain.monitoring.raise_alerts`).
    """
    hits = triggers.evaluate_frame(inputs.select("customer_id", *MONITORING_INPUTS))
    if hits.height == 0:
        return pl.DataFrame(schema=ALERT_SCHEMA)
    order = {rule_id: index for index, rule_id in enumerate(triggers.signals)}
    alerts = (
        hits.with_columns(
            pl.col("signal_id").replace_strict(order, return_dtype=pl.Int64).alias("_order"),
            pl.col("severity").replace_strict(_RANK, return_dtype=pl.Int64).alias("_rank"),
        )
        .sort("customer_id", "_order")
        .group_by("customer_id", maintain_order=True)
        .agg(
            pl.col("severity").sort_by("_rank").last(),
            pl.col("code").unique(maintain_order=True).str.join(";").alias("codes"),
        )
    )
    return alerts.join(
        inputs.select("customer_id", "behavioural_pd"), on="customer_id", how="left"
    ).select(list(ALERT_SCHEMA))


@dataclass(frozen=True, slots=True)
class MonthRun:
    month: date
    customers: int
    alerts: pl.DataFrame


def monitor_month(
    tables: MarketTables,
    month: date,
    triggers: CompiledTriggers,
    *,
    model: BehaviouralModel | None,
    customers: pl.DataFrame | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    engine: Engine | None = None,
    market: Path | None = None,
) -> MonthRun:
    """Inputs, behavioural PD, triggers and the alert rule for one month (the per-customer
    part on ``engine`` over ``market`` when given)."""
    inputs = monitoring_inputs(
        tables,
        month,
        customers=customers,
        model=model,
        chunk_size=chunk_size,
        engine=engine,
        market=market,
    )
    return MonthRun(month, inputs.height, evaluate_alerts(inputs, triggers))


def months_between(first: date, last: date) -> list[date]:
    """Every month from ``first`` to ``last`` (first days), inclusive."""
    if last < first:
        raise InvalidTrainingData(f"--to {last:%Y-%m} is before --from {first:%Y-%m}")
    months, month = [], first
    while month <= last:
        months.append(month)
        month = month_start_plus(month, 1)
    return months


__all__ = [
    "ALERT_SCHEMA",
    "DEFAULT_CHUNK_SIZE",
    "INPUT_SCHEMA",
    "MonitoringTask",
    "MonthRun",
    "active_enterprises",
    "evaluate_alerts",
    "graph_inputs",
    "guarantee_exposure",
    "monitor_month",
    "monitoring_inputs",
    "month_of",
    "months_between",
    "open_market",
]
